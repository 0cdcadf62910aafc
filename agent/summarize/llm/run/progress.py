"""Progress of the model stage for the terminal: calls done / planned and the time left."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from agent.core.wording import duration
from agent.errors import ModelError
from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest

Report = Callable[[str], None]


class CallProgress:
    """Counts model calls as they finish against the calls planned so far.

    The plan grows as the engine learns it (grouping first, then one call per theme part plus
    the headline); re-asks and fallbacks are real calls too, so "planned" never shows less than
    "done". The time left is the mean time per finished call (wall clock, so concurrency is
    included) times the calls still planned; against a local server whose speed was measured
    (`run.pace`), it is the engine's estimate of the calls left at that speed (`expect`), and
    the line says the speed.
    """

    def __init__(self, report: Report, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._report = report
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self.planned = 0
        self.done = 0
        self._expected_end: float | None = None
        self._speed = ""

    def plan(self, calls: int) -> None:
        with self._lock:
            self.planned += calls
        self._report(self.text())

    def tick(self) -> None:
        with self._lock:
            self.done += 1
        self._report(self.text())

    def expect(self, seconds: float, speed: str) -> None:
        """The engine's estimate of the time left at the server's measured `speed` (words:
        "7.4 tokens/s"), which the line shows from now on."""
        with self._lock:
            self._expected_end = self._clock() + seconds
            self._speed = speed
        self._report(self.text())

    def seconds_left(self) -> float | None:
        with self._lock:
            done, planned, end = self.done, max(self.planned, self.done), self._expected_end
        now = self._clock()
        if end is not None and end > now:
            return end - now
        if done == 0:
            return None
        return (now - self._started) / done * (planned - done)

    def text(self) -> str:
        """ "model calls: 3 of 10 done, about 12 s left (7.4 tokens/s)"."""
        planned = max(self.planned, self.done)
        text = f"model calls: {self.done} of {planned} done"
        left = self.seconds_left()
        if left is not None and self.done < planned:
            text += f", about {duration(left)} left"
        if self._speed:
            text += f" ({self._speed})"
        return text


class Counted(ChatModel):
    """A model whose calls tick a `CallProgress` when answered, or when they failed after
    reaching the server, or when cancelled (another call of its step failed, so the step fell
    back: it may have reached the server). A call the circuit breaker or the cost cap stopped
    was never made: the planned call moves to the next model, or leaves the plan when the
    offline engine is next. With `then_another_model`, a real failed call plans the next
    model's call."""

    def __init__(
        self, inner: ChatModel, progress: CallProgress, *, then_another_model: bool = False
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self._progress = progress
        self._then_another_model = then_another_model

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        try:
            answer = await self.inner.complete(request)
        except asyncio.CancelledError:  # its step fell back meanwhile: it is not pending
            self._progress.tick()
            raise
        except ModelError as exc:
            if exc.attempts > 0:  # a real call, done; the next model makes one more
                self._progress.tick()
                if self._then_another_model:
                    self._progress.plan(1)
            elif not self._then_another_model:  # never made; the offline engine takes it
                self._progress.plan(-1)
            raise
        self._progress.tick()
        return answer

    async def aclose(self) -> None:
        await self.inner.aclose()


__all__ = ["CallProgress", "Counted"]
