"""The run's budget (calls, tokens, dollars, seconds): one object the caller creates and hands to
every engine of the run, checked before each model call, through the real transport against
the fake server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent.config import LLMSettings, Price, Settings
from agent.models import Usage
from agent.summarize.llm import Budget, Limits, LLMEngine, run_budget
from agent.summarize.llm.errors import BudgetExceeded, CostCapReached
from tests.fakes.openai_server import FakeOpenAIServer
from tests.llm_answers import assert_complete, handler, sample_papers

pytestmark = pytest.mark.timeout(60)

PAPERS = sample_papers(40)


def settings(srv: FakeOpenAIServer, home: Path, **llm: Any) -> Settings:
    values: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "base_url": srv.base_url,
        "api_key": SecretStr("sk-test-budget"),
        "local_defaults": False,  # the fake server stands for a remote endpoint
        "dialect": "json_schema",
        "max_attempts": 1,
    }
    values.update(llm)
    return Settings(home=home, llm=LLMSettings(**values))


def test_the_calls_limit_admits_exactly_that_many_calls_even_in_flight_together(
    tmp_path: Path,
) -> None:
    with FakeOpenAIServer(handler=handler(themes=8)) as srv:
        summary = asyncio.run(
            LLMEngine(settings(srv, tmp_path, max_calls=3).llm, None).summarize(PAPERS)
        )
        made = len(srv.chat_requests)
    assert_complete(summary, PAPERS)
    assert made == 3  # grouping, then 2 of the 9 blurbs and headline calls started at once
    offline = [n for n in summary.degraded if n.fallback == "offline engine"]
    assert offline and all("limit of 3 model calls is spent" in n.reason for n in offline)
    assert summary.usage.calls == 3


def calls_for(papers: list[Any], tmp_path: Path) -> int:
    """What an engine without limits asks for these papers."""
    with FakeOpenAIServer(handler=handler(themes=2)) as srv:
        asyncio.run(LLMEngine(settings(srv, tmp_path).llm, None).summarize(papers))
        return len(srv.chat_requests)


def test_two_engines_of_one_run_draw_on_one_budget(tmp_path: Path) -> None:
    needed = calls_for(PAPERS[:10], tmp_path / "probe")
    with FakeOpenAIServer(handler=handler(themes=2)) as srv:
        config = settings(srv, tmp_path, max_calls=needed + 1)
        budget = run_budget(config.llm)
        first = asyncio.run(LLMEngine(config.llm, None, budget=budget).summarize(PAPERS[:10]))
        spent_first = len(srv.chat_requests)
        second = asyncio.run(LLMEngine(config.llm, None, budget=budget).summarize(PAPERS[10:20]))
        made = len(srv.chat_requests)
    assert spent_first == first.usage.calls == needed and first.degraded == ()
    assert made == needed + 1 and second.usage.calls == 1  # the second had one call left
    assert budget.calls == needed + 1
    assert_complete(second, PAPERS[10:20])
    assert any(f"limit of {needed + 1} model calls" in n.reason for n in second.degraded)


def test_without_a_budget_each_engine_makes_its_own(tmp_path: Path) -> None:
    needed = calls_for(PAPERS[:10], tmp_path / "probe")
    with FakeOpenAIServer(handler=handler(themes=2)) as srv:
        config = settings(srv, tmp_path, max_calls=needed)
        asyncio.run(LLMEngine(config.llm, None).summarize(PAPERS[:10]))
        # the same papers: the same calls
        asyncio.run(LLMEngine(config.llm, None).summarize(PAPERS[:10]))
        assert len(srv.chat_requests) == 2 * needed


def test_a_tokens_limit_counts_what_answered_calls_spent() -> None:
    budget = Budget(Limits(tokens=1_000))
    budget.admit("m", input_tokens=600, output_tokens=300, dollars=0.0)
    budget.charge(Usage(calls=1, input_tokens=600, output_tokens=250))
    budget.admit("m", input_tokens=100, output_tokens=50, dollars=0.0)  # 850 + 150 fits
    budget.charge(Usage(calls=1, input_tokens=100, output_tokens=50))
    with pytest.raises(BudgetExceeded, match=r"limit of 1,000 tokens \(spent 1,000\)"):
        budget.admit("m", input_tokens=1, output_tokens=0, dollars=0.0)
    assert budget.calls == 2


def test_the_cost_cap_is_one_for_the_run_whatever_the_engine() -> None:
    budget = Budget(Limits(dollars=0.01))
    budget.charge(Usage(calls=1, cost_usd=0.008))
    with pytest.raises(CostCapReached, match=r"would pass the cost cap of \$0\.01"):
        budget.admit("m", input_tokens=1, output_tokens=1, dollars=0.003)
    budget.admit("m", input_tokens=1, output_tokens=1, dollars=0.001)
    assert budget.passed_by(calls=1, tokens=0, dollars=0.0025) == "dollars"


def test_a_batch_is_admitted_as_all_its_calls() -> None:
    budget = Budget(Limits(calls=10))
    budget.admit("m", input_tokens=0, output_tokens=0, dollars=0.0, calls=8)
    with pytest.raises(BudgetExceeded, match="limit of 10 model calls"):
        budget.admit("m", input_tokens=0, output_tokens=0, dollars=0.0, calls=3)
    budget.admit("m", input_tokens=0, output_tokens=0, dollars=0.0, calls=2)
    assert budget.calls == 10


def test_the_run_budget_takes_the_local_server_time(tmp_path: Path) -> None:
    local = Settings(home=tmp_path, llm=LLMSettings(base_url="http://127.0.0.1:9/v1"))
    assert run_budget(local.llm).limits.seconds == 1_800.0  # the local default, not 600
    remote = Settings(
        home=tmp_path,
        llm=LLMSettings(
            api_key=SecretStr("k"),
            max_cost_usd=0.5,
            max_calls=7,
            prices={"gpt-4o-mini": Price(input=0.15, output=0.6)},
        ),
    )
    assert run_budget(remote.llm).limits == Limits(calls=7, dollars=0.5, seconds=600.0)
