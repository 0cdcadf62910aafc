"""The one HTTP client of every outbound request: sources, webhooks, Zotero, the local model
server's probes; and the transport the openai SDK gets for model calls and the Batch API.

What every request gets, whoever makes it:

- a whole-request deadline per attempt (`Limits.timeout`): connect, headers and the whole body
  together, so a server trickling one byte a second (into the headers or the body) cannot
  hold the run; per-read timeouts alone never fire on a trickle;
- a byte cap on the body (`Limits.max_bytes`, after decompression), counted as it arrives,
  and refused at once when the declared length is over it;
- the one retry policy (`agent.core.retry_policy`, tenacity): retryable statuses, timeouts and
  dropped connections, the server's `Retry-After` (capped) or backoff with jitter, at most
  `Limits.attempts` tries;
- a time budget for the whole call, attempts and waits included (`Limits.budget`): a
  `Retry-After` longer than what is left fails at once instead of sleeping;
- redirects only to http(s), at most five; a URL that does not parse is an error, not a crash;
- secret headers (`Authorization`, and whatever the caller names in `secret_headers`, such as
  Zotero's `Zotero-API-Key`) go to the origin the caller asked for only: a redirect to another
  scheme, host or port (an https -> http downgrade included) is followed without them (httpx
  itself strips only `Authorization`, and keeps it on an http -> https upgrade).

Every failure is an `HttpFailure` whose text is one line and never holds the URL (it may carry
a token); callers add what they were fetching. Nothing sleeps or starts a thread behind the
caller's back: waits go through the injected `sleep`.

The client is async only (`await client.request(...)`): a command runs one event loop
(`asyncio.run` in `agent.cli`, nowhere else) and every network caller below it is a coroutine,
so the sources of a run are read concurrently. Each attempt opens its own `httpx.AsyncClient`
(its timeout is what is left of the budget), so there is nothing to close between calls.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from agent.core import redact
from agent.core.parsing import bounded_int, decode_utf8
from agent.core.retry_policy import (
    HintOrBackoff,
    OverBudget,
    is_retryable_status,
    parse_retry_after,
)

Sleep = Callable[[float], Awaitable[None]]  # async: asyncio.sleep, or a test's recorder
Clock = Callable[[], float]
Failure = Literal["timeout", "too_large", "status", "connect", "invalid", "over_budget"]

BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
BACKOFF_JITTER_SECONDS = 1.0
MAX_REDIRECTS = 5
DEFAULT_USER_AGENT = "paper-digest (+https://github.com/paper-digest)"
ALWAYS_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization"})

redact.install()


@dataclass(frozen=True)
class Limits:
    """How long and how big one call may be.

    `timeout`: one attempt, connect to last byte. `max_bytes`: the body. `attempts`: tries in
    all. `max_wait`: the longest wait between two tries (a longer `Retry-After` is cut to it).
    `budget`: the whole call, tries and waits; default: every try's timeout plus every wait.
    """

    timeout: float
    max_bytes: int
    attempts: int = 1
    max_wait: float = 60.0
    budget: float | None = None

    @property
    def total(self) -> float:
        if self.budget is not None:
            return self.budget
        return self.attempts * self.timeout + (self.attempts - 1) * self.max_wait


class HttpFailure(Exception):
    """A request that failed for good. `reason` is one line without the URL; `kind` says what
    went wrong, `status` and `retry_after` what the server said, `attempts` how many tries."""

    def __init__(
        self,
        reason: str,
        kind: Failure,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.attempts = attempts

    @property
    def retryable(self) -> bool:
        if self.kind == "status":
            return self.status is not None and is_retryable_status(self.status)
        return self.kind in ("timeout", "connect")


@dataclass(frozen=True)
class Response:
    """One answer: where it came from (after redirects), its status, headers and body."""

    url: str
    status: int
    headers: Mapping[str, str]  # lower-case names
    content: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower case ("" when absent)."""
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        return decode_utf8(self.content)


@dataclass(frozen=True)
class _Send:
    """What one attempt sends and how it treats the answer."""

    headers: Mapping[str, str] | None
    content: bytes | None
    accept: frozenset[int]
    read_body: bool
    follow_redirects: bool
    secret_headers: frozenset[str]  # lower-case names sent to the first origin only


class _Budget:
    def __init__(self, seconds: float, clock: Clock) -> None:
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return self._end - self._clock()


def _hint(exc: BaseException) -> float | None:
    return exc.retry_after if isinstance(exc, HttpFailure) else None


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, HttpFailure) and exc.retryable


