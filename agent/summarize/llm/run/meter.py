"""Running token and cost totals for one engine run, priced from the price table; each call's
cost is charged to the run's `Budget`, which the meter also asks before a call is made."""

from __future__ import annotations

import threading

from agent.config import Price
from agent.models import Usage
from agent.summarize.llm.run.budget import Budget

_PER_MILLION = 1_000_000


class UsageMeter:
    """Thread- and task-safe running totals. Prices are USD per million tokens.

    A model without a price counts as cost 0 and is remembered in `unknown_models`, so the
    footer can say "cost unknown" instead of "$0.00".
    """

    def __init__(self, prices: dict[str, Price], budget: Budget | None = None) -> None:
        self._prices = dict(prices)
        self.budget = budget if budget is not None else Budget()  # default: no limits
        self._lock = threading.Lock()
        self._total = Usage()
        self._unknown: set[str] = set()

    # prices -------------------------------------------------------------------------------------

    def price_for(self, model: str) -> Price | None:
        """The price of `model`: an exact entry, else the longest entry that `model` extends
        with a dash (``gpt-4o-mini-2024-07-18`` is priced as ``gpt-4o-mini``)."""
        if model in self._prices:
            return self._prices[model]
        candidates = [name for name in self._prices if model.startswith(name + "-")]
        return self._prices[max(candidates, key=len)] if candidates else None

    def cost(self, model: str, usage: Usage, factor: float = 1.0) -> float:
        """What `usage` costs on `model`; cached input tokens at the cached price when known;
        `factor` scales the prices (the Batch API's discount)."""
        price = self.price_for(model)
        if price is None:
            return 0.0
        cached = min(usage.cached_tokens, usage.input_tokens)
        fresh = usage.input_tokens - cached
        cached_price = price.cached_input if price.cached_input is not None else price.input
        return round(
            (fresh * price.input + cached * cached_price + usage.output_tokens * price.output)
            * factor
            / _PER_MILLION,
            6,
        )

    def priced(self, model: str, usage: Usage, factor: float = 1.0) -> Usage:
        """`usage` with `cost_usd` filled from the price table (times `factor`)."""
        return usage.model_copy(update={"cost_usd": self.cost(model, usage, factor)})

    def estimate_cost(
        self, model: str, input_tokens: int, output_tokens: int, factor: float = 1.0
    ) -> float:
        usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
        return self.cost(model, usage, factor)

    # totals -------------------------------------------------------------------------------------

    def add(self, model: str, usage: Usage, factor: float = 1.0) -> None:
        """Add one call's usage, and charge it to the budget; the cost is (re)computed from
        the price table (times `factor`, for answers from the Batch API)."""
        priced = self.priced(model, usage, factor)
        with self._lock:
            self._total = self._total + priced
            if self.price_for(model) is None and (usage.input_tokens or usage.output_tokens):
                self._unknown.add(model)
        self.budget.charge(priced)

    def would_exceed(
        self, model: str, input_tokens: int, output_tokens: int, factor: float = 1.0
    ) -> bool:
        """True when a call of this size would pass one of the budget's limits."""
        dollars = self.estimate_cost(model, input_tokens, output_tokens, factor)
        tokens = input_tokens + output_tokens
        return self.budget.passed_by(tokens=tokens, dollars=dollars) is not None

    def check(
        self,
        model: str,
        input_tokens: int,
        output_tokens: int,
        *,
        calls: int = 1,
        factor: float = 1.0,
    ) -> None:
        """Have the budget admit `calls` calls of this size in all (priced times `factor`),
        or raise CostCapReached or BudgetExceeded: then no call is made."""
        dollars = self.estimate_cost(model, input_tokens, output_tokens, factor)
        self.budget.admit(
            model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            dollars=dollars,
            calls=calls,
        )

    def total(self) -> Usage:
        with self._lock:
            return self._total

    @property
    def unknown_models(self) -> frozenset[str]:
        """Models that were used but have no price (their cost counts as 0)."""
        with self._lock:
            return frozenset(self._unknown)

    @property
    def cost_known(self) -> bool:
        """False when some used model had no price: the footer should say "cost unknown"."""
        return not self.unknown_models

    def __repr__(self) -> str:
        total = self.total()
        return (
            f"UsageMeter(calls={total.calls}, cache_hits={total.cache_hits}, "
            f"cost_usd={total.cost_usd}, {self.budget!r})"
        )


__all__ = ["UsageMeter"]
