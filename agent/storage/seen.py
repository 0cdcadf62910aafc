"""Papers seen: which paper each reader's digests already had, and on what date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from agent.storage.tables import Tables, by_reader, in_lists, now

SeenRow = tuple[str, int | None, str]  # (paper id, version, title)


@dataclass(frozen=True)
class SeenPaper:
    """A paper of an earlier digest: the version known before the digest being built (a
    re-run of the date that listed an update compares with the version before it)."""

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
        and a paper whose update `digest_date` listed comes with the version before it, so
        re-running a date rebuilds that date's digest."""
        found: dict[str, SeenPaper] = {}
        day = digest_date.isoformat()
        with self._lock:
            for chunk, marks in in_lists(ids):
                table, scope, params = by_reader("papers_seen", reader)
                rows = self._db.execute(
                    "SELECT id, CASE WHEN updated_date = ? THEN prior_version ELSE version END, "
                    f"digest_date FROM {table} "
                    f"WHERE {scope}id IN ({marks}) AND digest_date != ?",
                    (day, *params, *chunk, day),
                ).fetchall()
                for pid, version, first in rows:
                    found[pid] = SeenPaper(pid, version, dt.date.fromisoformat(first))
        return found

    def mark_seen(self, papers: Iterable[SeenRow], digest_date: dt.date, reader: str = "") -> int:
        """Record (id, version, title) as digested on `digest_date` for `reader`. A paper belongs
        to the reader's first digest that had it: a later mark keeps that date and only raises
        the version; a higher version marked on another date is that date's update (the
        version before it is kept). No version known counts as v1, as in the selection."""
        table, _, params = by_reader("papers_seen", reader)
        columns = ("reader, " if params else "") + "id, version, first_seen, digest_date, title"
        marks = ", ".join("?" * (len(params) + 5))
        conflict = "reader, id" if params else "id"
        update = (
            f"excluded.version > COALESCE({table}.version, 1) "
            f"AND excluded.digest_date != {table}.digest_date"
        )
        again = f"COALESCE({table}.updated_date, '') = excluded.digest_date"  # a re-run of it
        rows = [
            (*params, pid, version, now(), digest_date.isoformat(), title)
            for pid, version, title in papers
        ]
        with self.transaction() as db:
            db.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
                f"ON CONFLICT({conflict}) DO UPDATE SET "
                f"prior_version = CASE WHEN {update} AND NOT {again} "
                f"THEN {table}.version ELSE {table}.prior_version END, "
                f"updated_date = CASE WHEN {update} "
                f"THEN excluded.digest_date ELSE {table}.updated_date END, "
                f"version = CASE WHEN excluded.version > COALESCE({table}.version, 0) "
                f"THEN excluded.version ELSE {table}.version END",
                rows,
            )
        return len(rows)

    def digested_on(self, ids: Iterable[str], digest_date: dt.date, reader: str = "") -> set[str]:
        """The papers among `ids` that `reader`'s digest of `digest_date` had (as new papers
        or as updates)."""
        found: set[str] = set()
        day = digest_date.isoformat()
        table, scope, params = by_reader("papers_seen", reader)
        with self._lock:
            for chunk, marks in in_lists(ids):
                rows = self._db.execute(
                    f"SELECT id FROM {table} WHERE {scope}id IN ({marks}) "
                    "AND (digest_date = ? OR updated_date = ?)",
                    (*params, *chunk, day, day),
                ).fetchall()
                found.update(pid for (pid,) in rows)
        return found

    def seen_count(self, reader: str = "") -> int:
        table, scope, params = by_reader("papers_seen", reader)
        with self._lock:
            row = self._db.execute(f"SELECT COUNT(*) FROM {table} WHERE {scope}1", params)
            return int(row.fetchone()[0])


__all__ = ["SeenPaper", "SeenRow", "SeenRows"]
