"""The fetcher every live source uses: the bounded client (`agent.core.http`) plus the
sources' own rules: politeness, conditional requests and one-line `SourceError`s.

- Each request goes through `HttpClient`: `sources.timeout_seconds` bounds one attempt
  (connect, headers and body together), `sources.max_response_bytes` the body, the one retry
  policy (`agent.core.retry_policy`) the retries (`sources.max_attempts`), and a `Retry-After`
  longer than the call's time budget fails at once instead of sleeping.
- arXiv's etiquette in code: a `RateGate` lets at most one request through every
  `arxiv_min_interval_seconds`, one connection at a time, across all arXiv endpoints (the
  module-level `ARXIV_GATE` is shared by every fetcher unless one is injected). Other
  services with a rate limit (Semantic Scholar) get their own shared gate by name. The sources
  of a run are read concurrently on one event loop; the gate is an asyncio lock (one per
  loop), so two sources of one service still take turns, spaced, while others run.
- Conditional requests (ETag / Last-Modified) through the store: a 304 returns the stored body.
- Bodies are decoded as UTF-8 from the bytes (bad bytes become U+FFFD), never guessed; JSON is
  read with `agent.core.parsing` (size and depth capped).
- Every failure is a `SourceError` with one line: "<source>: <what went wrong>".
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from agent.core import parsing
from agent.core.http import HttpClient, HttpFailure, Limits, full_url
from agent.core.one_line import one_line
from agent.core.redact import redact
from agent.core.wording import plural
from agent.errors import SourceError

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from agent.config import SourcesSettings
    from agent.store import HttpValidators

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_MAX_RETRY_WAIT = 60.0


class RateGate:
    """At most one request every `interval` seconds, and one at a time, for one service.

    The interval is counted from the end of the previous request (the stricter reading of
    "one request every three seconds"). Concurrent coroutines wait their turn on an asyncio
    lock (one per event loop: a process may run several loops one after another, and the
    spacing holds across them); the wait is awaited, so other sources go on meanwhile. Clock
    and sleep are injectable so tests use a fake clock and never sleep for real.
    """

    def __init__(self, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.clock = clock
        self.sleep = sleep
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._locks_lock = threading.Lock()
        self._last_end: float | None = None

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._locks_lock:
            lock = self._locks.get(loop)
            if lock is None:
                lock = self._locks[loop] = asyncio.Lock()
            return lock

    @asynccontextmanager
    async def turn(self, interval: float) -> AsyncIterator[None]:
        """Hold the service for one request, after waiting out the spacing."""
        async with self._lock():
            if self._last_end is not None and interval > 0:
                wait = self._last_end + interval - self.clock()
                if wait > 0:
                    await self.sleep(wait)
            try:
                yield
            finally:
                self._last_end = self.clock()

    def reset(self) -> None:
        self._last_end = None


ARXIV_GATE = RateGate()
"""Shared by every arXiv endpoint (RSS, API) in this process."""

_SHARED_GATES: dict[str, RateGate] = {"arxiv": ARXIV_GATE}
_SHARED_GATES_LOCK = threading.Lock()


def shared_gate(service: str) -> RateGate:
    """The process-wide gate of one service ("arxiv", "s2", ...), created on first use."""
    with _SHARED_GATES_LOCK:
        return _SHARED_GATES.setdefault(service, RateGate())


@dataclass(frozen=True)
class HttpResult:
    """One successful response: the decoded body and where it came from."""

    url: str
    status: int
    content: bytes
    from_cache: bool = False

    @property
    def text(self) -> str:
        return decode_body(self.content)


decode_body = parsing.decode_utf8  # a feed's bytes as text


def parse_xml(text: str, source: str) -> Element:
    """Parse a whole XML document (defusedxml: no DTD entities); SourceError if malformed."""
    if not text.strip():
        raise SourceError(f"{source}: empty response body, expected XML")
    try:
        return fromstring(text)
    except ParseError as exc:
        raise SourceError(f"{source}: malformed XML ({exc}); feed truncated or not XML") from exc
    except DefusedXmlException as exc:
        raise SourceError(f"{source}: refused unsafe XML ({type(exc).__name__})") from exc


def parse_json(text: str, source: str) -> Any:
    """Parse a whole JSON document (`agent.core.parsing`: size and depth capped); SourceError
    if malformed, too large or nested too deeply."""
    try:
        return parsing.loads(text, what="JSON")
    except parsing.JsonError as exc:
        if exc.kind == "refused":  # too large or too deep: the message says which
            raise SourceError(f"{source}: {exc.msg}") from None
        where = f"line {exc.lineno} column {exc.pos + 1}"
        raise SourceError(
            f"{source}: malformed JSON ({exc.msg}: {where}); body truncated or not JSON"
        ) from None


def _log_retry(source: str, attempts: int, failure: HttpFailure, number: int, wait: float) -> None:
    log.info(
        "%s: %s, retrying in %.1f s (attempt %d of %d)",
        source,
        one_line(failure.reason, 200),
        wait,
        number,
        attempts,
    )


class HttpFetcher:
    """GET with retries, politeness and conditional requests. Use as a context manager."""

    def __init__(
        self,
        settings: SourcesSettings,
        *,
        sleep: Sleep = asyncio.sleep,
        arxiv_gate: RateGate | None = None,
        gates: Mapping[str, RateGate] | None = None,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        transport: Any = None,
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self._gates = dict(gates or {})
        if arxiv_gate is not None:
            self._gates["arxiv"] = arxiv_gate
        self.max_retry_wait = max_retry_wait
        self.client = HttpClient(user_agent=settings.user_agent, sleep=sleep, transport=transport)

    def gate(self, service: str) -> RateGate:
        """The injected gate for a service, else the process-wide one."""
        return self._gates.get(service) or shared_gate(service)

    @property
    def arxiv_gate(self) -> RateGate:
        return self.gate("arxiv")

    def close(self) -> None:
        """Nothing stays open between requests (each attempt has its own client)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one public call ------------------------------------------------------------

    async def get(
        self,
        url: str,
        *,
        source: str,
        params: Mapping[str, str | int] | None = None,
        store: HttpValidators | None = None,
        gate: RateGate | None = None,
        min_interval: float | None = None,
        accept: frozenset[int] = frozenset({200}),
    ) -> HttpResult:
        """GET url; statuses in `accept` (and 304 with a stored body) are returned.

        `source` names the source in error messages. `gate` spaces the requests, at least
        `min_interval` seconds apart (default: arxiv_min_interval_seconds; pass
        `self.arxiv_gate` for every arXiv endpoint). With a store, ETag / Last-Modified are
        sent and saved, and a 304 returns the stored body.
        """
        interval = (
            self.settings.arxiv_min_interval_seconds if min_interval is None else min_interval
        )
        try:
            target = full_url(url, params)
        except HttpFailure as exc:
            raise SourceError(f"{source}: {exc.reason}") from None
        headers: dict[str, str] = {}
        stored_body: bytes | None = None
        if store is not None:
            etag, last_modified, stored_body = store.http_validators(target)
            if stored_body is not None:
                if etag:
                    headers["If-None-Match"] = etag
                if last_modified:
                    headers["If-Modified-Since"] = last_modified

        attempts = self.settings.max_attempts
        limits = Limits(
            timeout=self.settings.timeout_seconds,
            max_bytes=self.settings.max_response_bytes,
            attempts=attempts,
            max_wait=self.max_retry_wait,
        )
        try:
            response = await self.client.request(
                "GET",
                target,
                limits=limits,
                headers=headers,
                accept=accept | {304},
                around=(lambda: gate.turn(interval)) if gate is not None else None,
                on_retry=lambda failure, number, wait: _log_retry(
                    source, attempts, failure, number, wait
                ),
            )
        except HttpFailure as exc:
            raise SourceError(self._reason(source, redact(target), exc)) from None

        if response.status == 304:
            if stored_body is None:
                raise SourceError(f"{source}: HTTP 304 but no stored copy of {redact(target)}")
            return HttpResult(target, 304, stored_body, from_cache=True)

        content = response.content
        if store is not None and response.status == 200:
            etag = response.header("ETag")
            last_modified = response.header("Last-Modified")
            if etag or last_modified:
                store.save_http_validators(target, etag, last_modified, content)
        return HttpResult(target, response.status, content)

    def _reason(self, source: str, url: str, exc: HttpFailure) -> str:
        """The one line of a failed fetch, naming the source and its URL (`url` redacted: a
        configured URL may carry a key, and this line reaches the digest and digest.json)."""
        tries = plural(exc.attempts, "attempt")
        if exc.kind == "too_large":
            return (
                f"{source}: {exc.reason} from {url}; refused "
                "(raise sources.max_response_bytes if this is expected)"
            )
        if exc.kind == "timeout":
            return (
                f"{source}: timed out after {tries} "
                f"({self.settings.timeout_seconds:g} s each, whole request) fetching {url}"
            )
        if exc.kind == "connect":
            detail = exc.reason.removeprefix("connection failed").strip(" ()")
            return f"{source}: connection failed after {tries}: {detail}"
        if exc.status is not None and (exc.retryable or exc.kind == "over_budget"):
            return f"{source}: HTTP {exc.status} after {tries}{exc.reason[len(f'HTTP {exc.status}') :]}"
        if exc.status is not None:
            return f"{source}: HTTP {exc.status} from {url}"
        return f"{source}: request failed: {one_line(exc.reason, 200)}"

    @classmethod
    @contextmanager
    def borrow(
        cls, settings: SourcesSettings, injected: HttpFetcher | None
    ) -> Iterator[HttpFetcher]:
        """The injected fetcher (left open), or a fresh one closed afterwards."""
        if injected is not None:
            yield injected
            return
        with cls(settings) as fetcher:
            yield fetcher
