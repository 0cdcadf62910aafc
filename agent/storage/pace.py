"""Pace: how many calls a local server needed per call a run planned (re-asks included)."""

from __future__ import annotations

from agent.storage.tables import Tables, now


class PaceRows(Tables):
    """`llm_pace`: (endpoint, model) -> calls per planned call, as the last runs measured."""

    def remembered_calls_per_planned(self, endpoint: str, model: str) -> float | None:
        with self._lock:
            row = self._db.execute(
                "SELECT calls_per_planned FROM llm_pace WHERE endpoint = ? AND model = ?",
                (endpoint, model),
            ).fetchone()
        return float(row[0]) if row else None

    def remember_calls_per_planned(self, endpoint: str, model: str, ratio: float) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO llm_pace (endpoint, model, calls_per_planned, updated) "
                "VALUES (?, ?, ?, ?)",
                (endpoint, model, ratio, now()),
            )


__all__ = ["PaceRows"]
