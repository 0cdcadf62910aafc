"""All storage in one place: SQLite under DIGEST_HOME, ordered migrations, a schema version."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from agent.home import prepare_home, state_error

_MIGRATIONS: tuple[str, ...] = (
    # 1: papers seen, runs
    """
    CREATE TABLE papers_seen (
        id TEXT PRIMARY KEY,
        version INTEGER,
        first_seen TEXT NOT NULL,
        digest_date TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX papers_seen_date ON papers_seen(digest_date);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        digest_date TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT,
        counts TEXT NOT NULL DEFAULT '{}',
        usage TEXT NOT NULL DEFAULT '{}',
        message TEXT
    );
    """,
    # 2: model answer cache
    """
    CREATE TABLE model_cache (
        key TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        created TEXT NOT NULL,
        answer TEXT NOT NULL,
        usage TEXT NOT NULL DEFAULT '{}'
    );
    """,
    # 3: sent ledger
    """
    CREATE TABLE sent_ledger (
        digest_key TEXT NOT NULL,
        recipient TEXT NOT NULL,
        message_id TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        PRIMARY KEY (digest_key, recipient)
    );
    """,
    # 4: HTTP validators for conditional requests
    """
    CREATE TABLE http_validators (
        url TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        body BLOB,
        stored_at TEXT NOT NULL
    );
    """,
    # 5: papers kept for `digest topic` search (title, abstract, metadata as JSON)
    """
    CREATE TABLE papers_kept (
        id TEXT PRIMARY KEY,
        paper TEXT NOT NULL,
        stored_at TEXT NOT NULL
    );
    """,
    # 6: the reader's parsed libraries (re-read only when the file changes) and ratings
    """
    CREATE TABLE library_cache (
        origin TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        entries TEXT NOT NULL,
        stored_at TEXT NOT NULL
    );
    CREATE TABLE ratings (
        paper_id TEXT PRIMARY KEY,
        rating INTEGER NOT NULL,
        title TEXT NOT NULL,
        abstract TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '[]',
        rated_at TEXT NOT NULL
    );
    """,
    # 7: the structured-output dialect each endpoint and model took (llm.dialect = "auto")
    """
    CREATE TABLE IF NOT EXISTS llm_dialects (
        endpoint TEXT NOT NULL,
        model TEXT NOT NULL,
        dialect TEXT NOT NULL,
        updated TEXT NOT NULL,
        PRIMARY KEY (endpoint, model)
    );
    """,
    # 8: batches submitted to the provider's Batch API and not collected yet, by request set,
    # with the ids of their requests (a JSON list)
    """
    CREATE TABLE IF NOT EXISTS pending_batches (
        request_set TEXT PRIMARY KEY,
        batch_id TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        ids TEXT NOT NULL,
        submitted TEXT NOT NULL
    );
    """,
    # 9: several readers on one state: named readers' seen ledgers and ratings (the single
    # reader of a config without [readers] keeps the tables above), and blurbs kept per paper
    """
    CREATE TABLE reader_papers_seen (
        reader TEXT NOT NULL,
        id TEXT NOT NULL,
        version INTEGER,
        first_seen TEXT NOT NULL,
        digest_date TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (reader, id)
    );
    CREATE TABLE reader_ratings (
        reader TEXT NOT NULL,
        paper_id TEXT NOT NULL,
        rating INTEGER NOT NULL,
        title TEXT NOT NULL,
        abstract TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '[]',
        rated_at TEXT NOT NULL,
        PRIMARY KEY (reader, paper_id)
    );
    CREATE TABLE paper_blurbs (
        key TEXT PRIMARY KEY,
        paper_id TEXT NOT NULL,
        blurb TEXT NOT NULL,
        why TEXT,
        created TEXT NOT NULL
    );
    """,
)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _by_reader(table: str, reader: str) -> tuple[str, str, tuple[str, ...]]:
    """(table, WHERE prefix, its parameters) of `reader`'s rows: the single reader ('') keeps
    the original table; named readers ([readers.NAME]) share a reader_ table keyed by name."""
    if not reader:
        return table, "", ()
    return f"reader_{table}", "reader = ? AND ", (reader,)


@dataclass(frozen=True)
class SeenPaper:
    id: str
    version: int | None
    digest_date: dt.date


@dataclass(frozen=True)
class Rating:
    """A reader's thumbs up (+1) or down (-1) on a paper, with the text it was rated on."""

    paper_id: str
    rating: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    rated_at: str


@dataclass(frozen=True)
class CachedAnswer:
    answer: str
    usage: dict[str, Any]


