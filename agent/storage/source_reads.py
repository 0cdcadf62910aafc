"""Source reads: the last day each source was read in a run that finished."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from agent.storage.tables import Tables, now


class SourceReadRows(Tables):
    """`source_reads`: source name -> the last day read (every day before it read too)."""

    def sources_read_through(self) -> dict[str, dt.date]:
        with self._lock:
            rows = self._db.execute("SELECT source, read_through FROM source_reads").fetchall()
        return {str(name): dt.date.fromisoformat(day) for name, day in rows}

    def mark_sources_read(self, marks: Mapping[str, dt.date]) -> None:
        """Move each source's day forward (never back: building a past date keeps it)."""
        with self.transaction() as db:
            for name, day in marks.items():
                db.execute(
                    "INSERT INTO source_reads (source, read_through, updated) VALUES (?, ?, ?) "
                    "ON CONFLICT (source) DO UPDATE SET "
                    "read_through = max(read_through, excluded.read_through), "
                    "updated = excluded.updated",
                    (name, day.isoformat(), now()),
                )


__all__ = ["SourceReadRows"]
