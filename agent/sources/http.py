"""The HTTP fetcher every live source uses: deadlines, size caps, retries, politeness, conditional
requests.

- Each attempt runs on httpx's async client under one deadline: `sources.timeout_seconds`
  bounds connect + headers + body together, so a server trickling one byte a second cannot hold
  the run (a per-read timeout alone would never fire).
- The body is read streaming and capped at `sources.max_response_bytes` (after decompression);
  a longer or endless response fails the source with the reason, and memory stays small.
- tenacity retries on the project's retryable statuses (`agent.retry_policy`: 408, 409, 425,
  429, 5xx), timeouts and connection errors, honouring `Retry-After` (capped), with
  exponential backoff and jitter otherwise, and a bounded number of attempts.
- arXiv's etiquette in code: a `RateGate` lets at most one request through every
  `arxiv_min_interval_seconds`, one connection at a time, across all arXiv endpoints (the
  module-level `ARXIV_GATE` is shared by every fetcher unless one is injected). Other
  services with a rate limit (Semantic Scholar) get their own shared gate by name.
- Conditional requests (ETag / Last-Modified) through the store: a 304 returns the stored body.
- Bodies are decoded as UTF-8 from the bytes (bad bytes become U+FFFD), never guessed.
- Every failure is a `SourceError` with one line: "<source>: <what went wrong>".
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)

from agent.errors import SourceError
from agent.one_line import one_line
from agent.retry_policy import HintOrBackoff, is_retryable_status, parse_retry_after
from agent.wording import plural

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from agent.config import SourcesSettings
    from agent.store import HttpValidators

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], None]

DEFAULT_MAX_RETRY_WAIT = 60.0
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
BACKOFF_JITTER_SECONDS = 1.0


class RateGate:
    """At most one request every `interval` seconds, and one at a time, for one service.

    The interval is counted from the end of the previous request (the stricter reading of
    "one request every three seconds"). Clock and sleep are injectable so tests use a fake
    clock and never sleep for real.
    """

    def __init__(self, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._last_end: float | None = None

    @contextmanager
    def turn(self, interval: float) -> Iterator[None]:
        """Hold the service for one request, after waiting out the spacing."""
        with self._lock:
            if self._last_end is not None and interval > 0:
                wait = self._last_end + interval - self.clock()
                if wait > 0:
                    self.sleep(wait)
            try:
                yield
            finally:
                self._last_end = self.clock()

    def reset(self) -> None:
        with self._lock:
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


def decode_body(content: bytes) -> str:
    """UTF-8 from the bytes (BOM dropped); undecodable bytes become U+FFFD."""
    return content.decode("utf-8-sig", errors="replace")


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


def parse_json(text: str, source: str) -> object:
    """Parse a whole JSON document; SourceError if malformed or nested too deeply."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{source}: malformed JSON ({exc}); body truncated or not JSON") from exc
    except RecursionError:
        raise SourceError(f"{source}: JSON nested too deeply to read; refused") from None


class ResponseTooLarge(Exception):
    """The body passed the byte cap (not retried: it would be as large again)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"response larger than {limit:,} bytes")
        self.limit = limit


class WholeRequestTimeout(httpx.TimeoutException):
    """The attempt's deadline (connect + headers + body) passed."""


@dataclass(frozen=True)
class _Response:
    """What one attempt got: status, headers and (for accepted statuses) the whole body."""

    status_code: int
    headers: httpx.Headers
    content: bytes


class _RetryableStatus(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def _retry_after(exc: BaseException) -> float | None:
    return exc.retry_after if isinstance(exc, _RetryableStatus) else None


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, _RetryableStatus | httpx.TimeoutException | httpx.TransportError)


