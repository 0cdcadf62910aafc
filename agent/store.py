"""All storage in one place: SQLite under DIGEST_HOME, ordered migrations, a schema version.

`Store` is the one SQLite database of a DIGEST_HOME, joined from one class per concern under
`agent.storage` (papers seen, the sent ledger, runs, ratings, kept papers, model answers,
blurbs, libraries, HTTP validators, dialects, pending batches, the days each source was read).
Its consumers depend on the Protocols of `agent.storage.protocols` (re-exported here), each
naming only what it uses.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from agent.core.home import prepare_home, state_error
from agent.storage.answers import AnswerRows, CachedAnswer
from agent.storage.batches import BatchRows, PendingBatch
from agent.storage.blurbs import BlurbRows
from agent.storage.dialects import DialectRows
from agent.storage.libraries import LibraryRows
from agent.storage.pace import PaceRows
from agent.storage.papers import KeptPaperRows
from agent.storage.protocols import (
    AnswerCache,
    BatchLedger,
    BlurbStore,
    DialectMemory,
    HttpValidators,
    LibraryCache,
    LibraryStore,
    ModelStore,
    PaceMemory,
    PaperShelf,
    ProfileStore,
    RatingsStore,
    RunLog,
    SeenLedger,
    SentLedger,
    SourceStore,
)
from agent.storage.ratings import Rating, RatingRows
from agent.storage.runs import RunRows
from agent.storage.schema import MIGRATIONS as _MIGRATIONS
from agent.storage.seen import SeenPaper, SeenRow, SeenRows
from agent.storage.sent import SentRows
from agent.storage.source_reads import SourceRead, SourceReadRows
from agent.storage.validators import ValidatorRows


@dataclass(frozen=True)
class StateSummary:
    """A read-only look at a state file (for `digest doctor`)."""

    path: Path
    schema_version: int
    latest_schema: int
    papers_seen: int
    last_run: tuple[str, str, str] | None  # (digest date, status, finished), newest first


def quick_check(db: sqlite3.Connection) -> None:
    """sqlite3.DatabaseError on one line unless SQLite's quick check of `db` says ok."""
    row = db.execute("PRAGMA quick_check").fetchone()
    if row is None or row[0] != "ok":
        found = " ".join(str(row[0]).split()) if row else "no answer"  # SQLite's is 2 lines
        raise sqlite3.DatabaseError(f"integrity check: {found[:300]}")


def read_state(home: Path) -> StateSummary | None:
    """Open DIGEST_HOME's state read-only (nothing is migrated or written); None when there is
    none yet. Raises sqlite3.Error when it is unreadable or damaged."""
    path = home / "state.sqlite3"
    if not path.exists():
        return None
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        quick_check(db)
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        seen = db.execute("SELECT count(*) FROM papers_seen").fetchone()[0] if version else 0
        named = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reader_papers_seen'"
        ).fetchone()
        if named:  # every named reader's seen papers too
            seen += db.execute("SELECT count(*) FROM reader_papers_seen").fetchone()[0]
        last = (
            db.execute(
                "SELECT digest_date, status, coalesce(finished, started) FROM runs "
                "WHERE kind = 'daily' ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if version
            else None
        )
    finally:
        db.close()
    return StateSummary(path, version, len(_MIGRATIONS), int(seen), tuple(last) if last else None)


class Store(
    SeenRows,
    SentRows,
    RunRows,
    RatingRows,
    KeptPaperRows,
    AnswerRows,
    BlurbRows,
    LibraryRows,
    ValidatorRows,
    DialectRows,
    PaceRows,
    BatchRows,
    SourceReadRows,
):
    """The one SQLite database of a DIGEST_HOME. Safe to share between threads."""

    def __init__(self, path: Path) -> None:
        prepare_home(path.parent)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._check_integrity()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise state_error(path, exc) from exc

    def _check_integrity(self) -> None:
        """Fail now, with the file's name, if SQLite cannot read the file (quick check)."""
        quick_check(self._db)

    @classmethod
    def open(cls, home: Path) -> Store:
        return cls(home / "state.sqlite3")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        current = self.schema_version
        for number, script in enumerate(_MIGRATIONS, start=1):
            if number <= current:
                continue
            with self.transaction() as db:
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")


__all__ = [
    "AnswerCache",
    "BatchLedger",
    "BlurbStore",
    "CachedAnswer",
    "DialectMemory",
    "HttpValidators",
    "LibraryCache",
    "LibraryStore",
    "ModelStore",
    "PaceMemory",
    "PaperShelf",
    "PendingBatch",
    "ProfileStore",
    "Rating",
    "RatingsStore",
    "RunLog",
    "SeenLedger",
    "SeenPaper",
    "SeenRow",
    "SentLedger",
    "SourceRead",
    "SourceStore",
    "StateSummary",
    "Store",
    "read_state",
]
