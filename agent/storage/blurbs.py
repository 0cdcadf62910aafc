"""Blurbs per paper, shared by every reader, topic digests and re-runs."""

from __future__ import annotations

from collections.abc import Iterable

from agent.storage.tables import Tables, in_lists, now


class BlurbRows(Tables):
    """`paper_blurbs`: (key, paper id, blurb, why)."""

    def cached_blurbs(self, keys: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        """The kept (blurb, why_it_matters) of each key found."""
        found: dict[str, tuple[str, str | None]] = {}
        with self._lock:
            for chunk, marks in in_lists(keys):
                rows = self._db.execute(
                    f"SELECT key, blurb, why FROM paper_blurbs WHERE key IN ({marks})", chunk
                ).fetchall()
                found.update({key: (blurb, why) for key, blurb, why in rows})
        return found

    def keep_blurbs(self, rows: Iterable[tuple[str, str, str, str | None]], keep: int) -> None:
        """Store (key, paper id, blurb, why) rows; beyond `keep` rows the oldest are dropped."""
        stamped = [(key, pid, blurb, why, now()) for key, pid, blurb, why in rows]
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO paper_blurbs (key, paper_id, blurb, why, created) "
                "VALUES (?, ?, ?, ?, ?)",
                stamped,
            )
            db.execute(
                "DELETE FROM paper_blurbs WHERE key NOT IN "
                "(SELECT key FROM paper_blurbs ORDER BY created DESC, rowid DESC LIMIT ?)",
                (keep,),
            )


__all__ = ["BlurbRows"]
