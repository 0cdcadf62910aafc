"""Model answers: every answer by its cache key (model, prompt version, schema, inputs)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agent.storage.tables import Tables, now


@dataclass(frozen=True)
class CachedAnswer:
    answer: str
    usage: dict[str, Any]


class AnswerRows(Tables):
    """`model_cache`."""

    def cached_answer(self, key: str) -> CachedAnswer | None:
        with self._lock:
            row = self._db.execute(
                "SELECT answer, usage FROM model_cache WHERE key = ?", (key,)
            ).fetchone()
        return CachedAnswer(row[0], json.loads(row[1])) if row else None

    def cache_answer(self, key: str, model: str, answer: str, usage: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO model_cache (key, model, created, answer, usage) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, model, now(), answer, json.dumps(usage)),
            )

    def forget_answer(self, key: str) -> None:
        """Drop one answer (a step found it unusable after it validated)."""
        with self.transaction() as db:
            db.execute("DELETE FROM model_cache WHERE key = ?", (key,))

    def cache_size(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM model_cache").fetchone()[0])

    def trim_cache(self, keep: int) -> int:
        """Drop all but the `keep` newest cached answers; returns how many were dropped."""
        with self.transaction() as db:
            cursor = db.execute(
                "DELETE FROM model_cache WHERE key NOT IN "
                "(SELECT key FROM model_cache ORDER BY created DESC, rowid DESC LIMIT ?)",
                (keep,),
            )
            return int(cursor.rowcount or 0)


__all__ = ["AnswerRows", "CachedAnswer"]
