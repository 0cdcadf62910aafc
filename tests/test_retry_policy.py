"""The one retry policy: which statuses are retried, and how long to wait before the next try."""

from __future__ import annotations

from tenacity import RetryCallState, Retrying

from agent.core.retry_policy import HintOrBackoff, is_retryable_status


class _Hinted(Exception):
    def __init__(self, seconds: float | None) -> None:
        super().__init__("hinted")
        self.seconds = seconds


def _state(attempt: int, exc: BaseException) -> RetryCallState:
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def _wait() -> HintOrBackoff:
    return HintOrBackoff(
        lambda exc: exc.seconds if isinstance(exc, _Hinted) else None,
        first=0.5,
        jitter=0.5,
        cap=10.0,
    )


def test_temporary_statuses_are_retried_and_permanent_ones_are_not() -> None:
    assert all(is_retryable_status(s) for s in (408, 409, 425, 429, 500, 502, 503, 504, 599))
    assert not any(is_retryable_status(s) for s in (200, 304, 400, 401, 403, 404, 422))


def test_the_servers_hint_wins_but_is_capped() -> None:
    wait = _wait()
    assert wait(_state(1, _Hinted(3.0))) == 3.0
    assert wait(_state(1, _Hinted(3600.0))) == 10.0


def test_without_a_hint_the_wait_doubles_with_jitter_and_stays_under_the_cap() -> None:
    wait = _wait()
    for attempt, low in ((1, 0.5), (2, 1.0), (3, 2.0)):
        seconds = wait(_state(attempt, _Hinted(None)))
        assert low <= seconds <= low + 0.5
    assert wait(_state(30, ValueError("no hint"))) == 10.0
