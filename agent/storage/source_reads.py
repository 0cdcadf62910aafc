"""Source reads: for each digest, the days each source read for it (the runs that finished)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from agent.storage.tables import Tables, now


@dataclass(frozen=True)
class SourceRead:
    """A source's read for one digest: it read the days after `after` (its last good read
    before; None: only the digest date) through `through` (every one of them read)."""

    after: dt.date | None
    through: dt.date


class SourceReadRows(Tables):
    """`source_reads`: (source, digest date) -> the days read for that digest."""

    def last_reads(self, digest_date: dt.date) -> dict[str, dt.date | None]:
        """Each source's last good read before `digest_date`'s digest: the one that digest
        started from when it was built before (a rebuild reads the same days), else the latest
        of an earlier digest."""
        day = digest_date.isoformat()
        with self._lock:
            earlier = self._db.execute(
                "SELECT source, max(read_through) FROM source_reads WHERE digest_date < ? "
                "GROUP BY source",
                (day,),
            ).fetchall()
            again = self._db.execute(
                "SELECT source, read_after FROM source_reads WHERE digest_date = ?", (day,)
            ).fetchall()
        found: dict[str, dt.date | None] = {name: _date(last) for name, last in earlier}
        return found | {name: _date(after) for name, after in again}

    def mark_sources_read(self, digest_date: dt.date, reads: Mapping[str, SourceRead]) -> None:
        with self.transaction() as db:
            for name, read in reads.items():
                db.execute(
                    "INSERT OR REPLACE INTO source_reads "
                    "(source, digest_date, read_after, read_through, updated) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        name,
                        digest_date.isoformat(),
                        read.after.isoformat() if read.after else None,
                        read.through.isoformat(),
                        now(),
                    ),
                )


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


__all__ = ["SourceRead", "SourceReadRows"]
