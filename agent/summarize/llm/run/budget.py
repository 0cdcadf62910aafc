"""What one run may spend on model calls: calls, tokens, dollars and seconds.

As pydantic-ai's `UsageLimits`, with the spending kept beside the limits: the caller (a command,
the pipeline) creates one `Budget` for the run and hands it to every engine it starts, so the
relevance pass, the shared blurbs and each reader's digest all draw on the same cap; nothing
rewrites settings to pass what is left on. The meter charges it (`UsageMeter.add`), the
adapters check it before each call (`UsageMeter.check`), the transport reads its clock (no
request starts, and none waits to retry, past `seconds`).
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

    def passed_by(self, *, tokens: int, dollars: float) -> str | None:
        """Which limit one more call of this size (input plus output tokens, estimated cost)
        would pass: "calls", "tokens" or "dollars"; None when it fits."""
        spent, limits = self.spent, self.limits
        if limits.calls is not None and spent.calls + 1 > limits.calls:
            return "calls"
        used = spent.input_tokens + spent.output_tokens
        if limits.tokens is not None and used + tokens > limits.tokens:
            return "tokens"
        if limits.dollars is not None and spent.cost_usd + dollars > limits.dollars:
            return "dollars"
        return None

    def check(self, model: str, *, input_tokens: int, output_tokens: int, dollars: float) -> None:
        """Raise (no call is made) when one more call of this size would pass a limit:
        `CostCapReached` for the dollars, `BudgetExceeded` for the calls or the tokens."""
        passed = self.passed_by(tokens=input_tokens + output_tokens, dollars=dollars)
        if passed is None:
            return
        spent, limits = self.spent, self.limits
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
        spent = self.spent
        return (
            f"Budget({self.limits}, spent calls={spent.calls}, cost_usd={spent.cost_usd}, "
            f"elapsed={self.elapsed():.1f})"
        )


__all__ = ["Budget", "Limits"]
