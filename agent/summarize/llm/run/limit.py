"""How many model requests are in flight: start at `llm.concurrency`, back off on 429.

An additive-increase, multiplicative-decrease limit (as TCP's congestion window): a 429 (the
provider's rate limit) halves it, once per burst (429s of requests sent before the last
decrease change nothing), and a run of successful requests as long as the limit adds one
back, never past the configured number. One limit is shared by every model of a run (the
primary, the fallback, the Batch API's direct calls), and only the transport takes its slots:
each attempt of a request holds one, and a request waiting to retry holds none
(`models.transport`).

Why not a plain semaphore: against a provider that answers 429 once N requests are in flight,
a fixed limit spends the retries of every call over N and falls back to the offline engine for
whole themes, where this one settles under N and the model writes the digest
(`bench/rate_limit.py` has the numbers).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


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
        self._changed = asyncio.Condition()  # of the run's one event loop

    async def acquire(self) -> int:
        """Wait for a slot; returns the epoch it was taken in (for `throttled`)."""
        changed = self._changed
        async with changed:
            await changed.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            return self.epoch

    async def release(self, *, succeeded: bool = False) -> None:
        changed = self._changed
        async with changed:
            self.in_flight -= 1
            if succeeded:
                self._successes += 1
                if self._successes >= self.limit and self.limit < self.maximum:
                    self.limit += 1
                    self._successes = 0
            changed.notify_all()

    def throttled(self, epoch: int | None = None) -> None:
        """The provider said 429 to a request sent in `epoch`: halve the limit (requests in
        flight finish; no new ones start), unless it was already lowered since that request
        was sent."""
        self.throttles += 1
        if epoch is not None and epoch < self.epoch:
            return
        self.epoch += 1
        self.limit = max(self.minimum, self.limit // 2)
        self.lowest = min(self.lowest, self.limit)
        self._successes = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[int]:
        """Hold one slot for one request; yields the epoch it was taken in."""
        epoch = await self.acquire()
        try:
            yield epoch
        except BaseException:
            await self.release(succeeded=False)
            raise
        await self.release(succeeded=True)

    def __repr__(self) -> str:
        return f"AdaptiveLimit({self.limit} of {self.maximum}, in flight {self.in_flight})"


__all__ = ["AdaptiveLimit"]
