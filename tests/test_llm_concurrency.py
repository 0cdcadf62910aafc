"""Adaptive concurrency of model calls: start at llm.concurrency, halve on 429, grow back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent.config import LLMSettings, Settings
from agent.summarize.llm.engine import LLMEngine
from agent.summarize.llm.run.limit import AdaptiveLimit
from tests.fakes.openai_server import FakeOpenAIServer
from tests.llm_answers import assert_complete, handler, sample_papers

pytestmark = pytest.mark.timeout(60)


def test_the_limit_halves_once_per_burst_and_grows_back_after_successes() -> None:
    async def scenario() -> list[int]:
        limit = AdaptiveLimit(8)
        seen = [limit.limit]
        limit.throttled(epoch=0)
        limit.throttled(epoch=0)  # a second 429 of the same burst: already handled
        seen.append(limit.limit)
        limit.throttled(epoch=limit.epoch)
        limit.throttled(epoch=limit.epoch)
        limit.throttled(epoch=limit.epoch)
        seen.append(limit.limit)  # never below one
        for _ in range(1 + 2 + 3):  # 1 success at limit 1, 2 at limit 2, 3 at limit 3
            async with limit.slot():
                pass
        seen.append(limit.limit)
        return seen

    assert asyncio.run(scenario()) == [8, 4, 1, 4]


def test_waiting_calls_start_when_the_limit_allows() -> None:
    async def scenario() -> tuple[list[int], int]:
        limit = AdaptiveLimit(3)
        limit.throttled()  # 3 // 2 = 1
        running = 0
        at_start: list[int] = []

        async def call() -> None:
            nonlocal running
            async with limit.slot():
                running += 1
                at_start.append(running)
                await asyncio.sleep(0.01)
                running -= 1

        await asyncio.gather(*(call() for _ in range(6)))
        return at_start, limit.limit

    at_start, grown = asyncio.run(scenario())
    assert at_start[:2] == [1, 1]  # at limit 1 the second call waits for the first
    assert max(at_start) == 3  # successes raised the limit back to the configured 3
    assert grown == 3


def _engine(srv: FakeOpenAIServer, home: Path, **llm: Any) -> LLMEngine:
    settings = Settings(
        home=home,
        llm=LLMSettings(
            model="gpt-4o-mini", base_url=srv.base_url, api_key=SecretStr("sk-test-concurrency"),
            max_retry_wait_seconds=0.0, timeout_seconds=5.0, dialect="json_schema",
            local_defaults=False, **llm,  # the fake server stands for a remote endpoint
        ),
    )  # fmt: skip
    return LLMEngine(settings.llm, None)


def test_engine_runs_blurb_calls_in_parallel_within_the_concurrency(tmp_path: Path) -> None:
    """The limit is the transport's, shared by every call of the run (the headline's too)."""
    papers = sample_papers(60)
    with FakeOpenAIServer(handler=handler(themes=8), latency_per_call=0.02) as srv:
        summary = asyncio.run(_engine(srv, tmp_path, concurrency=3).summarize(papers))
        steps = [r.body["response_format"]["json_schema"]["name"] for r in srv.chat_requests]
    assert_complete(summary, papers)
    assert steps.count("blurbs") == 8
    assert srv.max_in_flight == 3


def test_a_free_provider_gets_more_than_four_calls_at_once(tmp_path: Path) -> None:
    papers = sample_papers(200)
    with FakeOpenAIServer(handler=handler(themes=4), latency_per_call=0.2) as srv:
        engine = _engine(srv, tmp_path)
        summary = asyncio.run(engine.summarize(papers))
    assert_complete(summary, papers)
    assert summary.degraded == ()
    assert srv.max_in_flight > 4
    assert engine.limit is not None and engine.limit.throttles == 0


def test_a_rate_limited_provider_makes_the_engine_back_off_without_losing_a_call(
    tmp_path: Path,
) -> None:
    papers = sample_papers(200)
    with FakeOpenAIServer(handler=handler(themes=4), latency_per_call=0.1, rate_limit=2) as srv:
        engine = _engine(srv, tmp_path, max_attempts=10)
        summary = asyncio.run(engine.summarize(papers))
    assert_complete(summary, papers)
    assert summary.degraded == ()  # every 429 was retried, nothing fell back
    assert srv.rate_limited > 0
    assert engine.limit is not None
    assert engine.limit.throttles > 0 and engine.limit.lowest <= 8  # backed off from 16
    answered = [r for r in srv.chat_requests if r.outcome != "rate_limit"]
    assert len(answered) == len(srv.chat_requests) - srv.rate_limited
