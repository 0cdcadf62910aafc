"""The one retry policy of every HTTP client (sources, model calls, webhooks).

Which answers are worth another attempt: 408 (timeout), 409 (conflict, e.g. a busy lock),
425 (too early), 429 (rate limited) and every 5xx; timeouts and dropped connections are the
callers' to add, as their clients name them differently. How long to wait before it: the
server's hint (`Retry-After`, see `agent.retry_after`) when the failed attempt carried one,
capped; else tenacity's exponential backoff with jitter, capped.
"""

from __future__ import annotations

from collections.abc import Callable

from tenacity import RetryCallState, wait_exponential_jitter
from tenacity.wait import wait_base

RETRYABLE_STATUS = frozenset({408, 409, 425, 429})  # and every 5xx


def is_retryable_status(status: int) -> bool:
    """Whether an HTTP status is temporary: one of RETRYABLE_STATUS, or any 5xx."""
    return status in RETRYABLE_STATUS or 500 <= status <= 599


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


__all__ = ["RETRYABLE_STATUS", "HintOrBackoff", "is_retryable_status"]
