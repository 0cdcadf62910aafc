"""The sources of a run are read at the same time on one event loop, against real loopback
servers that hold each answer: the overlap and the spacing are read from the times the server
recorded (when it read each request, when it began each answer), never from a wall-time bound.
The digest does not depend on which server answered first: health and papers keep the order
of the specs."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from agent.config import Settings, SourcesSettings
from agent.pipeline import fetch_all
from agent.sources.base import FetchContext
from agent.sources.http import ARXIV_GATE
from tests.fakes.http_server import Reply, ScriptedHttpServer

FIXTURES = Path(__file__).parent / "fixtures"
RSS_CL = (FIXTURES / "arxiv_rss" / "distill_rss_arxiv_cs_cl.xml").read_bytes()
RSS_AI = (FIXTURES / "arxiv_rss" / "distill_rss_arxiv_cs_ai.xml").read_bytes()
HF_DAY = (FIXTURES / "hf_daily_papers" / "sotawhat_hf_daily_papers_limit30.json").read_bytes()
DAY = dt.date(2026, 4, 27)
HOLD = 0.5  # seconds the server holds each answer


def context(server: ScriptedHttpServer, tmp_path: Path, **sources: object) -> FetchContext:
    settings = Settings(
        home=tmp_path,
        sources=SourcesSettings(
            arxiv_rss_url=f"{server.url}/rss/",
            hf_url=f"{server.url}/api/daily_papers",
            max_attempts=1,
            **sources,
        ),
    )
    return FetchContext(DAY, settings.sources)


@pytest.fixture(autouse=True)
def _fresh_arxiv_gate() -> None:
    ARXIV_GATE.reset()  # an earlier test's arXiv request must not space this test's first


@pytest.mark.timeout(20)
def test_two_slow_sources_are_read_at_the_same_time_and_merged_in_spec_order(
    tmp_path: Path,
) -> None:
    with ScriptedHttpServer() as server:
        server.add("/rss/cs.CL", Reply(200, RSS_CL, delay=HOLD))
        # held half as long: done first, yet still held when the first source's request
        # arrives (answering at once let it finish before that request reached the server)
        server.add("/api/daily_papers", Reply(200, HF_DAY, delay=HOLD / 2))
        said: list[str] = []
        outcome = asyncio.run(
            fetch_all(["arxiv-rss:cs.CL", "hf-daily"], context(server, tmp_path), said.append)
        )
        rss, hf = (next(s for s in server.spans if s.path == path) for path in
                   ("/rss/cs.CL", "/api/daily_papers"))  # fmt: skip
    # the second source's request reached the server while the first was still held
    assert hf.received < rss.answered and rss.received < hf.answered
    assert server.max_concurrent == 2
    # the slow first source finished last, yet it comes first: spec order, not completion order
    assert hf.answered < rss.answered
    assert said == ["reading arxiv-rss:cs.CL", "reading hf-daily"]
    assert [h.name for h in outcome.health] == ["arxiv-rss:cs.CL", "hf-daily"]
    assert [h.status for h in outcome.health] == ["ok", "ok"]
    assert [p.source for p in outcome.papers[:3]] == ["arxiv-rss:cs.CL"] * 3
    assert {p.source for p in outcome.papers[3:]} == {"hf-daily"}


@pytest.mark.timeout(20)
def test_both_slow_sources_are_held_at_once(tmp_path: Path) -> None:
    with ScriptedHttpServer() as server:
        server.add("/rss/cs.CL", Reply(200, RSS_CL, delay=HOLD))
        server.add("/api/daily_papers", Reply(200, HF_DAY, delay=HOLD))
        outcome = asyncio.run(fetch_all(["arxiv-rss:cs.CL", "hf-daily"], context(server, tmp_path)))
        first, second = sorted(server.spans, key=lambda span: span.received)
    assert second.received < first.answered  # both held by the server at the same moment
    assert [h.status for h in outcome.health] == ["ok", "ok"] and len(outcome.papers) > 3


@pytest.mark.timeout(20)
def test_the_arxiv_gate_still_spaces_its_requests_while_other_sources_run(
    tmp_path: Path,
) -> None:
    """Two arXiv feeds and Hugging Face at once: the two arXiv requests take turns, the
    second sent at least the interval after the first was answered; Hugging Face does not
    wait for either."""
    interval = 0.4
    with ScriptedHttpServer() as server:
        server.add("/rss/cs.CL", Reply(200, RSS_CL, delay=0.2))
        server.add("/rss/cs.AI", Reply(200, RSS_AI, delay=0.2))
        server.add("/api/daily_papers", Reply(200, HF_DAY, delay=HOLD))
        ctx = context(server, tmp_path, arxiv_min_interval_seconds=interval)
        outcome = asyncio.run(fetch_all(["arxiv-rss:cs.CL", "arxiv-rss:cs.AI", "hf-daily"], ctx))
        spans = {span.path: span for span in server.spans}
    first, second = sorted((spans["/rss/cs.CL"], spans["/rss/cs.AI"]), key=lambda s: s.received)
    assert second.received >= first.answered + interval  # spaced, counted from the end
    hf = spans["/api/daily_papers"]
    assert hf.received < first.answered  # not held back by arXiv's gate
    assert [h.name for h in outcome.health] == ["arxiv-rss:cs.CL", "arxiv-rss:cs.AI", "hf-daily"]
    assert all(h.status == "ok" for h in outcome.health)


@pytest.mark.timeout(20)
def test_a_failing_source_among_concurrent_ones_is_reported_not_fatal(tmp_path: Path) -> None:
    with ScriptedHttpServer() as server:
        server.add("/rss/cs.CL", Reply(503, b"down", delay=0.2))
        server.add("/api/daily_papers", Reply(200, HF_DAY, delay=0.2))
        outcome = asyncio.run(fetch_all(["arxiv-rss:cs.CL", "hf-daily"], context(server, tmp_path)))
    failed, ok = outcome.health
    assert (failed.name, failed.status, failed.reason) == (
        "arxiv-rss:cs.CL",
        "failed",
        "HTTP 503 after 1 attempt",
    )
    assert ok.status == "ok" and {p.source for p in outcome.papers} == {"hf-daily"}
