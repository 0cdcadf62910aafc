"""Batches: those submitted to a provider's Batch API and not collected yet."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from agent.storage.tables import Tables, now


@dataclass(frozen=True)
class PendingBatch:
    """A batch submitted to the provider and not collected yet."""

    request_set: str  # the hash of its requests' ids (see summarize.llm.models.batch.lines)
    batch_id: str
    ids: frozenset[str]  # its requests' custom ids


class BatchRows(Tables):
    """`pending_batches`: by request set, with the ids of their requests (a JSON list)."""

    def pending_batches(self, endpoint: str) -> list[PendingBatch]:
        """The batches submitted to `endpoint` and not collected yet, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT request_set, batch_id, ids FROM pending_batches WHERE endpoint = ? "
                "ORDER BY submitted, rowid",
                (endpoint,),
            ).fetchall()
        return [PendingBatch(row[0], row[1], frozenset(json.loads(row[2]))) for row in rows]

    def remember_batch(
        self, request_set: str, endpoint: str, batch_id: str, ids: Iterable[str]
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO pending_batches "
                "(request_set, batch_id, endpoint, ids, submitted) VALUES (?, ?, ?, ?, ?)",
                (request_set, batch_id, endpoint, json.dumps(sorted(ids)), now()),
            )

    def forget_batch(self, request_set: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM pending_batches WHERE request_set = ?", (request_set,))

    def forget_batches_before(self, cutoff: dt.datetime) -> int:
        """Drop batches submitted before `cutoff` (past the provider's completion window)."""
        with self.transaction() as db:
            cursor = db.execute(
                "DELETE FROM pending_batches WHERE submitted < ?",
                (cutoff.astimezone(dt.UTC).isoformat(timespec="seconds"),),
            )
            return int(cursor.rowcount or 0)


__all__ = ["BatchRows", "PendingBatch"]
