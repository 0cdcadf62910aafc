"""Usage meter: cost arithmetic, cached-token prices, unknown models, the cost cap."""

from __future__ import annotations

import threading

import pytest

from agent.config import Price
from agent.models import Usage
from agent.summarize.llm.run.budget import Budget, Limits
from agent.summarize.llm.run.meter import UsageMeter

PRICES = {
    "gpt-4o-mini": Price(input=0.15, output=0.60, cached_input=0.075),
    "gpt-4o": Price(input=2.50, output=10.00, cached_input=1.25),
    "no-cache-price": Price(input=1.0, output=2.0),
}


def test_cost_per_million_tokens() -> None:
    meter = UsageMeter(PRICES, None)
    assert meter.estimate_cost("gpt-4o-mini", 1_000_000, 0) == pytest.approx(0.15)
    assert meter.estimate_cost("gpt-4o-mini", 0, 1_000_000) == pytest.approx(0.60)
    assert meter.estimate_cost("gpt-4o", 10_000, 2_000) == pytest.approx(0.025 + 0.02)


def test_cached_tokens_use_the_cached_price() -> None:
    meter = UsageMeter(PRICES, None)
    usage = Usage(calls=1, input_tokens=1_000_000, cached_tokens=400_000, output_tokens=0)
    assert meter.cost("gpt-4o-mini", usage) == pytest.approx(0.6 * 0.15 + 0.4 * 0.075)
    assert meter.cost("no-cache-price", usage) == pytest.approx(1.0)  # no cached price: full


def test_dated_model_names_use_the_base_price() -> None:
    meter = UsageMeter(PRICES, None)
    assert meter.price_for("gpt-4o-mini-2024-07-18") == PRICES["gpt-4o-mini"]
    assert meter.price_for("gpt-4o-2024-08-06") == PRICES["gpt-4o"]
    assert meter.price_for("gpt-4") is None


def test_add_and_total() -> None:
    meter = UsageMeter(PRICES, None)
    meter.add("gpt-4o-mini", Usage(calls=1, input_tokens=1000, output_tokens=100))
    meter.add("gpt-4o-mini", Usage(cache_hits=1))
    meter.add("gpt-4o-mini", Usage(calls=1, input_tokens=1000, output_tokens=100, cost_usd=99))
    total = meter.total()
    assert (total.calls, total.cache_hits, total.input_tokens, total.output_tokens) == (
        2,
        1,
        2000,
        200,
    )
    assert total.cost_usd == pytest.approx(2 * (1000 * 0.15 + 100 * 0.60) / 1e6)  # recomputed
    assert meter.cost_known


def test_unknown_model_costs_zero_and_is_flagged() -> None:
    meter = UsageMeter(PRICES, Budget(Limits(dollars=1.0)))
    meter.add("llama-3.1-8b", Usage(calls=1, input_tokens=5000, output_tokens=500))
    assert meter.total().cost_usd == 0
    assert not meter.cost_known and meter.unknown_models == {"llama-3.1-8b"}
    assert not meter.would_exceed("llama-3.1-8b", 10**9, 10**9)


def test_cache_hits_do_not_flag_unknown() -> None:
    meter = UsageMeter({}, None)
    meter.add("local", Usage(cache_hits=1))
    assert meter.cost_known


def test_would_exceed() -> None:
    meter = UsageMeter(PRICES, Budget(Limits(dollars=0.01)))
    assert not meter.would_exceed("gpt-4o-mini", 10_000, 1_000)  # ~$0.0021
    meter.add("gpt-4o-mini", Usage(calls=1, input_tokens=40_000, output_tokens=4_000))  # $0.0084
    assert meter.would_exceed("gpt-4o-mini", 10_000, 1_000)
    assert not meter.would_exceed("gpt-4o-mini", 1_000, 100)
    assert not UsageMeter(PRICES, None).would_exceed("gpt-4o", 10**9, 10**9)


def test_priced_fills_cost() -> None:
    meter = UsageMeter(PRICES, None)
    priced = meter.priced("gpt-4o", Usage(calls=1, input_tokens=1000, output_tokens=1000))
    assert priced.cost_usd == pytest.approx(0.0125)
    assert meter.total() == Usage()  # priced() does not add


def test_thread_safe_totals() -> None:
    meter = UsageMeter(PRICES, None)

    def work() -> None:
        for _ in range(500):
            meter.add("gpt-4o-mini", Usage(calls=1, input_tokens=10, output_tokens=1))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = meter.total()
    assert (total.calls, total.input_tokens, total.output_tokens) == (4000, 40_000, 4000)


def test_check_raises_before_a_call_that_would_pass_the_cap() -> None:
    from agent.summarize.llm.errors import CostCapReached

    meter = UsageMeter(PRICES, Budget(Limits(dollars=0.01)))
    meter.check("gpt-4o", 100, 100)  # a small call (~$0.0013) fits
    with pytest.raises(
        CostCapReached, match=r"gpt-4o: the next call .* would pass the cost cap of \$0\.01"
    ):
        meter.check("gpt-4o", 10_000_000, 10_000_000)
