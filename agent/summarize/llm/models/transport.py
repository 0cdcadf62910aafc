"""Layer 1 of the model path: how one model's requests reach it, in this one place.

Every request an adapter makes (a chat completion through the openai SDK, a LangChain call, a
Batch API file or poll) goes through `Transport.send`, which owns:

- the retry policy (`agent.core.retry_policy`, tenacity): 408, 409, 425, 429 and 5xx answers,
  timeouts and dropped connections are tried again, at most `llm.max_attempts` times, after the
  server's `Retry-After` (or `retry-after-ms`), else exponential backoff with jitter, both
  capped at `llm.max_retry_wait_seconds`; anything else fails at once; a `Retry-After` longer
  than what is left of the run's time fails at once instead of waiting;
- the deadline: each attempt (connect, headers and the whole body) is cut at
  `llm.timeout_seconds`, never past what is left of the run's time (`Budget.seconds_left`), and
  a wait that would end past it is not waited for: the request fails at once;
- the rate limit: each attempt holds a slot of the run's `AdaptiveLimit` (`run.limit`); a 429
  halves it, and a request waits for its retry without a slot;
- the circuit breaker: after `llm.circuit_breaker_failures` requests in a row failed, this model
  gets no more requests this run (the fallback chain moves on at once);
- what a local server says besides "try again": a 503 "Loading model" (llama.cpp reading its
  model from disk) is waited for, polling every few seconds, up to `llm.timeout_seconds` of
  waiting (said once), without using up the attempts or counting toward the breaker; a request
  longer than the server's context window (llama.cpp's ``exceed_context_size_error``, vLLM's
  and OpenAI's "maximum context length") fails at once, not retried and not counted either:
  that request is at fault, not the server, the model or the dialect. It fails as
  `ContextExceeded`, with the window and the request's size when the server says them
  (`context_limits`), so that the layer above can plan smaller calls.

So "what happens on a 429?": the limit halves, the request waits what the server asked (or the
backoff), without its slot, then queues for one and tries again; after the last attempt, or
when the wait would pass the run's time, it is a `ModelUnavailable` and the fallback chain
takes over. Whether an answer is usable (cut off, empty, invalid) is layer 2's business
(`asking.ask`), never retried here. Failures never carry the API key (`scrub`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import re
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import TypeVar

import openai
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception
from tenacity.stop import stop_base

from agent.config import LLMSettings
from agent.core.http import is_transport_error, too_large
from agent.core.one_line import one_line
from agent.core.retry_policy import (
    HintOrBackoff,
    OverBudget,
    is_retryable_status,
    loading_poll,
    parse_retry_after,
)
from agent.core.wording import plural
from agent.summarize.llm.errors import ContextExceeded, ModelUnavailable, Rejected
from agent.summarize.llm.run.budget import Budget
from agent.summarize.llm.run.limit import AdaptiveLimit

logger = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
MakeRequest = Callable[[float], Awaitable[T]]
"""`make(timeout)`: start one request that should end within `timeout` seconds."""

BACKOFF_INITIAL_SECONDS = 0.5
BACKOFF_JITTER_SECONDS = 0.5
# What servers say of a request longer than the context window (llama.cpp, vLLM, OpenAI, LM
# Studio), and of a model still loading (llama.cpp), in their error bodies (lower case).
_OVER_CONTEXT = (
    "exceed_context_size",
    "context_length_exceeded",
    "context size",
    "context length",
    "context window",
)
_OVER_CONTEXT_STATUS = frozenset({400, 413, 500})
# The window and the request's size as servers say them: llama.cpp "request (9000 tokens)
# exceeds the available context size (4096 tokens)" (and `n_ctx`, `n_prompt_tokens` beside
# it); vLLM and OpenAI "maximum context length is 4096 tokens. However, you requested 9000
# tokens" (or "your messages resulted in 9000 tokens").
_WINDOW_SAID = (
    re.compile(r"context size \((\d+) tokens\)"),
    re.compile(r"maximum context length is (\d+) tokens"),
)
_REQUEST_SAID = (
    re.compile(r"request \((\d+) tokens\)"),
    re.compile(r"you requested (\d+) tokens"),
    re.compile(r"resulted in (\d+) tokens"),
)
_LOADING = ("loading model", "model is loading", "model is still loading", "currently loading")
_SECRET_LIKE = re.compile(r"\b(sk|rk|pk|key)-[A-Za-z0-9_*\-]{6,}")
_MAX_DETAIL = 160


class CircuitBreaker:
    """Opens after `threshold` failed requests in a row; stays open for the rest of the run."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.failures = 0
        self.is_open = False
        self._lock = threading.Lock()

    def check(self, model: str) -> None:
        if self.is_open:
            raise ModelUnavailable(
                f"{model}: circuit open after {self.failures} failed calls in a row; "
                "not calling it again this run"
            )

    def record_success(self) -> None:
        with self._lock:
            if not self.is_open:
                self.failures = 0

    def record_failure(self, model: str) -> None:
        with self._lock:
            self.failures += 1
            opened = not self.is_open and self.failures >= self.threshold
            if opened:
                self.is_open = True
        if opened:
            logger.warning(
                "%s: %s in a row; circuit open for the rest of the run",
                model,
                plural(self.failures, "failed call"),
            )

    def __repr__(self) -> str:
        state = "open" if self.is_open else "closed"
        return f"CircuitBreaker({state}, failures={self.failures}/{self.threshold})"


