"""How many model calls are in flight: start at `llm.concurrency`, back off on 429.

An additive-increase, multiplicative-decrease limit (as TCP's congestion window): a 429 (the
provider's rate limit) halves it, once per burst (429s of calls sent before the last decrease
change nothing), and a run of successful calls as long as the limit adds one
back, never past the configured number. The retry layer reports 429s and, while a throttled
call waits to retry, gives its slot back (`backoff_sleep`), so that the run really sends less.
(A call retrying a 5xx keeps its slot: that is no reason to send more.)
The slot of the call running in the current task is found through a context variable, so the
layers between the engine's `ConcurrencyLimitedModel` wrapper and the transport need not know
about it.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest

_SLOT: contextvars.ContextVar[_Slot | None] = contextvars.ContextVar(
    "model_call_slot", default=None
)


class AdaptiveLimit:
    """At most `limit` holders at once; `limit` moves between `minimum` and `maximum`."""

    def __init__(self, maximum: int, *, minimum: int = 1) -> None:
        self.maximum = max(1, maximum)
        self.minimum = max(1, min(minimum, self.maximum))
        self.limit = self.maximum
        self.lowest = self.limit  # for reports and tests: how far it backed off
        self.in_flight = 0
        self.peak = 0
        self.throttles = 0
        self.epoch = 0  # bumped by every decrease
        self._successes = 0
        self._changed = asyncio.Condition()

    async def acquire(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    async def release(self, *, succeeded: bool = False) -> None:
        async with self._changed:
            self.in_flight -= 1
            if succeeded:
                self._successes += 1
                if self._successes >= self.limit and self.limit < self.maximum:
                    self.limit += 1
                    self._successes = 0
            self._changed.notify_all()

    def throttled(self, epoch: int | None = None) -> None:
        """The provider said 429 to a call sent in `epoch`: halve the limit (calls in flight
        finish; no new ones start), unless it was already lowered since that call was sent."""
        self.throttles += 1
        if epoch is not None and epoch < self.epoch:
            return
        self.epoch += 1
        self.limit = max(self.minimum, self.limit // 2)
        self.lowest = min(self.lowest, self.limit)
        self._successes = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for a model call (and make it the current task's slot)."""
        await self.acquire()
        slot = _Slot(self)
        token = _SLOT.set(slot)
        try:
            yield
        except BaseException:
            await slot.finish(succeeded=False)
            raise
        else:
            await slot.finish(succeeded=True)
        finally:
            _SLOT.reset(token)


class _Slot:
    """One call's hold on the limit; let go while the call waits to retry."""

    def __init__(self, limit: AdaptiveLimit) -> None:
        self.limit = limit
        self.held = True
        self.epoch = limit.epoch
        self.throttled = False  # the last attempt was answered 429
        self.keep = False  # hold the slot through retry waits (see `keeping_slot`)

    async def finish(self, *, succeeded: bool) -> None:
        if self.held:
            self.held = False
            await self.limit.release(succeeded=succeeded)


def note_retry(status_code: int | None) -> None:
    """Called by the retry layer before it waits: a 429 lowers the current call's limit."""
    slot = _SLOT.get()
    if slot is not None:
        slot.throttled = status_code == 429
        if slot.throttled:
            slot.limit.throttled(slot.epoch)


async def backoff_sleep(sleep: Callable[[float], Awaitable[None]], seconds: float) -> None:
    """Wait before retrying a 429 without holding a slot, then queue for one again."""
    slot = _SLOT.get()
    if slot is None or not slot.held or not slot.throttled or slot.keep:
        await sleep(seconds)
        return
    await slot.finish(succeeded=False)
    await sleep(seconds)
    await slot.limit.acquire()
    slot.held, slot.epoch = True, slot.limit.epoch


@contextmanager
def keeping_slot() -> Iterator[None]:
    """Keep the current call's slot through its retry waits. For a dialect probe: the other
    calls wait for it while holding their slots, so a probe that let go of its slot during a
    429 wait could never get one back."""
    slot = _SLOT.get()
    if slot is None:
        yield
        return
    before, slot.keep = slot.keep, True
    try:
        yield
    finally:
        slot.keep = before


class ConcurrencyLimitedModel(ChatModel):
    """A model whose calls take a slot of one shared `AdaptiveLimit`: at most
    settings.llm.concurrency in flight, fewer while the provider answers 429."""

    def __init__(self, inner: ChatModel, limit: AdaptiveLimit) -> None:
        self.inner = inner
        self.name = inner.name
        self._limit = limit

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        async with self._limit.slot():
            return await self.inner.complete(request)


__all__ = [
    "AdaptiveLimit",
    "ConcurrencyLimitedModel",
    "backoff_sleep",
    "keeping_slot",
    "note_retry",
]
