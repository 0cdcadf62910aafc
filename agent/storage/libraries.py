"""Libraries: each library file's (and Zotero's) parsed entries, re-read only on a change."""

from __future__ import annotations

from agent.storage.tables import Tables, now


class LibraryRows(Tables):
    """`library_cache`: (origin, fingerprint, entries JSON)."""

    def cached_library(self, origin: str, fingerprint: str) -> str | None:
        """The parsed entries (JSON) of a library, when its fingerprint is unchanged."""
        with self._lock:
            row = self._db.execute(
                "SELECT entries FROM library_cache WHERE origin = ? AND fingerprint = ?",
                (origin, fingerprint),
            ).fetchone()
        return row[0] if row else None

    def cache_library(self, origin: str, fingerprint: str, entries: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO library_cache (origin, fingerprint, entries, stored_at) "
                "VALUES (?, ?, ?, ?)",
                (origin, fingerprint, entries, now()),
            )


__all__ = ["LibraryRows"]