class HttpClient:
    """Bounded requests (see the module doc), awaited on the command's event loop: each attempt
    runs on httpx's async client under `asyncio.wait_for` (the whole-request deadline)."""

    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.user_agent = user_agent
        self.sleep = sleep
        self.clock = clock
        self._transport = transport

    async def request(
        self,
        method: str,
        url: str,
        *,
        limits: Limits,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        accept: frozenset[int] = frozenset({200}),
        read_body: bool = True,
        follow_redirects: bool = True,
        secret_headers: Collection[str] = (),
        around: Callable[[], AbstractAsyncContextManager[object]] | None = None,
        on_retry: Callable[[HttpFailure, int, float], None] | None = None,
    ) -> Response:
        """One call with retries. Statuses in `accept` are answers; a retryable status is
        tried again, any other raises `HttpFailure(kind="status")`. `read_body=False` returns
        at the headers (a webhook needs only the status); `follow_redirects=False` answers a
        redirect with its own status (a POST is never sent on to another host). The headers
        named in `secret_headers` (and `Authorization`) are dropped when a redirect leaves the
        origin of `url`. `around()` wraps
        each attempt (a rate gate); `on_retry(failure, attempt, wait)` hears each retry before
        its wait."""
        target = full_url(url, params)
        secrets = ALWAYS_SECRET_HEADERS | {name.lower() for name in secret_headers}
        budget = _Budget(limits.total, self.clock)
        over = OverBudget(budget.remaining, _hint)
        attempts = 0

        async def attempt() -> Response:
            nonlocal attempts
            attempts += 1
            left = budget.remaining()
            timeout = limits.timeout if left >= limits.timeout else round(left, 1)
            if timeout <= 0:
                raise HttpFailure("the time budget was spent before this try", "timeout")
            async with around() if around is not None else nullcontext():
                send = _Send(headers, content, accept, read_body, follow_redirects, secrets)
                return await self._attempt(method, target, limits, send, timeout)

        def before_sleep(state: Any) -> None:
            if on_retry is not None and state.outcome is not None:
                failure = state.outcome.exception()
                if isinstance(failure, HttpFailure):
                    on_retry(failure, state.attempt_number, state.upcoming_sleep)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(limits.attempts) | over,
            wait=HintOrBackoff(
                _hint,
                first=BACKOFF_FIRST_SECONDS,
                jitter=BACKOFF_JITTER_SECONDS,
                cap=limits.max_wait,
                backoff_cap=BACKOFF_MAX_SECONDS,
            ),
            retry=retry_if_exception(_retryable),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return await retrying(attempt)
        except HttpFailure as failure:
            failure.attempts = attempts
            if over.stopped_for is not None and attempts < limits.attempts:
                asked = "the server asked to wait" if failure.retry_after else "waiting"
                failure.reason += (
                    f"; {asked} {over.stopped_for:g} s, past the time budget of "
                    f"{limits.total:g} s for this request: not tried again"
                )
                failure.kind = "over_budget" if failure.kind == "status" else failure.kind
            raise

    async def _attempt(
        self, method: str, url: str, limits: Limits, send: _Send, timeout: float
    ) -> Response:
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": self.user_agent},
            follow_redirects=send.follow_redirects,
            max_redirects=MAX_REDIRECTS,
            transport=self._transport,
            event_hooks={"request": [_secrets_stay_at(url, send.secret_headers)]},
        ) as client:
            try:
                response = await asyncio.wait_for(
                    self._exchange(client, method, url, send, limits), timeout
                )
            except TimeoutError:
                raise HttpFailure(
                    f"no complete answer within {timeout:g} s (whole request)", "timeout"
                ) from None
            except httpx.TimeoutException:
                raise HttpFailure(f"timed out after {timeout:g} s", "timeout") from None
            except httpx.TooManyRedirects:
                raise HttpFailure(f"more than {MAX_REDIRECTS} redirects", "invalid") from None
            except httpx.UnsupportedProtocol:
                raise HttpFailure(
                    "redirected to a URL that is not http(s); refused", "invalid"
                ) from None
            except httpx.InvalidURL as exc:
                raise HttpFailure(f"not a valid URL ({exc})", "invalid") from None
            except httpx.TransportError as exc:
                raise HttpFailure(f"connection failed ({describe(exc)})", "connect") from None
            except httpx.HTTPError as exc:  # a malformed answer and the like
                raise HttpFailure(f"request failed ({describe(exc)})", "invalid") from None
        status = response.status
        if status in send.accept:
            return response
        hint = parse_retry_after(response.header("retry-after"))
        raise HttpFailure(f"HTTP {status}", "status", status=status, retry_after=hint)

    async def _exchange(
        self, client: httpx.AsyncClient, method: str, url: str, send: _Send, limits: Limits
    ) -> Response:
        async with client.stream(method, url, headers=send.headers, content=send.content) as answer:
            status = answer.status_code
            names = {k.lower(): v for k, v in answer.headers.items()}
            if not send.read_body or status == 304 or is_retryable_status(status):
                return Response(str(answer.url), status, names, b"")
            body = await read_capped(answer.aiter_bytes(), names, limits.max_bytes)
            return Response(str(answer.url), status, names, body)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port (the scheme's default when none is written)."""
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def _secrets_stay_at(url: str, names: frozenset[str]) -> Callable[[httpx.Request], Awaitable[None]]:
    """A request hook (httpx runs it before each hop of a redirect chain) that removes the
    headers in `names` from any request leaving the origin of `url`."""
    origin = _origin(httpx.URL(url))

    async def hook(request: httpx.Request) -> None:
        if _origin(request.url) != origin:
            for name in names:
                request.headers.pop(name, None)

    return hook


async def read_capped(
    chunks: AsyncIterator[bytes], headers: Mapping[str, str], limit: int
) -> bytes:
    """The whole body, or HttpFailure("too_large") past `limit` bytes (or a declared length
    over it, before reading)."""
    declared = bounded_int(headers.get("content-length"))
    if declared is not None and declared > limit:
        raise HttpFailure(f"response larger than {limit:,} bytes", "too_large")
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise HttpFailure(f"response larger than {limit:,} bytes", "too_large")
    return bytes(body)


def full_url(url: str, params: Mapping[str, str | int] | None = None) -> str:
    """`url` with `params` added to its own query (a configured URL may carry one: a proxy's
    key); HttpFailure("invalid") when it does not parse."""
    try:
        parsed = httpx.URL(url)
        return str(parsed.copy_merge_params(dict(params)) if params else parsed)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise HttpFailure(f"not a valid URL ({type(exc).__name__})", "invalid") from None


def describe(exc: BaseException) -> str:
    """A transport error in a few words, without a URL."""
    text = " ".join(str(exc).split())
    if not text or "://" in text:
        return type(exc).__name__
    return text[:120]


def is_transport_error(exc: BaseException) -> bool:
    """Whether `exc` is a timeout or a connection failure of an HTTP library (httpx)."""
    return isinstance(exc, httpx.TimeoutException | httpx.TransportError)


# -- the openai SDK's transport ----------------------------------------------------------------


class AnswerTooLarge(Exception):
    """A model answer (or a Batch API file) passed the byte cap; not retried."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"answer larger than {limit:,} bytes; refused")
        self.limit = limit


def too_large(exc: BaseException) -> AnswerTooLarge | None:
    """The AnswerTooLarge behind `exc` (the SDK wraps it as a connection error), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, AnswerTooLarge):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _sdk_httpx() -> Any:
    """The HTTP library the installed openai SDK is built on: httpx (or httpx2 since openai 3)."""
    import openai

    module = openai.DefaultAsyncHttpxClient.__mro__[1].__module__
    return importlib.import_module(module.split(".")[0])


