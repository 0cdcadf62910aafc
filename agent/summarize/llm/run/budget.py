"""What one run may spend on model calls: calls, tokens, dollars and seconds.

As pydantic-ai's `UsageLimits`, with the spending kept beside the limits: the caller (a command,
the pipeline) creates one `Budget` for the run and hands it to every engine it starts, so the
relevance pass, the shared blurbs and each reader's digest all draw on the same cap; nothing
rewrites settings to pass what is left on. The adapters are admitted by it before each call
(`UsageMeter.check`), the meter charges it what each call cost (`UsageMeter.add`), the
transport reads its clock (no request starts, and none waits to retry, past `seconds`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from agent.config import LLMSettings
from agent.models import Usage
from agent.summarize.llm.errors import BudgetExceeded, CostCapReached

Clock = Callable[[], float]


@dataclass(frozen=True)
class Limits:
    """The most a run may spend; None: no limit."""

    calls: int | None = None  # model calls (answers served from the cache are free)
    tokens: int | None = None  # input plus output tokens
    dollars: float | None = None  # the cost estimate, from the price table
    seconds: float | None = None  # from the budget's creation to the last request's end

    @classmethod
    def from_settings(cls, llm: LLMSettings) -> Limits:
        """`[llm] max_calls`, `max_total_tokens`, `max_cost_usd` and `run_budget_seconds`."""
        return cls(
            calls=llm.max_calls,
            tokens=llm.max_total_tokens,
            dollars=llm.max_cost_usd,
            seconds=llm.run_budget_seconds,
        )


class Budget:
    """The run's limits and what it spent so far; thread- and task-safe."""

    def __init__(self, limits: Limits | None = None, *, clock: Clock = time.monotonic) -> None:
        self.limits = limits or Limits()
        self._clock = clock
        self.started = clock()
        self._spent = Usage()
        self._calls = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, llm: LLMSettings, *, clock: Clock = time.monotonic) -> Budget:
        return cls(Limits.from_settings(llm), clock=clock)

    # -- spending -----------------------------------------------------------------------------

    def charge(self, usage: Usage) -> None:
        """Add what a call cost (priced: `cost_usd` filled in)."""
        with self._lock:
            self._spent = self._spent + usage

    @property
    def spent(self) -> Usage:
        with self._lock:
            return self._spent

    @property
    def calls(self) -> int:
        """The calls admitted so far (a call counts from its start, answered or not)."""
        with self._lock:
            return self._calls

    def passed_by(self, *, calls: int = 1, tokens: int, dollars: float) -> str | None:
        """Which limit `calls` more calls of this size (input plus output tokens, estimated
        cost, all of them together) would pass: "calls", "tokens" or "dollars"; None: none."""
        with self._lock:
            return self._passed_by(calls, tokens, dollars)

    def _passed_by(self, calls: int, tokens: int, dollars: float) -> str | None:
        spent, limits = self._spent, self.limits
        if limits.calls is not None and self._calls + calls > limits.calls:
            return "calls"
        used = spent.input_tokens + spent.output_tokens
        if limits.tokens is not None and used + tokens > limits.tokens:
            return "tokens"
        if limits.dollars is not None and spent.cost_usd + dollars > limits.dollars:
            return "dollars"
        return None

    def admit(
        self,
        model: str,
        *,
        input_tokens: int,
        output_tokens: int,
        dollars: float,
        calls: int = 1,
    ) -> None:
        """Count `calls` more calls (one request, or a batch of them) of this size, or raise
        when they would pass a limit (no call is made): `CostCapReached` for the dollars,
        `BudgetExceeded` for the calls or the tokens. The calls are counted here, before they
        are made, so calls in flight together cannot pass the calls limit; tokens and dollars
        are estimates checked against what answered calls spent."""
        tokens = input_tokens + output_tokens
        with self._lock:
            passed = self._passed_by(calls, tokens, dollars)
            if passed is None:
                self._calls += calls
                return
            spent, limits = self._spent, self.limits
        size = f"~{input_tokens} input + {output_tokens} output tokens"
        if passed == "dollars":
            raise CostCapReached(
                f"{model}: the next call ({size}, ~${dollars:.4f}) would pass the cost cap of "
                f"${limits.dollars:.2f} (spent ${spent.cost_usd:.4f})"
            )
        if passed == "calls":
            raise BudgetExceeded(f"{model}: the run's limit of {limits.calls} model calls is spent")
        raise BudgetExceeded(
            f"{model}: the next call ({size}) would pass the run's limit of {limits.tokens:,} "
            f"tokens (spent {spent.input_tokens + spent.output_tokens:,})"
        )

    # -- time -----------------------------------------------------------------------------------

    def elapsed(self) -> float:
        return self._clock() - self.started

    def seconds_left(self, grace: float = 0.0) -> float:
        """Seconds left of the time limit (`grace` more: the Batch API's waits); inf: none."""
        if self.limits.seconds is None:
            return math.inf
        return self.limits.seconds + grace - self.elapsed()

    def __repr__(self) -> str:
        return (
            f"Budget({self.limits}, calls={self.calls}, cost_usd={self.spent.cost_usd}, "
            f"elapsed={self.elapsed():.1f})"
        )


__all__ = ["Budget", "Limits"]
