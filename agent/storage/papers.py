"""Papers kept: every digested paper's metadata, for `digest topic` and `digest rate`."""

from __future__ import annotations

from collections.abc import Iterable

from agent.storage.tables import Tables, now


class KeptPaperRows(Tables):
    """`papers_kept`: (id, paper JSON)."""

    def keep_papers(self, papers: Iterable[tuple[str, str]]) -> None:
        """Store (id, paper JSON) pairs so `digest topic` can search past papers."""
        rows = [(pid, blob, now()) for pid, blob in papers]
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO papers_kept (id, paper, stored_at) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET paper = excluded.paper, stored_at = excluded.stored_at",
                rows,
            )

    def kept_papers(self) -> list[str]:
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT paper FROM papers_kept ORDER BY id")]

    def kept_paper(self, paper_id: str) -> str | None:
        """The stored JSON of one kept paper, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT paper FROM papers_kept WHERE id = ?", (paper_id,)
            ).fetchone()
        return row[0] if row else None


__all__ = ["KeptPaperRows"]
