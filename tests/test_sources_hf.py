"""hf-daily: the recorded Hugging Face daily-papers JSON, with upvotes, through a loopback server."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest

from agent.config import Settings, SourcesSettings
from agent.errors import ConfigError, SourceError
from agent.sources.base import FetchContext
from agent.sources.hf_daily import HfDailySource, parse_daily_papers
from agent.sources.http import HttpFetcher
from tests.fakes.http_server import FakeClock, Reply, ScriptedHttpServer

BODY = (
    Path(__file__).parent / "fixtures" / "hf_daily_papers" / "sotawhat_hf_daily_papers_limit30.json"
).read_bytes()
DAY = dt.date(2026, 6, 12)


@pytest.fixture
def server():
    with ScriptedHttpServer() as running:
        yield running


def fetch(server, tmp_path, body: bytes, date: str | None = None, status: int = 200):
    server.add("/api/daily_papers", Reply(status, body, {"Content-Type": "application/json"}))
    settings = Settings(
        home=tmp_path, sources=SourcesSettings(hf_url=f"{server.url}/api/daily_papers")
    )
    clock = FakeClock()
    with HttpFetcher(settings.sources, sleep=clock.asleep) as fetcher:
        return asyncio.run(
            HfDailySource(date, fetcher=fetcher).fetch(FetchContext(DAY, settings.sources))
        )


def test_daily_papers_fixture(server, tmp_path):
    papers = fetch(server, tmp_path, BODY)
    assert len(papers) == 30
    first = papers[0]
    assert first.id == "2606.00467" and first.version is None
    assert first.title == (
        "On the Limits of LLM Adaptability: Impact of Model-Internalized Priors on "
        "Annotation Task Performance"
    )
    assert first.authors == ("Etienne Casanova", "Rafal Kocielnik", "R. Michael Alvarez")
    assert first.upvotes == 0
    assert first.url == "https://arxiv.org/abs/2606.00467"
    assert first.pdf_url == "https://arxiv.org/pdf/2606.00467"
    assert first.published == dt.datetime(2026, 5, 30, tzinfo=dt.UTC)  # paper.publishedAt
    assert first.source == "hf-daily"
    assert first.abstract.startswith("Large Language Models (LLMs) are increasingly used")
    by_id = {p.id: p for p in papers}
    assert by_id["2606.13681"].upvotes == 118
    assert (
        by_id["2606.13392"].title == "MiniMax Sparse Attention"
        and by_id["2606.13392"].upvotes == 103
    )
    assert sum(p.upvotes for p in papers) == sum(
        item["paper"]["upvotes"] for item in json.loads(BODY)
    )
    assert all(p.abstract and "\n" not in p.abstract for p in papers)
    assert server.requests[0].param("date") == "2026-06-12"  # ctx.date by default


def test_explicit_date(server, tmp_path):
    papers = fetch(server, tmp_path, BODY, date="2026-06-11")
    assert papers[0].source == "hf-daily:2026-06-11"
    assert server.requests[0].param("date") == "2026-06-11"


def test_empty_day(server, tmp_path):
    assert fetch(server, tmp_path, b"[]") == []


def test_error_object(server, tmp_path):
    with pytest.raises(SourceError, match=r"^hf-daily: Hugging Face error: Invalid date"):
        fetch(server, tmp_path, b'{"error": "Invalid date"}')


def test_truncated_json(server, tmp_path):
    with pytest.raises(SourceError) as info:
        fetch(server, tmp_path, BODY[: len(BODY) // 2])
    assert str(info.value).startswith("hf-daily: malformed JSON (")


def test_garbage_bytes(server, tmp_path):
    with pytest.raises(SourceError, match=r"^hf-daily: malformed JSON"):
        fetch(server, tmp_path, b"\x00\xff\xfe<html>")


def test_non_arxiv_id_links_to_hugging_face():
    body = json.dumps(
        [
            {"paper": {"id": "hf-1234", "title": "T", "summary": "S", "authors": [], "upvotes": 2}},
            {"paper": {"id": "", "title": "no id"}},
            {"paper": {"id": "2606.00001", "title": "Dup", "upvotes": 1}},
            {"paper": {"id": "2606.00001", "title": "Dup again", "upvotes": 9}},
        ]
    )
    papers = parse_daily_papers(body, source="hf-daily")
    assert [p.id for p in papers] == ["hf-1234", "2606.00001"]
    assert papers[0].url == "https://huggingface.co/papers/hf-1234" and papers[0].pdf_url is None


def test_bad_date_is_a_config_error():
    with pytest.raises(ConfigError, match="hf-daily: bad date"):
        HfDailySource("12/06/2026")
