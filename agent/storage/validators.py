"""HTTP validators: each URL's ETag and Last-Modified, with the body they validate."""

from __future__ import annotations

from agent.storage.tables import Tables, now


class ValidatorRows(Tables):
    """`http_validators`: url -> (etag, last modified, body)."""

    def http_validators(self, url: str) -> tuple[str | None, str | None, bytes | None]:
        with self._lock:
            row = self._db.execute(
                "SELECT etag, last_modified, body FROM http_validators WHERE url = ?", (url,)
            ).fetchone()
        return (row[0], row[1], row[2]) if row else (None, None, None)

    def save_http_validators(
        self, url: str, etag: str | None, last_modified: str | None, body: bytes
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO http_validators (url, etag, last_modified, body, stored_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (url, etag, last_modified, body, now()),
            )


__all__ = ["ValidatorRows"]