def _log_retry(source: str, attempts: int, state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.info(
        "%s: %s, retrying in %.1f s (attempt %d of %d)",
        source,
        one_line(str(exc) or type(exc).__name__, 200),
        wait,
        state.attempt_number,
        attempts,
    )


class HttpFetcher:
    """GET with retries, politeness and conditional requests. Use as a context manager."""

    def __init__(
        self,
        settings: SourcesSettings,
        *,
        sleep: Sleep = time.sleep,
        arxiv_gate: RateGate | None = None,
        gates: Mapping[str, RateGate] | None = None,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self._gates = dict(gates or {})
        if arxiv_gate is not None:
            self._gates["arxiv"] = arxiv_gate
        self.max_retry_wait = max_retry_wait
        self._transport = transport

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

    def get(
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
        full_url = str(httpx.URL(url, params=dict(params) if params else None))
        headers: dict[str, str] = {}
        stored_body: bytes | None = None
        if store is not None:
            etag, last_modified, stored_body = store.http_validators(full_url)
            if stored_body is not None:
                if etag:
                    headers["If-None-Match"] = etag
                if last_modified:
                    headers["If-Modified-Since"] = last_modified

        attempts = self.settings.max_attempts
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=HintOrBackoff(
                _retry_after,
                first=BACKOFF_FIRST_SECONDS,
                jitter=BACKOFF_JITTER_SECONDS,
                cap=self.max_retry_wait,
                backoff_cap=BACKOFF_MAX_SECONDS,
            ),
            retry=retry_if_exception(_retryable),
            sleep=self.sleep,
            before_sleep=lambda state: _log_retry(source, attempts, state),
            reraise=True,
        )
        try:
            response = retrying(self._attempt, full_url, headers, gate, interval)
        except _RetryableStatus as exc:
            raise SourceError(
                f"{source}: HTTP {exc.status} after {plural(attempts, 'attempt')}"
            ) from exc
        except ResponseTooLarge as exc:
            raise SourceError(
                f"{source}: {exc} from {full_url}; refused "
                "(raise sources.max_response_bytes if this is expected)"
            ) from exc
        except httpx.TimeoutException as exc:
            raise SourceError(
                f"{source}: timed out after {plural(attempts, 'attempt')} "
                f"({self.settings.timeout_seconds:g} s each, whole request) fetching {full_url}"
            ) from exc
        except httpx.TransportError as exc:
            reason = one_line(str(exc) or type(exc).__name__, 200)
            raise SourceError(
                f"{source}: connection failed after {plural(attempts, 'attempt')}: {reason}"
            ) from exc
        except httpx.HTTPError as exc:  # invalid URL and the like: not worth retrying
            raise SourceError(f"{source}: request failed: {one_line(exc, 200)}") from exc

        if response.status_code == 304:
            if stored_body is None:
                raise SourceError(f"{source}: HTTP 304 but no stored copy of {full_url}")
            return HttpResult(full_url, 304, stored_body, from_cache=True)
        if response.status_code not in accept:
            raise SourceError(f"{source}: HTTP {response.status_code} from {full_url}")

        content = response.content
        if store is not None and response.status_code == 200:
            etag = response.headers.get("ETag")
            last_modified = response.headers.get("Last-Modified")
            if etag or last_modified:
                store.save_http_validators(full_url, etag, last_modified, content)
        return HttpResult(full_url, response.status_code, content)

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

    # -- internals ----------------------------------------------------------------------

    def _attempt(
        self, url: str, headers: dict[str, str], gate: RateGate | None, interval: float
    ) -> _Response:
        if gate is None:
            response = self._send(url, headers)
        else:
            with gate.turn(interval):
                response = self._send(url, headers)
        if is_retryable_status(response.status_code):
            raise _RetryableStatus(
                response.status_code, parse_retry_after(response.headers.get("Retry-After"))
            )
        return response

    def _send(self, url: str, headers: dict[str, str]) -> _Response:
        """One attempt, whole body included, under one deadline (inside the gate)."""
        return asyncio.run(self._fetch(url, headers))

    async def _fetch(self, url: str, headers: dict[str, str]) -> _Response:
        deadline = self.settings.timeout_seconds
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(deadline),
            headers={"User-Agent": self.settings.user_agent},
            follow_redirects=True,
            transport=self._transport,
        ) as client:
            try:
                return await asyncio.wait_for(self._read(client, url, headers), deadline)
            except TimeoutError:
                raise WholeRequestTimeout(f"no complete answer within {deadline:g} s") from None

    async def _read(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str]
    ) -> _Response:
        limit = self.settings.max_response_bytes
        async with client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status == 304 or is_retryable_status(status) or status >= 500:
                return _Response(status, response.headers, b"")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise ResponseTooLarge(limit)
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise ResponseTooLarge(limit)
            return _Response(status, response.headers, bytes(body))
