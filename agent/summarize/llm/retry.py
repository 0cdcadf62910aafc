"""Transport resilience: tenacity retries, a per-run time budget and a circuit breaker.

Transport retries only (the project's retryable statuses, see `agent.core.retry_policy`; timeouts,
dropped connections), with the project's waits (Retry-After, else backoff). Re-asking the
model after an answer fails validation is the steps side's business and never happens here.

Time is injectable: `RunClock(clock=...)` and `TransportPolicy(sleep=...)`, so tests can check
the waits without waiting.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from agent.config import LLMSettings
from agent.core.http import is_transport_error, too_large
from agent.core.retry_policy import (
    HintOrBackoff,
    OverBudget,
    is_retryable_status,
    parse_retry_after,
)
from agent.one_line import one_line
from agent.summarize.llm.concurrency import backoff_sleep, note_retry
from agent.summarize.llm.errors import AnswerTruncated, ModelRefused, ModelUnavailable
from agent.wording import plural

logger = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

BACKOFF_INITIAL_SECONDS = 0.5
BACKOFF_JITTER_SECONDS = 0.5
_SECRET_LIKE = re.compile(r"\b(sk|rk|pk|key)-[A-Za-z0-9_*\-]{6,}")
_MAX_DETAIL = 160


class RunClock:
    """The run's time budget, measured from creation (share one between primary and fallback)."""

    def __init__(self, budget_seconds: float, *, clock: Clock = time.monotonic) -> None:
        self.budget_seconds = budget_seconds
        self._clock = clock
        self.started = clock()

    def elapsed(self) -> float:
        return self._clock() - self.started

    def remaining(self) -> float:
        return self.budget_seconds - self.elapsed()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def __repr__(self) -> str:
        return f"RunClock(budget_seconds={self.budget_seconds}, elapsed={self.elapsed():.1f})"


class CircuitBreaker:
    """Opens after `threshold` consecutive failed calls; stays open for the rest of the run."""

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


# -- classifying errors -------------------------------------------------------------------------


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of an error (openai's APIStatusError, or anything with `status_code`)."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


class CallDeadline(TimeoutError):
    """One call attempt (connect, headers, whole body) passed its deadline."""


def is_retryable(exc: BaseException) -> bool:
    """Retryable statuses (`agent.core.retry_policy`), timeouts and connection errors; everything
    else fails at once."""
    if too_large(exc) is not None:
        return False
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError) or status_of(exc) is not None:
        status = status_of(exc)
        return status is not None and is_retryable_status(status)
    if is_transport_error(exc):
        return True
    return isinstance(exc, TimeoutError | ConnectionError)


def _headers_of(exc: BaseException) -> dict[str, str]:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return {}
    try:
        return {str(k).lower(): str(v) for k, v in headers.items()}
    except Exception:  # noqa: BLE001 (an odd headers object: no hint)
        return {}


def retry_after_seconds(exc: BaseException | None, *, now: Clock = time.time) -> float | None:
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
    """A one-line description of a transport error that never contains the key."""
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
            detail = inner.get("message") if isinstance(inner, dict) else None
        return f"HTTP {status}" + (f": {scrub(str(detail), secrets)}" if detail else "")
    return type(exc).__name__


# -- the policy ----------------------------------------------------------------------------------


