"""How fast a local server answers, measured on the run's first calls, and what is left at that
rate.

A small model on a few CPU threads writes 5-30 tokens a second: a day of blurbs can take longer
than the run's time budget (`llm.run_budget_seconds`). `Pace` learns the server's speed from
each fresh answer (its input and output tokens and how long the server worked on it: from the
later of its start and the previous answer's end, since a single-slot server answers one at a
time) and estimates a call as ``input / prompt_rate + output / write_rate``: with two answers
of different shapes both rates are fitted, with one the prompt is read ten times faster than
the answer is written (llama.cpp on a CPU). The engine asks it after the first call how long
the rest will take, and writes less when that does not fit (`engine`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest

if TYPE_CHECKING:
    from agent.storage.protocols import PaceMemory

PROMPT_SPEEDUP = 10.0  # reading the prompt is this much faster than writing, until measured
FILL_DEFAULT = 0.6  # the share of a call's output limit an answer uses, until measured
_MIN_SECONDS = 0.05  # answers faster than this say nothing about the speed (a cache, a fake)


@dataclass(frozen=True)
class Rates:
    """Tokens a second: of the prompt read, and of the answer written."""

    prompt: float
    write: float


class Pace:
    """The server's measured speed (thread- and task-safe)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._samples: list[tuple[int, int, float]] = []  # input, output tokens; seconds
        self._fills: list[float] = []  # output tokens / the output limit sent
        self._last_end: float | None = None

    def now(self) -> float:
        return self._clock()

    def add(self, answer: ChatAnswer, started: float) -> None:
        """One fresh answer that took from `started` until now."""
        end = self._clock()
        usage = answer.usage
        with self._lock:
            begin = max(started, self._last_end) if self._last_end is not None else started
            self._last_end = end
            seconds = end - begin
            if usage.calls < 1 or usage.output_tokens < 1 or seconds < _MIN_SECONDS:
                return
            self._samples.append((usage.input_tokens, usage.output_tokens, seconds))
            if answer.output_limit:
                self._fills.append(min(1.0, usage.output_tokens / answer.output_limit))

    @property
    def measured(self) -> bool:
        with self._lock:
            return bool(self._samples)

    def rates(self) -> Rates | None:
        """The prompt and writing rates (tokens a second); None before the first answer."""
        with self._lock:
            samples = list(self._samples)
        if not samples:
            return None
        fitted = _fit(samples) if len(samples) >= 2 else None
        if fitted is not None:
            return fitted
        units = sum(i / PROMPT_SPEEDUP + o for i, o, _ in samples)
        seconds = sum(s for _, _, s in samples)
        write = units / seconds
        return Rates(prompt=write * PROMPT_SPEEDUP, write=write)

    def tokens_per_second(self) -> float | None:
        """Output tokens written a second, as a person reads a server's speed."""
        rates = self.rates()
        return None if rates is None else rates.write

    def fill(self) -> float:
        """The share of its output limit an answer uses (measured, else FILL_DEFAULT)."""
        with self._lock:
            fills = list(self._fills)
        return sum(fills) / len(fills) if fills else FILL_DEFAULT

    def seconds_for(self, input_tokens: int, output_limit: int) -> float | None:
        """How long a call of `input_tokens` with an output limit of `output_limit` takes at
        the measured pace; None before the first answer."""
        rates = self.rates()
        if rates is None:
            return None
        output = output_limit * self.fill()
        return input_tokens / rates.prompt + output / rates.write


def _fit(samples: list[tuple[int, int, float]]) -> Rates | None:
    """Least squares of seconds = input * a + output * b; None when the answers cannot tell
    the two apart (same shape) or a rate comes out negative or zero."""
    matrix = np.array([[i, o] for i, o, _ in samples], dtype=float)
    seconds = np.array([s for _, _, s in samples], dtype=float)
    if np.linalg.matrix_rank(matrix) < 2 or np.linalg.cond(matrix) > 1e6:
        return None
    (per_input, per_output), *_ = np.linalg.lstsq(matrix, seconds, rcond=None)
    if per_input <= 0 or per_output <= 0:
        return None
    return Rates(prompt=1.0 / per_input, write=1.0 / per_output)


class CallsPerPlanned:
    """How many calls a local server needed per call a run planned on its earlier runs (a
    small model's re-asks, second asks and one-paper asks are calls a plan cannot foresee),
    remembered per endpoint and model: the time estimate multiplies by it (`factor`), and each
    run's own ratio updates it (`record`, a running mean that weighs the last run by half)."""

    MAX = 6.0  # llm.max_reasks and the one-per-call asks cannot make a call cost more

    def __init__(self, memory: PaceMemory | None, endpoint: str, model: str) -> None:
        self._memory, self._key = memory, (endpoint, model)

    def factor(self) -> float:
        """At least 1 (a plan never expects fewer calls than it makes), at most MAX."""
        known = self._memory.remembered_calls_per_planned(*self._key) if self._memory else None
        return min(self.MAX, max(1.0, known)) if known is not None else 1.0

    def record(self, planned: int, made: int) -> None:
        """This run's `made` calls for `planned` ones (nothing learnt from no plan)."""
        if self._memory is None or planned < 1:
            return
        ratio = min(self.MAX, max(0.0, made / planned))
        known = self._memory.remembered_calls_per_planned(*self._key)
        mean = ratio if known is None else (known + ratio) / 2
        self._memory.remember_calls_per_planned(*self._key, round(mean, 3))


class Paced(ChatModel):
    """A model whose fresh answers teach a `Pace` the server's speed."""

    def __init__(self, inner: ChatModel, pace: Pace) -> None:
        self.inner = inner
        self.name = inner.name
        self.base_url = inner.base_url
        self._pace = pace

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        started = self._pace.now()
        answer = await self.inner.complete(request)
        if not answer.cached:
            self._pace.add(answer, started)
        return answer

    async def aclose(self) -> None:
        await self.inner.aclose()


__all__ = ["FILL_DEFAULT", "PROMPT_SPEEDUP", "CallsPerPlanned", "Pace", "Paced", "Rates"]