def sdk_http_client(*, timeout: float, max_bytes: int) -> Any:
    """The `http_client` for `openai.AsyncOpenAI`: the SDK's own client class (so it closes
    quietly with its loop) on a transport whose bodies stop at `max_bytes`. The SDK's retries
    stay off (`max_retries=0`): `TransportPolicy` retries, under the whole-call deadline."""
    import openai

    lib = _sdk_httpx()

    class CappedStream(lib.AsyncByteStream):  # type: ignore[misc, name-defined]
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        async def __aiter__(self) -> AsyncIterator[bytes]:
            seen = 0
            async for chunk in self._inner:
                seen += len(chunk)
                if seen > max_bytes:
                    raise AnswerTooLarge(max_bytes)
                yield chunk

        async def aclose(self) -> None:
            await self._inner.aclose()

    class CappedTransport(lib.AsyncBaseTransport):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            self._inner = lib.AsyncHTTPTransport()

        async def handle_async_request(self, request: Any) -> Any:
            response = await self._inner.handle_async_request(request)
            declared = bounded_int(response.headers.get("Content-Length"))
            if declared is not None and declared > max_bytes:
                await response.aclose()
                raise AnswerTooLarge(max_bytes)
            return lib.Response(
                status_code=response.status_code,
                headers=response.headers,
                stream=CappedStream(response.stream),
                extensions=response.extensions,
            )

        async def aclose(self) -> None:
            await self._inner.aclose()

    return openai.DefaultAsyncHttpxClient(timeout=timeout, transport=CappedTransport())


__all__ = [
    "AnswerTooLarge",
    "HttpClient",
    "HttpFailure",
    "Limits",
    "Response",
    "describe",
    "full_url",
    "is_transport_error",
    "sdk_http_client",
    "too_large",
]
