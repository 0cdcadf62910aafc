"""What every concern of the store works with: the connection, its lock, and transactions."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


def now() -> str:
    """The time a row is written: UTC, to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


IN_LIST_MAX = 500  # values in one `IN (...)` (SQLite's bound parameters are limited)


def in_lists(values: Iterable[str]) -> Iterator[tuple[list[str], str]]:
    """The distinct `values` in slices for `IN (...)` queries: each slice and its placeholders
    ('?,?,?')."""
    wanted = list(dict.fromkeys(values))
    for start in range(0, len(wanted), IN_LIST_MAX):
        chunk = wanted[start : start + IN_LIST_MAX]
        yield chunk, ",".join("?" * len(chunk))


def by_reader(table: str, reader: str) -> tuple[str, str, tuple[str, ...]]:
    """(table, WHERE prefix, its parameters) of `reader`'s rows: the single reader ('') keeps
    the original table; named readers ([readers.NAME]) share a reader_ table keyed by name."""
    if not reader:
        return table, "", ()
    return f"reader_{table}", "reader = ? AND ", (reader,)


class Tables:
    """The base of each concern: `_db` (one connection, shared between threads) used under
    `_lock`, and `transaction()` for writes."""

    _db: sqlite3.Connection
    _lock: threading.RLock

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of writes (BEGIN IMMEDIATE ... COMMIT, rolled back on error).

        A SIGTERM or Ctrl-C is raised between any two bytecodes, so a unit can be cut off
        right after its BEGIN or right before its COMMIT, outside the handler that would roll
        it back. Such a unit left open is rolled back when the next one starts (its caller got
        the exception): the clean-up writes of a stopped run must not fail with "cannot start
        a transaction within a transaction"."""
        with self._lock:
            if self._db.in_transaction:  # a unit cut off by a signal: it did not happen
                self._db.execute("ROLLBACK")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise


__all__ = ["Tables", "by_reader", "now"]
