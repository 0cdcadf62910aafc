"""Chaos: seeded runs of a 60-paper day (15 in the default suite, 100 in the slow tier), 30% of
model calls failing in random ways (429, 500, 503, dropped connections, invalid JSON,
truncation, refusals), through the real transport against the fake server. Every run must give
a complete digest: every paper exactly once, a headline, no exception. Retry waits are zero
(Retry-After: 0, max_retry_wait 0)."""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import pytest
from pydantic import SecretStr

from agent.config import LLMSettings, Settings
from agent.summarize.llm.engine import LLMEngine
from tests.fakes.openai_server import FakeOpenAIServer
from tests.llm_answers import assert_complete, handler, sample_papers

RATE = 0.3

pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize("runs", [8, pytest.param(100, marks=pytest.mark.slow, id="100-slow-tier")])
def test_chaos_runs_all_complete(tmp_path: Any, runs: int) -> None:
    papers = sample_papers(60)
    outcomes: collections.Counter[str] = collections.Counter()
    faults: collections.Counter[str] = collections.Counter()
    started = time.monotonic()
    with FakeOpenAIServer(handler=handler(themes=5)) as srv:
        settings = Settings(
            home=tmp_path,
            llm=LLMSettings(
                model="gpt-4o-mini",
                base_url=srv.base_url,
                api_key=SecretStr("sk-chaos-test-key-0123456789"),
                max_attempts=2,
                max_retry_wait_seconds=0.0,
                timeout_seconds=5.0,
                concurrency=4,
                dialect="json_schema",
                local_defaults=False,  # the fake server stands for a remote endpoint
            ),
        )
        for seed in range(runs):
            before = len(srv.chat_requests)
            srv.chaos(rate=RATE, seed=seed)
            summary = asyncio.run(LLMEngine(settings.llm, None).summarize(papers))
            assert_complete(summary, papers)
            offline = sum(b.engine == "offline" for t in summary.themes for b in t.papers)
            outcomes["clean" if not summary.degraded else "degraded"] += 1
            outcomes["papers written offline"] += offline
            for request in srv.chat_requests[before:]:
                faults[request.outcome] += 1
        assert srv.errors == []
    elapsed = time.monotonic() - started
    print(
        f"\nchaos: {runs} runs in {elapsed:.1f} s; {dict(outcomes)}; server outcomes {dict(faults)}"
    )
    assert sum(v for k, v in faults.items() if k.startswith("chaos:")) > runs  # faults happened
    assert outcomes["clean"] + outcomes["degraded"] == runs
