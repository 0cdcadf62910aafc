"""`gather_or_cancel`, the one way the sources, the grouping calls and doctor's source checks are
awaited together: results in the order given, and a failure leaves nothing running."""

from __future__ import annotations

import asyncio

import pytest

from agent.core.tasks import gather_or_cancel
from agent.errors import ModelError


def test_results_keep_the_order_given_not_the_order_finished() -> None:
    finished: list[str] = []

    async def after(name: str, ticks: int) -> str:
        for _ in range(ticks):
            await asyncio.sleep(0)
        finished.append(name)
        return name

    got = asyncio.run(gather_or_cancel([after("slow", 5), after("fast", 0)]))
    assert got == ["slow", "fast"]
    assert finished == ["fast", "slow"], "both ran at the same time"


def test_the_first_failure_is_raised_as_itself_and_the_others_are_cancelled() -> None:
    events: list[str] = []

    async def fails() -> str:
        await asyncio.sleep(0)
        raise ModelError("bad answer")

    async def waits() -> str:
        try:
            await asyncio.Event().wait()  # never set: only a cancellation ends it
        except asyncio.CancelledError:
            events.append("cancelled")
            raise
        return "never"

    async def run() -> None:
        with pytest.raises(ModelError, match="bad answer"):
            await gather_or_cancel([waits(), fails()])
        events.append("raised")
        assert len(asyncio.all_tasks()) == 1, "only this coroutine's task is left"

    asyncio.run(run())
    assert events == ["cancelled", "raised"]