@dataclass(frozen=True)
class PendingBatch:
    """A batch submitted to the provider and not collected yet."""

    request_set: str  # the hash of its requests' ids (see summarize.llm.models.batch.lines)
    batch_id: str
    ids: frozenset[str]  # its requests' custom ids


@dataclass(frozen=True)
class StateSummary:
    """A read-only look at a state file (for `digest doctor`)."""

    path: Path
    schema_version: int
    latest_schema: int
    papers_seen: int
    last_run: tuple[str, str, str] | None  # (digest date, status, finished), newest first


def read_state(home: Path) -> StateSummary | None:
    """Open DIGEST_HOME's state read-only (nothing is migrated or written); None when there is
    none yet. Raises sqlite3.Error when it is unreadable or damaged."""
    path = home / "state.sqlite3"
    if not path.exists():
        return None
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(f"integrity check: {' '.join(str(check).split())}")
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


class Store:
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
        row = self._db.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            found = " ".join(str(row[0]).split()) if row else "no answer"  # SQLite's is 2 lines
            raise sqlite3.DatabaseError(f"integrity check: {found[:300]}")

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

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of writes (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

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

    # papers seen -----------------------------------------------------------------------------

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
                table, scope, params = _by_reader("papers_seen", reader)
                rows = self._db.execute(
                    f"SELECT id, version, digest_date FROM {table} "
                    f"WHERE {scope}id IN ({marks}) AND digest_date != ?",
                    (*params, *chunk, digest_date.isoformat()),
                ).fetchall()
                for pid, version, day in rows:
                    found[pid] = SeenPaper(pid, version, dt.date.fromisoformat(day))
        return found

    def mark_seen(
        self, papers: Iterable[tuple[str, int | None, str]], digest_date: dt.date, reader: str = ""
    ) -> int:
        """Record (id, version, title) as digested on `digest_date` for `reader`. A paper belongs
        to the reader's first digest that had it: a later mark keeps that date and only raises
        the version."""
        table, _, params = _by_reader("papers_seen", reader)
        columns = ("reader, " if params else "") + "id, version, first_seen, digest_date, title"
        marks = ", ".join("?" * (len(params) + 5))
        conflict = "reader, id" if params else "id"
        rows = [
            (*params, pid, version, _now(), digest_date.isoformat(), title)
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
        table, scope, params = _by_reader("papers_seen", reader)
        with self._lock:
            row = self._db.execute(f"SELECT COUNT(*) FROM {table} WHERE {scope}1", params)
            return int(row.fetchone()[0])

    # papers kept for search ------------------------------------------------------------------

    def keep_papers(self, papers: Iterable[tuple[str, str]]) -> None:
        """Store (id, paper JSON) pairs so `digest topic` can search past papers."""
        rows = [(pid, blob, _now()) for pid, blob in papers]
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

    # the reader's libraries and ratings ------------------------------------------------------

    def cached_library(self, origin: str, fingerprint: str) -> str | None:
        """The parsed entries (JSON) of a library, when its fingerprint is unchanged."""
        with self._lock:
            row = self._db.execute(
                "SELECT entries FROM library_cache WHERE origin = ? AND fingerprint = ?",
                (origin, fingerprint),
            ).fetchone()
        return row[0] if row else None

    def cache_library(self, origin: str, fingerprint: str, entries: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO library_cache (origin, fingerprint, entries, stored_at) "
                "VALUES (?, ?, ?, ?)",
                (origin, fingerprint, entries, _now()),
            )

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
        table, _, params = _by_reader("ratings", reader)
        columns = (
            "reader, " if params else ""
        ) + "paper_id, rating, title, abstract, authors, rated_at"
        marks = ", ".join("?" * (len(params) + 6))
        with self.transaction() as db:
            db.execute(
                f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({marks})",
                (*params, paper_id, rating, title, abstract, json.dumps(list(authors)), _now()),
            )

    def ratings(self, reader: str = "") -> list[Rating]:
        """Every rating of `reader`, oldest first (a changed rating counts as new)."""
        with self._lock:
            table, scope, params = _by_reader("ratings", reader)
            rows = self._db.execute(
                f"SELECT paper_id, rating, title, abstract, authors, rated_at FROM {table} "
                f"WHERE {scope}1 ORDER BY rowid",
                params,
            ).fetchall()
        return [Rating(r[0], r[1], r[2], r[3], tuple(json.loads(r[4])), r[5]) for r in rows]

    # runs ------------------------------------------------------------------------------------

    def start_run(self, digest_date: dt.date, kind: str) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (digest_date, kind, status, started) VALUES (?, ?, 'running', ?)",
                (digest_date.isoformat(), kind, _now()),
            )
            return int(cursor.lastrowid or 0)

    def finish_run(
        self,
        run_id: int,
        status: str,
        counts: dict[str, Any] | None = None,
        usage: dict[str, Any] | None = None,
        message: str | None = None,
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET status = ?, finished = ?, counts = ?, usage = ?, message = ? "
                "WHERE id = ?",
                (
                    status,
                    _now(),
                    json.dumps(counts or {}),
                    json.dumps(usage or {}),
                    message,
                    run_id,
                ),
            )

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self._db.execute(
                "SELECT id, digest_date, kind, status, started, finished, counts, usage, message "
                "FROM runs ORDER BY id DESC LIMIT ?",
                (limit,),
            )
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        for row in rows:
            row["counts"] = json.loads(row["counts"])
            row["usage"] = json.loads(row["usage"])
        return rows

    # model answer cache ----------------------------------------------------------------------

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
                (key, model, _now(), answer, json.dumps(usage)),
            )

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

    # blurbs per paper (shared by every reader, topic digests and re-runs) ----------------------

    def cached_blurbs(self, keys: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        """The kept (blurb, why_it_matters) of each key found."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, tuple[str, str | None]] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, blurb, why FROM paper_blurbs WHERE key IN ({marks})", chunk
                ).fetchall()
                found.update({key: (blurb, why) for key, blurb, why in rows})
        return found

    def keep_blurbs(self, rows: Iterable[tuple[str, str, str, str | None]], keep: int) -> None:
        """Store (key, paper id, blurb, why) rows; beyond `keep` rows the oldest are dropped."""
        stamped = [(key, pid, blurb, why, _now()) for key, pid, blurb, why in rows]
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

    # structured-output dialects --------------------------------------------------------------

    def remembered_dialect(self, endpoint: str, model: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT dialect FROM llm_dialects WHERE endpoint = ? AND model = ?",
                (endpoint, model),
            ).fetchone()
        return str(row[0]) if row else None

    def remember_dialect(self, endpoint: str, model: str, dialect: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO llm_dialects (endpoint, model, dialect, updated) "
                "VALUES (?, ?, ?, ?)",
                (endpoint, model, dialect, _now()),
            )

    # batches pending at the provider --------------------------------------------------------

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
                (request_set, batch_id, endpoint, json.dumps(sorted(ids)), _now()),
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

    # sent ledger -----------------------------------------------------------------------------

    def already_sent(self, digest_key: str, recipient: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM sent_ledger WHERE digest_key = ? AND recipient = ?",
                (digest_key, recipient.lower()),
            ).fetchone()
        return row is not None

    def record_sent(self, digest_key: str, recipient: str, message_id: str) -> None:
        """Write the ledger row; call only after the SMTP server accepted the message."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO sent_ledger (digest_key, recipient, message_id, sent_at) "
                "VALUES (?, ?, ?, ?)",
                (digest_key, recipient.lower(), message_id, _now()),
            )

    def forget_sent(self, digest_key: str, recipient: str | None = None) -> None:
        """Used by --force: the next send of this digest (to `recipient`, or to all) goes out
        again."""
        with self.transaction() as db:
            if recipient is None:
                db.execute("DELETE FROM sent_ledger WHERE digest_key = ?", (digest_key,))
            else:
                db.execute(
                    "DELETE FROM sent_ledger WHERE digest_key = ? AND recipient = ?",
                    (digest_key, recipient),
                )

    def sent_rows(self, digest_key: str | None = None) -> list[tuple[str, str, str]]:
        with self._lock:
            if digest_key is None:
                cursor = self._db.execute(
                    "SELECT digest_key, recipient, message_id FROM sent_ledger ORDER BY sent_at"
                )
            else:
                cursor = self._db.execute(
                    "SELECT digest_key, recipient, message_id FROM sent_ledger "
                    "WHERE digest_key = ? ORDER BY sent_at",
                    (digest_key,),
                )
            return [tuple(row) for row in cursor.fetchall()]

    # HTTP validators -------------------------------------------------------------------------

    def http_validators(self, url: str) -> tuple[str | None, str | None, bytes | None]:
        with self._lock:
            row = self._db.execute(
                "SELECT etag, last_modified, body FROM http_validators WHERE url = ?", (url,)
            ).fetchone()
        return (row[0], row[1], row[2]) if row else (None, None, None)

    def save_http_validators(
        self, url: str, etag: str | None, last_modified: str | None, body: bytes
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO http_validators (url, etag, last_modified, body, stored_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (url, etag, last_modified, body, _now()),
            )
