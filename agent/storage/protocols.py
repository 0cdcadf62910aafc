"""What each consumer needs of the store: one Protocol per concern, each a handful of methods.

The SQLite `agent.store.Store` implements them all; a stage takes only the one it uses (the
deliver stage a `SentLedger`, the answer cache an `AnswerCache`, ...), so that a reader of a
signature sees what it touches and a test can hand it a small fake. Only the pipeline, which
wires a run, holds the whole store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from agent.storage.answers import CachedAnswer
    from agent.storage.batches import PendingBatch
    from agent.storage.ratings import Rating
    from agent.storage.seen import SeenPaper, SeenRow


class SeenLedger(Protocol):
    """Which papers each reader's digests already had (the daily run, `outbox flush`)."""

    def seen_on_other_dates(
        self, ids: Iterable[str], digest_date: dt.date, reader: str = ""
    ) -> dict[str, SeenPaper]: ...

    def mark_seen(
        self, papers: Iterable[SeenRow], digest_date: dt.date, reader: str = ""
    ) -> int: ...

    def seen_count(self, reader: str = "") -> int: ...


class SentLedger(Protocol):
    """Which digest went to which recipient or webhook (the deliver stage)."""

    def already_sent(self, digest_key: str, recipient: str) -> bool: ...

    def record_sent(self, digest_key: str, recipient: str, message_id: str) -> None: ...

    def forget_sent(self, digest_key: str, recipient: str | None = None) -> None: ...


class RunLog(Protocol):
    """One record per run: started, then finished with a status (the daily orchestrator)."""

    def start_run(self, digest_date: dt.date, kind: str) -> int: ...

    def finish_run(
        self,
        run_id: int,
        status: str,
        counts: dict[str, Any] | None = None,
        usage: dict[str, Any] | None = None,
        message: str | None = None,
    ) -> None: ...


class RatingsStore(Protocol):
    """A reader's thumbs up and down (`digest rate`, the reader's profile)."""

    def rate(
        self,
        paper_id: str,
        rating: int,
        title: str,
        abstract: str,
        authors: Iterable[str],
        reader: str = "",
    ) -> None: ...

    def ratings(self, reader: str = "") -> list[Rating]: ...


class PaperShelf(Protocol):
    """The papers of earlier digests, kept for `digest topic` and `digest rate`."""

    def keep_papers(self, papers: Iterable[tuple[str, str]]) -> None: ...

    def kept_papers(self) -> list[str]: ...

    def kept_paper(self, paper_id: str) -> str | None: ...


class AnswerCache(Protocol):
    """Model answers by their cache key (the model path's answer cache)."""

    def cached_answer(self, key: str) -> CachedAnswer | None: ...

    def cache_answer(self, key: str, model: str, answer: str, usage: dict[str, Any]) -> None: ...

    def forget_answer(self, key: str) -> None: ...

    def trim_cache(self, keep: int) -> int: ...


class BlurbStore(Protocol):
    """Blurbs kept per paper, shared by readers, topics and re-runs (the blurb cache)."""

    def cached_blurbs(self, keys: Iterable[str]) -> dict[str, tuple[str, str | None]]: ...

    def keep_blurbs(self, rows: Iterable[tuple[str, str, str, str | None]], keep: int) -> None: ...


class LibraryCache(Protocol):
    """A reader's parsed library files and Zotero items, by origin and fingerprint."""

    def cached_library(self, origin: str, fingerprint: str) -> str | None: ...

    def cache_library(self, origin: str, fingerprint: str, entries: str) -> None: ...


class HttpValidators(Protocol):
    """ETag and Last-Modified of each URL, with the body they validate (the sources' HTTP)."""

    def http_validators(self, url: str) -> tuple[str | None, str | None, bytes | None]: ...

    def save_http_validators(
        self, url: str, etag: str | None, last_modified: str | None, body: bytes
    ) -> None: ...


class DialectMemory(Protocol):
    """The structured-output dialect each endpoint and model took (`[llm] dialect = "auto"`)."""

    def remembered_dialect(self, endpoint: str, model: str) -> str | None: ...

    def remember_dialect(self, endpoint: str, model: str, dialect: str) -> None: ...


class PaceMemory(Protocol):
    """How many calls a local server needed per planned call, by endpoint and model."""

    def remembered_calls_per_planned(self, endpoint: str, model: str) -> float | None: ...

    def remember_calls_per_planned(self, endpoint: str, model: str, ratio: float) -> None: ...


class BatchLedger(Protocol):
    """Batches submitted to a provider's Batch API and not collected yet."""

    def pending_batches(self, endpoint: str) -> list[PendingBatch]: ...

    def remember_batch(
        self, request_set: str, endpoint: str, batch_id: str, ids: Iterable[str]
    ) -> None: ...

    def forget_batch(self, request_set: str) -> None: ...

    def forget_batches_before(self, cutoff: dt.datetime) -> int: ...


# -- what one consumer uses of several concerns --------------------------------------------------


class SourceStore(HttpValidators, PaperShelf, Protocol):
    """What a source may use: HTTP validators (conditional requests), the kept papers
    (`local`)."""


class LibraryStore(LibraryCache, SourceStore, Protocol):
    """What reading a library uses: its parsed entries, and a source's store (an id list's
    papers are looked up on the arXiv API)."""


class ProfileStore(LibraryStore, RatingsStore, Protocol):
    """What a reader's profile is read from: their libraries and their ratings."""


class ModelStore(AnswerCache, BlurbStore, DialectMemory, PaceMemory, BatchLedger, Protocol):
    """What the model path keeps: answers, blurbs, each endpoint's dialect and pace, pending
    batches."""


__all__ = [
    "AnswerCache",
    "BatchLedger",
    "BlurbStore",
    "DialectMemory",
    "HttpValidators",
    "LibraryCache",
    "LibraryStore",
    "ModelStore",
    "PaceMemory",
    "PaperShelf",
    "ProfileStore",
    "RatingsStore",
    "RunLog",
    "SeenLedger",
    "SentLedger",
    "SourceStore",
]
