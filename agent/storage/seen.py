"""Papers seen: which paper each reader's digests already had, and on what date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from agent.storage.tables import Tables, by_reader, now

SeenRow = tuple[str, int | None, str]  # (paper id, version, title)


@dataclass(frozen=True)
class SeenPaper:
    id: str
    version: int | None
    digest_date: dt.date


class SeenRows(Tables):
    """`papers_seen` (the single reader) and `reader_papers_seen` (named readers)."""

    def seen_on_other_dates(
        self, ids: Iterable[str], digest_date: dt.date, reader: str = ""
    ) -> dict[str, SeenPaper]:
        """Papers among `ids` already in `reader`'s digest of another date (earlier, or later
        when a past date is built afterwards). Papers of `digest_date` itself are not returned,
        so re-running a date rebuilds that date's digest."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, SeenPaper] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                table, scope, params = by_reader("papers_seen", reader)
                rows = self._db.execute(
                    f"SELECT id, version, digest_date FROM {table} "
                    f"WHERE {scope}id IN ({marks}) AND digest_date != ?",
                    (*params, *chunk, digest_date.isoformat()),
                ).fetchall()
                for pid, version, day in rows:
                    found[pid] = SeenPaper(pid, version, dt.date.fromisoformat(day))
        return found

    def mark_seen(self, papers: Iterable[SeenRow], digest_date: dt.date, reader: str = "") -> int:
        """Record (id, version, title) as digested on `digest_date` for `reader`. A paper belongs
        to the reader's first digest that had it: a later mark keeps that date and only raises
        the version."""
        table, _, params = by_reader("papers_seen", reader)
        columns = ("reader, " if params else "") + "id, version, first_seen, digest_date, title"
        marks = ", ".join("?" * (len(params) + 5))
        conflict = "reader, id" if params else "id"
        rows = [
            (*params, pid, version, now(), digest_date.isoformat(), title)
            for pid, version, title in papers
        ]
        with self.transaction() as db:
            db.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
                f"ON CONFLICT({conflict}) DO UPDATE SET "
                f"version = MAX(COALESCE({table}.version, 0), COALESCE(excluded.version, 0))",
                rows,
            )
        return len(rows)

    def seen_count(self, reader: str = "") -> int:
        table, scope, params = by_reader("papers_seen", reader)
        with self._lock:
            row = self._db.execute(f"SELECT COUNT(*) FROM {table} WHERE {scope}1", params)
            return int(row.fetchone()[0])


__all__ = ["SeenPaper", "SeenRow", "SeenRows"]
