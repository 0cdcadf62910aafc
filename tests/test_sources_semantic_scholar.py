"""s2: recorded Semantic Scholar search answers (raw JSON and VCR cassettes) via a loopback server."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from agent.config import Settings
from agent.errors import SourceError
from agent.sources.base import FetchContext
from agent.sources.http import HttpFetcher, RateGate
from agent.sources.semantic_scholar import SemanticScholarSource, parse_search
from tests.fakes.http_server import FakeClock, Reply, ScriptedHttpServer

S2 = Path(__file__).parent / "fixtures" / "semantic_scholar"
SEARCH = (S2 / "sotawhat_semantic_scholar_paper_search_transformer.json").read_bytes()
DAY = dt.date(2026, 4, 27)


def cassette(name: str) -> tuple[int, bytes]:
    """(status, body) of the first interaction of a VCR cassette (both cassette schemas)."""
    response = yaml.safe_load((S2 / name).read_text(encoding="utf-8"))["interactions"][0][
        "response"
    ]
    if "body" in response:
        return response["status"]["code"], response["body"]["string"].encode()
    return response["status_code"], response["content"].encode()


@pytest.fixture
def server():
    with ScriptedHttpServer() as running:
        yield running


def fetch(server, tmp_path, status, body, query="transformer", since=None, topic=None):
    server.enqueue(Reply(status, body, {"Content-Type": "application/json"}))
    settings = Settings(home=tmp_path)
    clock = FakeClock()
    gate = RateGate(clock=clock.now, sleep=clock.asleep)
    ctx = FetchContext(DAY, settings.sources, since=since, query=topic)
    with HttpFetcher(settings.sources, sleep=clock.asleep, gates={"s2": gate}) as fetcher:
        source = SemanticScholarSource(query, fetcher=fetcher, base_url=f"{server.url}/graph/v1")
        return asyncio.run(source.fetch(ctx))


def test_search_fixture(server, tmp_path):
    papers = fetch(server, tmp_path, 200, SEARCH)
    assert [p.id for p in papers] == [
        "2103.14030",
        "2012.07436",
        "2004.05150",
        "2111.09881",
        "2108.10257",
    ]
    swin = papers[0]
    assert swin.title == "Swin Transformer: Hierarchical Vision Transformer using Shifted Windows"
    assert swin.authors[0] == "Ze Liu" and len(swin.authors) == 8
    assert swin.url == "https://arxiv.org/abs/2103.14030"
    assert swin.published is None  # publicationDate is null: no date is made up
    assert swin.source == "s2:transformer"
    assert papers[1].published == dt.datetime(2020, 12, 14, tzinfo=dt.UTC)
    assert all(p.abstract for p in papers)
    request = server.requests[0]
    assert request.path == "/graph/v1/paper/search"
    assert request.param("query") == "transformer" and request.param("limit") == "100"
    assert "externalIds" in request.param("fields")


def test_title_only_cassette_keeps_s2_ids(tmp_path):
    _, body = cassette("s2lib_test_search_paper.yaml")
    papers = parse_search(body.decode(), source="s2:turing")
    assert len(papers) == 100
    assert papers[0].id == "7cbc2a7843411a1768ab762930707af0a3c33a19"
    assert papers[0].url == "https://www.semanticscholar.org/paper/" + papers[0].id
    assert papers[0].title.startswith("Using DeepSpeed and Megatron to Train Megatron-Turing")


def test_empty_search_without_data_key(server, tmp_path):
    status, body = cassette("s2lib_test_empty_paginated_results.yaml")
    assert json.loads(body) == {"total": 0, "offset": 0}
    assert fetch(server, tmp_path, status, body, query="n0 r3sult s3arch t3rm") == []


def test_http_400_error_object(server, tmp_path):
    status, body = cassette("s2lib_test_bad_query_parameters.yaml")
    with pytest.raises(SourceError) as info:
        fetch(server, tmp_path, status, body)
    assert str(info.value) == (
        "s2:transformer: Semantic Scholar error: Unrecognized or unsupported fields: [unknown]"
    )


def test_topic_and_since(server, tmp_path):
    fetch(
        server,
        tmp_path,
        200,
        SEARCH,
        query="",
        topic="graph transformers",
        since=dt.date(2026, 4, 1),
    )
    request = server.requests[0]
    assert request.param("query") == "graph transformers"
    assert request.param("publicationDateOrYear") == "2026-04-01:2026-04-27"


def test_truncated_json(server, tmp_path):
    with pytest.raises(SourceError, match=r"^s2:transformer: malformed JSON"):
        fetch(server, tmp_path, 200, SEARCH[: len(SEARCH) // 2])


S2_ID = "7cbc2a7843411a1768ab762930707af0a3c33a19"


def _result(paper_id: object, title: str = "A study of decoding", **extra: object) -> dict:
    return {"paperId": paper_id, "title": title, "abstract": "We study decoding.", **extra}


def test_a_paper_id_that_is_no_s2_id_is_skipped_and_counted(server, tmp_path, caplog):
    """A paperId is printed (the terminal) and written (the email, the feed) wherever its paper
    is: only a 40-hex Semantic Scholar id is one. Others are skipped, counted by reason."""
    body = {
        "data": [
            _result("abc\x1b[2J\x1b]0;owned\x1b\\def"),  # terminal escapes
            _result("x|Click>"),  # link syntax
            _result(S2_ID.upper()),
            _result(S2_ID[:-1]),
            _result(S2_ID, title=""),
            _result(""),
            _result(S2_ID),
            _result("bad\x1bid", externalIds={"ArXiv": "2612.00001"}),  # the arXiv id is kept
        ]
    }
    papers = fetch(server, tmp_path, 200, json.dumps(body))
    assert [p.id for p in papers] == [S2_ID, "2612.00001"]
    [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warning == (
        "s2:transformer: skipped 6 results (4 whose paperId is not a Semantic Scholar id "
        "(40 hex digits); 1 with no title; 1 with no id)"
    )