class TransportPolicy:
    """Bounded, budgeted retries for one model, plus its circuit breaker.

    `call(model)` wraps one logical call (the breaker counts these); `send(model, fn)` runs one
    request with retries and turns every transport failure into `ModelUnavailable`.
    """

    def __init__(
        self,
        *,
        max_attempts: int,
        max_retry_wait_seconds: float,
        clock: RunClock,
        breaker: CircuitBreaker,
        sleep: Sleep | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        self.max_attempts = max_attempts
        self.max_retry_wait_seconds = max_retry_wait_seconds
        self.clock = clock
        self.breaker = breaker
        self._sleep: Sleep = sleep or asyncio.sleep
        self._secrets = tuple(s for s in secrets if s)
        self._wait = HintOrBackoff(
            retry_after_seconds,
            first=BACKOFF_INITIAL_SECONDS,
            jitter=BACKOFF_JITTER_SECONDS,
            cap=max_retry_wait_seconds,
        )

    @classmethod
    def from_settings(
        cls,
        llm: LLMSettings,
        *,
        clock: RunClock | None = None,
        sleep: Sleep | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> TransportPolicy:
        secrets = (llm.api_key.get_secret_value(),) if llm.api_key is not None else ()
        return cls(
            max_attempts=llm.max_attempts,
            max_retry_wait_seconds=llm.max_retry_wait_seconds,
            clock=clock or RunClock(llm.run_budget_seconds),
            breaker=breaker or CircuitBreaker(llm.circuit_breaker_failures),
            sleep=sleep,
            secrets=secrets,
        )

    def guard(self, model: str) -> None:
        """Raise at once when the circuit is open or the run's time budget is spent."""
        self.breaker.check(model)
        if self.clock.expired:
            raise ModelUnavailable(
                f"{model}: run time budget of {self.clock.budget_seconds:g} s spent; "
                "no more model calls this run"
            )

    def timeout_for(self, per_call_seconds: float) -> float:
        """The per-request timeout: the configured one, but never past the run's budget."""
        return max(0.001, min(per_call_seconds, self.clock.remaining()))

    async def bounded(self, request: Awaitable[T], per_call_seconds: float) -> T:
        """Await one request under a deadline for all of it (connect, headers, a trickling
        body): `per_call_seconds`, cut to what is left of the run's budget, so a call in
        flight is cancelled when the budget runs out."""
        timeout = self.timeout_for(per_call_seconds)
        try:
            return await asyncio.wait_for(request, timeout)
        except TimeoutError:
            if self.clock.expired:
                budget = self.clock.budget_seconds
                raise CallDeadline(
                    f"timed out: cancelled in flight, the run time budget of {budget:g} s is spent"
                ) from None
            raise CallDeadline(f"timed out: no complete answer within {timeout:g} s") from None

    @asynccontextmanager
    async def call(self, model: str) -> AsyncIterator[None]:
        """One logical call: guarded, and counted by the circuit breaker."""
        self.guard(model)
        try:
            yield
        except ModelUnavailable:
            self.breaker.record_failure(model)
            raise
        except (AnswerTruncated, ModelRefused):
            self.breaker.record_success()  # the endpoint answered: it is up
            raise
        else:
            self.breaker.record_success()

    async def send(self, model: str, request: Callable[[], Awaitable[T]]) -> T:
        """Run `request` with retries; any failure becomes `ModelUnavailable` (key-free)."""
        attempts = 0

        async def attempt() -> T:
            nonlocal attempts
            self.guard(model)
            attempts += 1
            return await request()

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            note_retry(status_of(exc) if exc else None)  # a 429 lowers the concurrency
            logger.info(
                "%s: %s; retry %d of %d in %.1f s",
                model,
                describe_transport_error(exc, self._secrets) if exc else "failed",
                state.attempt_number,
                self.max_attempts - 1,
                state.upcoming_sleep,
            )

        retrying = AsyncRetrying(
            # a wait, or a server's Retry-After, past the run's budget ends the retries at once
            stop=stop_after_attempt(self.max_attempts)
            | OverBudget(self.clock.remaining, retry_after_seconds),
            wait=self._wait,
            retry=retry_if_exception(is_retryable),
            sleep=lambda seconds: backoff_sleep(self._sleep, seconds),  # without a slot
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return await retrying(attempt)
        except ModelUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 (every transport failure is ModelUnavailable)
            raise self._unavailable(model, exc, attempts) from None

    def _unavailable(self, model: str, exc: BaseException, attempts: int) -> ModelUnavailable:
        what = describe_transport_error(exc, self._secrets)
        if not is_retryable(exc):
            message = f"{model}: {what} (not retried)"
        elif attempts >= self.max_attempts:
            message = f"{model}: {what} after {plural(attempts, 'attempt')}"
        else:
            message = (
                f"{model}: {what} after {plural(attempts, 'attempt')}; "
                f"waiting longer would pass the run time budget of {self.clock.budget_seconds:g} s"
            )
        logger.warning("%s", message)
        logger.debug("%s: transport error type %s", model, type(exc).__name__)
        return ModelUnavailable(message, attempts=attempts, status_code=status_of(exc))

    def __repr__(self) -> str:
        return (
            f"TransportPolicy(max_attempts={self.max_attempts}, "
            f"max_retry_wait_seconds={self.max_retry_wait_seconds}, {self.breaker!r})"
        )


__all__ = [
    "CallDeadline",
    "CircuitBreaker",
    "RunClock",
    "TransportPolicy",
    "describe_transport_error",
    "is_retryable",
    "retry_after_seconds",
    "scrub",
]
