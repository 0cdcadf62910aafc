"""The one retry policy of every HTTP client (sources, model calls, webhooks, Zotero).

Which answers are worth another attempt: 408 (timeout), 409 (conflict, e.g. a busy lock),
425 (too early), 429 (rate limited) and every 5xx; timeouts and dropped connections are the
callers' to add, as their clients name them differently. How long to wait before it: the
server's hint (`Retry-After`, read by `parse_retry_after`) when the failed attempt carried one,
capped; else tenacity's exponential backoff with jitter, capped. A hint longer than what is
left of the call's time budget is not waited for at all (`OverBudget`): the call fails at once.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
from collections.abc import Callable

from tenacity import RetryCallState, wait_exponential_jitter
from tenacity.stop import stop_base
from tenacity.wait import wait_base

RETRYABLE_STATUS = frozenset({408, 409, 425, 429})  # and every 5xx
# The waits while a server loads its model (503 "Loading model"): short, as a load ends at a
# moment nobody announces, then every 2 s; not backoff, as the server is well, only not ready.
LOADING_POLL_SECONDS = (0.25, 0.5, 1.0, 2.0)


def is_retryable_status(status: int) -> bool:
    """Whether an HTTP status is temporary: one of RETRYABLE_STATUS, or any 5xx."""
    return status in RETRYABLE_STATUS or 500 <= status <= 599


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (delta-seconds or an HTTP date; a past date is 0).

    None when the header is absent or not a usable wait (text, negative, not finite).
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def loading_poll(answers: int) -> float:
    """The wait before asking again a server that answered "loading" `answers` times."""
    return LOADING_POLL_SECONDS[max(1, min(answers, len(LOADING_POLL_SECONDS))) - 1]


class HintOrBackoff(wait_base):
    """The server's wait hint for the failed attempt, if `hint` finds one, else exponential
    backoff with jitter (`first` s, doubling, plus up to `jitter` s); both capped at `cap`."""

    def __init__(
        self,
        hint: Callable[[BaseException], float | None],
        *,
        first: float,
        jitter: float,
        cap: float,
        backoff_cap: float | None = None,
    ) -> None:
        self.hint = hint
        self.cap = cap
        limit = cap if backoff_cap is None else min(cap, backoff_cap)
        self.backoff = wait_exponential_jitter(multiplier=first, max=limit, jitter=jitter)

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        failure = outcome.exception() if outcome is not None else None
        hinted = self.hint(failure) if failure is not None else None
        if hinted is not None:
            return min(hinted, self.cap)
        return min(self.backoff(retry_state), self.cap)


class OverBudget(stop_base):
    """Stop retrying when the next wait, or the server's hint before it is capped, is longer
    than what `remaining()` says is left of the call's time budget: failing now beats sleeping
    past the deadline. `stopped_for` holds the wait that was refused (None: not stopped yet)."""

    def __init__(
        self,
        remaining: Callable[[], float],
        hint: Callable[[BaseException], float | None] | None = None,
    ) -> None:
        self.remaining = remaining
        self.hint = hint
        self.stopped_for: float | None = None

    def __call__(self, retry_state: RetryCallState) -> bool:
        wanted = retry_state.upcoming_sleep
        outcome = retry_state.outcome
        failure = outcome.exception() if outcome is not None else None
        if self.hint is not None and failure is not None:
            wanted = max(wanted, self.hint(failure) or 0.0)
        if wanted > 0 and wanted >= self.remaining():
            self.stopped_for = wanted
            return True
        return False


def wait_within(seconds: float, *, cap: float, remaining: float) -> float | None:
    """The wait a server asked for (`Backoff`, `Retry-After`), capped at `cap`; None when it
    is longer than the `remaining` budget (do not wait: give up now)."""
    if seconds >= remaining:
        return None
    return min(max(seconds, 0.0), cap)


__all__ = [
    "LOADING_POLL_SECONDS",
    "RETRYABLE_STATUS",
    "HintOrBackoff",
    "OverBudget",
    "is_retryable_status",
    "loading_poll",
    "parse_retry_after",
    "wait_within",
]
