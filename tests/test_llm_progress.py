"""The model stage reports calls done / planned and the time left, for the terminal."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent.config import LLMSettings
from agent.summarize.llm.engine import LLMEngine
from agent.summarize.llm.run.progress import CallProgress
from tests.fakes.openai_server import FakeOpenAIServer, Fault
from tests.llm_answers import assert_complete, handler, sample_papers

pytestmark = pytest.mark.timeout(60)
# A loopback server is a local one: once its speed is measured, the line says it.
LINE = re.compile(
    r"^model calls: (\d+) of (\d+) done(, about \d+ (s|min) left)?( \([\d.]+ tokens/s\))?$"
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_done_planned_and_time_left_from_the_mean_call() -> None:
    clock, lines = Clock(), []
    progress = CallProgress(lines.append, clock=clock)
    progress.plan(1)
    assert lines[-1] == "model calls: 0 of 1 done"
    clock.now += 2
    progress.tick()
    assert lines[-1] == "model calls: 1 of 1 done"
    progress.plan(4)
    assert lines[-1] == "model calls: 1 of 5 done, about 8 s left"
    clock.now += 2
    progress.tick()  # 2 calls in 4 s: 2 s a call, 3 to go
    assert lines[-1] == "model calls: 2 of 5 done, about 6 s left"
    clock.now += 200
    progress.tick()
    assert lines[-1] == "model calls: 3 of 5 done, about 2 min left"


def test_a_re_ask_never_shows_more_done_than_planned() -> None:
    lines: list[str] = []
    progress = CallProgress(lines.append, clock=Clock())
    progress.plan(1)
    progress.tick()
    progress.tick()  # a re-ask: a real call the plan did not know about
    assert lines[-1] == "model calls: 2 of 2 done"


@pytest.mark.parametrize("fail_primary", [False, True])
def test_the_engine_reports_every_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_primary: bool
) -> None:
    good = handler(themes=3)

    def answer(body: dict[str, Any]) -> Any:
        return Fault.http(500) if fail_primary and body["model"] == "primary" else good(body)

    papers = sample_papers(24)
    lines: list[str] = []
    with FakeOpenAIServer(handler=answer) as srv:
        llm = LLMSettings(
            model="primary",
            fallback_model="second",
            base_url=srv.base_url,
            api_key=SecretStr("k"),
            max_attempts=1,
            timeout_seconds=2,
            circuit_breaker_failures=1,
            dialect="json_schema",  # one request per call (auto would probe past the 500s)
        )
        engine = LLMEngine(llm, None, progress=lines.append)
        summary = asyncio.run(engine.summarize(papers))
        calls = len(srv.chat_requests)
    assert_complete(summary, papers)
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    done = [int(m.group(1)) for m in parsed if m]
    planned = [int(m.group(2)) for m in parsed if m]
    assert done == sorted(done) and all(d <= p for d, p in zip(done, planned, strict=True))
    assert done[-1] == calls, "every call to the server was counted"
    assert planned[-1] == calls
    assert max(planned) >= len(summary.themes) + 2, (
        "grouping, one blurbs call per theme, the headline"
    )
    assert any("left" in line for line in lines)
