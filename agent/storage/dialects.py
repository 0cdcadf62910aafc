"""Dialects: the structured-output dialect each endpoint and model took."""

from __future__ import annotations

from agent.storage.tables import Tables, now


class DialectRows(Tables):
    """`llm_dialects`: (endpoint, model) -> dialect."""

    def remembered_dialect(self, endpoint: str, model: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT dialect FROM llm_dialects WHERE endpoint = ? AND model = ?",
                (endpoint, model),
            ).fetchone()
        return str(row[0]) if row else None

    def remember_dialect(self, endpoint: str, model: str, dialect: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO llm_dialects (endpoint, model, dialect, updated) "
                "VALUES (?, ?, ?, ?)",
                (endpoint, model, dialect, now()),
            )


__all__ = ["DialectRows"]
