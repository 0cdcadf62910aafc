"""Ratings: a reader's thumbs up and down, with the text each paper was rated on."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from agent.storage.tables import Tables, by_reader, now


@dataclass(frozen=True)
class Rating:
    """A reader's thumbs up (+1) or down (-1) on a paper, with the text it was rated on."""

    paper_id: str
    rating: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    rated_at: str


class RatingRows(Tables):
    """`ratings` (the single reader) and `reader_ratings` (named readers)."""

    def rate(
        self,
        paper_id: str,
        rating: int,
        title: str,
        abstract: str,
        authors: Iterable[str],
        reader: str = "",
    ) -> None:
        """Record (or change) the reader's rating of a paper: +1 up, -1 down."""
        if rating not in (1, -1):
            raise ValueError("rating must be +1 or -1")
        table, _, params = by_reader("ratings", reader)
        columns = (
            "reader, " if params else ""
        ) + "paper_id, rating, title, abstract, authors, rated_at"
        marks = ", ".join("?" * (len(params) + 6))
        with self.transaction() as db:
            db.execute(
                f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({marks})",
                (*params, paper_id, rating, title, abstract, json.dumps(list(authors)), now()),
            )

    def ratings(self, reader: str = "") -> list[Rating]:
        """Every rating of `reader`, oldest first (a changed rating counts as new)."""
        with self._lock:
            table, scope, params = by_reader("ratings", reader)
            rows = self._db.execute(
                f"SELECT paper_id, rating, title, abstract, authors, rated_at FROM {table} "
                f"WHERE {scope}1 ORDER BY rowid",
                params,
            ).fetchall()
        return [Rating(r[0], r[1], r[2], r[3], tuple(json.loads(r[4])), r[5]) for r in rows]


__all__ = ["Rating", "RatingRows"]