# -- classifying failures -----------------------------------------------------------------------


class CallDeadline(TimeoutError):
    """One attempt (connect, headers, whole body) passed its deadline."""


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a failure: any SDK's status error (openai's, anthropic's through
    LangChain, httpx's) names it `status_code`, on itself or on its `response`."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _headers_of(exc: BaseException) -> dict[str, str]:
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None:
        return {}
    try:
        return {str(k).lower(): str(v) for k, v in headers.items()}
    except Exception:  # noqa: BLE001 (an odd headers object: no hint)
        return {}


def server_text(exc: BaseException) -> str:
    """What the server's error body says (its message, type, code and the parameter it names;
    a plain-text body as it is), lower case; "" when the failure carries no body."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            parts = (inner.get(key) for key in ("message", "type", "code", "status", "param"))
            return " ".join(str(part) for part in parts if part is not None).lower()
        body = inner
    return body.lower() if isinstance(body, str) else ""


def is_over_context(exc: BaseException) -> bool:
    """The server refused the request as longer than its context window: a fault of this
    request (the next, smaller one may pass), never a rejected dialect nor an outage."""
    if status_of(exc) not in _OVER_CONTEXT_STATUS:
        return False
    text = server_text(exc)
    return any(marker in text for marker in _OVER_CONTEXT)


def context_limits(exc: BaseException) -> tuple[int | None, int | None]:
    """(the server's context window, the refused request's tokens) as its error body says
    them (llama.cpp's `n_ctx` and `n_prompt_tokens`, else the numbers in the message); None
    for what it does not say."""
    inner = getattr(exc, "body", None)
    if isinstance(inner, dict):
        inner = inner.get("error", inner)
    fields = inner if isinstance(inner, dict) else {}
    text = server_text(exc)

    def said(key: str, patterns: Sequence[re.Pattern[str]]) -> int | None:
        value = fields.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        found = next((m for p in patterns if (m := p.search(text)) is not None), None)
        return int(found.group(1)) if found is not None and int(found.group(1)) > 0 else None

    return said("n_ctx", _WINDOW_SAID), said("n_prompt_tokens", _REQUEST_SAID)


def is_loading(exc: BaseException) -> bool:
    """A 503 saying the server is still loading its model (llama.cpp's "Loading model")."""
    return status_of(exc) == 503 and any(marker in server_text(exc) for marker in _LOADING)


def is_retryable(exc: BaseException) -> bool:
    """Retryable statuses (`agent.core.retry_policy`), timeouts and connection errors; everything
    else fails at once (an answer over the byte cap too: it would come back as big; a request
    over the context window too: it would be as long again)."""
    if too_large(exc) is not None or is_over_context(exc):
        return False
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    status = status_of(exc)
    if status is not None:
        return is_retryable_status(status)
    return is_transport_error(exc) or isinstance(exc, TimeoutError | ConnectionError)


def retry_after_seconds(
    exc: BaseException | None, *, now: Callable[[], float] = time.time
) -> float | None:
    """The server's wait hint: ``retry-after-ms``, else ``Retry-After`` (seconds or HTTP date)."""
    if exc is None:
        return None
    headers = _headers_of(exc)
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    when = dt.datetime.fromtimestamp(now(), dt.UTC)
    return parse_retry_after(headers.get("retry-after"), now=when)


def scrub(text: str, secrets: Sequence[str] = ()) -> str:
    """One line, short, with known secrets and key-like tokens masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return one_line(_SECRET_LIKE.sub(lambda m: f"{m.group(1)}-***", text), _MAX_DETAIL)


def describe_transport_error(exc: BaseException, secrets: Sequence[str] = ()) -> str:
    """A one-line description of a transport failure that never contains the key."""
    big = too_large(exc)
    if big is not None:
        return str(big)
    if isinstance(exc, CallDeadline):
        return str(exc)
    if isinstance(exc, openai.APITimeoutError):
        return "request timed out"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        return f"connection failed ({type(cause).__name__})" if cause else "connection failed"
    status = status_of(exc)
    if status is not None:
        detail = None
        body = getattr(exc, "body", None)
        if isinstance(body, dict):
            inner = body.get("error", body)
            detail = inner.get("message") if isinstance(inner, dict) else inner
        elif isinstance(body, str):  # a plain-text body: "404 page not found"
            detail = body
        return f"HTTP {status}" + (f": {scrub(str(detail), secrets)}" if detail else "")
    return type(exc).__name__


# -- the transport ------------------------------------------------------------------------------


class Transport:
    """The requests of one model (see the module docstring). Primary and fallback share the
    run's `budget` and `limit`; each has its own circuit breaker."""

    def __init__(
        self,
        llm: LLMSettings,
        *,
        budget: Budget,
        limit: AdaptiveLimit | None = None,
        sleep: Sleep | None = None,
        grace_seconds: float = 0.0,
    ) -> None:
        self.name = llm.model
        self.budget = budget
        self.limit = limit if limit is not None else AdaptiveLimit(llm.concurrency)
        self.breaker = CircuitBreaker(llm.circuit_breaker_failures)
        self.max_attempts = llm.max_attempts
        self.timeout_seconds = llm.timeout_seconds
        # The Batch API's waits do not count against the run's time (`[llm] batch_deadline`).
        self.grace_seconds = max(0.0, grace_seconds)
        self._sleep: Sleep = sleep or asyncio.sleep
        self._said_loading = False  # "the server is still loading its model", said once
        self._secrets = (llm.api_key.get_secret_value(),) if llm.api_key is not None else ()
        self._wait = HintOrBackoff(
            retry_after_seconds,
            first=BACKOFF_INITIAL_SECONDS,
            jitter=BACKOFF_JITTER_SECONDS,
            cap=llm.max_retry_wait_seconds,
        )

    def __repr__(self) -> str:
        return f"Transport({self.name!r}, max_attempts={self.max_attempts}, {self.breaker!r})"

    def seconds_left(self) -> float:
        return self.budget.seconds_left(self.grace_seconds)

    def _guard(self) -> None:
        """Raise at once when the circuit is open or the run's time is spent."""
        self.breaker.check(self.name)
        if self.seconds_left() <= 0:
            raise ModelUnavailable(
                f"{self.name}: run time budget of {self._budget_seconds():g} s spent; "
                "no more model calls this run"
            )

    def _budget_seconds(self) -> float:
        seconds = self.budget.limits.seconds
        return math.inf if seconds is None else seconds + self.grace_seconds

    async def _bounded(self, make: MakeRequest[T]) -> T:
        """One attempt under a deadline for all of it (connect, headers, a trickling body):
        the per-call timeout, cut to what is left of the run's time, so a request in flight is
        cancelled when the run's time runs out."""
        timeout = max(0.001, min(self.timeout_seconds, self.seconds_left()))
        try:
            return await asyncio.wait_for(make(timeout), timeout)
        except TimeoutError:
            if self.seconds_left() <= 0:
                raise CallDeadline(
                    "timed out: cancelled in flight, the run time budget of "
                    f"{self._budget_seconds():g} s is spent"
                ) from None
            raise CallDeadline(f"timed out: no complete answer within {timeout:g} s") from None

    async def send(self, make: MakeRequest[T], *, rejected: Collection[int] = ()) -> T:
        """Run one request with the retries; a failure is `ModelUnavailable` (key-free). A
        status in `rejected` ends it at once as `Rejected`, not counted as a failure (the
        server is up; it refused the form of the request)."""
        attempts = 0
        loading = _Loading(self.timeout_seconds)  # 503 "Loading model" answers and waits
        epoch = 0  # the limit's epoch when the last attempt took its slot

        async def attempt() -> T:
            nonlocal attempts, epoch
            self._guard()
            async with self.limit.slot() as taken:
                epoch = taken
                attempts += 1
                return await self._bounded(make)

        def stop(state: RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            if exc is not None and is_loading(exc):
                return loading.done
            return attempts - loading.answers >= self.max_attempts

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if exc is not None and is_loading(exc):
                return loading.next_wait()
            return self._wait(state)

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            if exc is not None and is_loading(exc):
                self._say_loading()
                return
            if exc is not None and status_of(exc) == 429:
                self.limit.throttled(epoch)
            logger.info(
                "%s: %s; retry %d of %d in %.1f s",
                self.name,
                describe_transport_error(exc, self._secrets) if exc else "failed",
                state.attempt_number - loading.answers,
                self.max_attempts - 1,
                state.upcoming_sleep,
            )

        retrying = AsyncRetrying(
            # a wait, or a server's Retry-After, past the run's time ends the retries at once
            stop=_StopWhen(stop) | OverBudget(self.seconds_left, retry_after_seconds),
            wait=wait,
            retry=retry_if_exception(lambda e: is_retryable(e) and status_of(e) not in rejected),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            result: T = await retrying(attempt)
        except ModelUnavailable:  # the guard: circuit open or time spent, no request made
            raise
        except Exception as exc:  # noqa: BLE001 (every transport failure is ModelUnavailable)
            raise self._failure(exc, attempts, rejected, loading) from None
        self.breaker.record_success()
        return result

    def _say_loading(self) -> None:
        if not self._said_loading:
            self._said_loading = True
            logger.warning(
                "%s: the server is still loading its model (HTTP 503); waiting up to %g s",
                self.name,
                self.timeout_seconds,
            )

    def _failure(
        self, exc: BaseException, attempts: int, rejected: Collection[int], loading: _Loading
    ) -> Exception:
        what = describe_transport_error(exc, self._secrets)
        status = status_of(exc)
        if is_over_context(exc):  # this request's fault: the next, smaller one may pass
            message = (
                f"{self.name}: the request is longer than the server's context window "
                f"({what}; not retried)"
            )
            # said once by the layer above, which plans smaller calls (`run.window`)
            logger.info("%s", message)
            window, requested = context_limits(exc)
            return ContextExceeded(
                message,
                attempts=attempts,
                status_code=status,
                window=window,
                requested=requested,
            )
        if status is not None and status in rejected:
            return Rejected(
                f"{self.name}: {what} (not retried)",
                what=what,
                status_code=status,
                said=server_text(exc),
            )
        if is_loading(exc) and loading.answers:
            message = (
                f"{self.name}: the server was still loading its model after "
                f"{loading.waited:g} s of waiting ({what})"
            )
        elif not is_retryable(exc):
            message = f"{self.name}: {what} (not retried)"
        elif attempts - loading.answers >= self.max_attempts:
            message = f"{self.name}: {what} after {plural(attempts, 'attempt')}"
        else:
            message = (
                f"{self.name}: {what} after {plural(attempts, 'attempt')}; waiting longer "
                f"would pass the run time budget of {self._budget_seconds():g} s"
            )
        logger.warning("%s", message)
        logger.debug("%s: transport error type %s", self.name, type(exc).__name__)
        self.breaker.record_failure(self.name)
        return ModelUnavailable(message, attempts=attempts, status_code=status)


class _StopWhen(stop_base):
    """A tenacity stop condition from a function of the retry state."""

    def __init__(self, decide: Callable[[RetryCallState], bool]) -> None:
        self.decide = decide

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.decide(retry_state)


class _Loading:
    """The 503 "Loading model" answers of one request and the waits between them: polled
    (`loading_poll`) until `limit` seconds were waited, apart from the attempts."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.answers = 0
        self.waited = 0.0
        self.done = False  # waited `limit` seconds: no more

    def next_wait(self) -> float:
        """Counts one more loading answer; the wait before asking again."""
        self.answers += 1
        left = self.limit - self.waited
        self.done = left <= 0
        wait = min(loading_poll(self.answers), max(0.0, left))
        self.waited += wait
        return wait


__all__ = [
    "CallDeadline",
    "CircuitBreaker",
    "MakeRequest",
    "Sleep",
    "Transport",
    "context_limits",
    "describe_transport_error",
    "is_loading",
    "is_over_context",
    "is_retryable",
    "retry_after_seconds",
    "scrub",
    "server_text",
]
