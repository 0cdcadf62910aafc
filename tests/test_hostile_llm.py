"""Hostile model servers: an answer that trickles one byte a second, an answer with no end, a
run budget that runs out while calls are in flight. Real SDK, real HTTP, loopback server;
small timeouts (1-2 s) so the suite stays fast. Durations are bounded by pytest-timeout, never
asserted."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import SecretStr

from agent.config import LLMSettings, Settings
from agent.summarize.llm.chat import ChatRequest
from agent.summarize.llm.engine import LLMEngine
from agent.summarize.llm.errors import ModelUnavailable
from agent.summarize.llm.models.openai_chat import OpenAIChatModel
from agent.summarize.llm.run.budget import Budget
from agent.summarize.llm.run.meter import UsageMeter
from tests.fakes.openai_server import FakeOpenAIServer, Fault
from tests.llm_answers import assert_complete, sample_papers
from tests.test_llm_transport import Grouping

KEY = "sk-hostile-0123456789abcdef"


def llm_settings(srv: FakeOpenAIServer, **overrides: Any) -> LLMSettings:
    values: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "base_url": srv.base_url,
        "api_key": SecretStr(KEY),
        "max_attempts": 1,
        "max_retry_wait_seconds": 0.0,
    }
    return LLMSettings(**{**values, **overrides})


def one_call(llm: LLMSettings) -> None:
    request = ChatRequest(
        step="grouping",
        messages=({"role": "user", "content": "Group P1 and P2."},),
        schema=Grouping,
        schema_name="grouping",
        max_output_tokens=300,
        prompt_version="v1",
    )
    model = OpenAIChatModel(llm, meter=UsageMeter(llm.prices, Budget.from_settings(llm)))

    async def go() -> None:
        try:
            await model.complete(request)
        finally:
            await model.aclose()

    asyncio.run(go())


@pytest.mark.timeout(20)
def test_a_trickling_answer_is_cut_at_the_call_timeout() -> None:
    with FakeOpenAIServer() as srv:
        srv.queue(Fault.trickle(0.2))  # a byte every 0.2 s: every read is "on time"
        with pytest.raises(ModelUnavailable) as info:
            one_call(llm_settings(srv, timeout_seconds=1.0))
    assert "timed out: no complete answer within 1 s" in str(info.value)
    assert len(srv.chat_requests) == 1


@pytest.mark.timeout(20)
def test_an_answer_over_the_size_cap_fails_at_once_and_is_not_retried() -> None:
    with FakeOpenAIServer() as srv:
        srv.queue(Fault.huge(5_000_000), Fault.huge(5_000_000))
        with pytest.raises(ModelUnavailable) as info:
            one_call(llm_settings(srv, max_attempts=2, max_answer_bytes=100_000))
    assert "answer larger than 100,000 bytes" in str(info.value)
    assert "not retried" in str(info.value)
    assert len(srv.chat_requests) == 1


@pytest.mark.timeout(30)
def test_the_run_budget_cancels_calls_in_flight_and_the_digest_is_complete(tmp_path: Any) -> None:
    """Every call hangs (headers, then a byte a second); the budget is 2 s while the per-call
    timeout is 60 s: the calls in flight are cancelled at the budget, the offline engine
    writes the rest, and every paper is in the digest once."""
    papers = sample_papers(12)
    with FakeOpenAIServer(handler=lambda body: Fault.trickle(1.0)) as srv:
        settings = Settings(
            home=tmp_path,
            llm=llm_settings(srv, timeout_seconds=60.0, run_budget_seconds=2.0, max_attempts=4),
        )
        summary = asyncio.run(LLMEngine(settings.llm, None).summarize(papers))
    assert_complete(summary, papers)
    assert all(b.engine == "offline" for t in summary.themes for b in t.papers)
    reasons = " ".join(note.reason for note in summary.degraded)
    assert "run time budget of 2 s" in reasons
