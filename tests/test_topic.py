"""`digest topic`: finding papers (stored, sample, arXiv on loopback), ranking, summarising."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from agent.config import Settings, load_settings
from agent.core.resources import sample_corpus_path
from agent.errors import ConfigError
from agent.models import Paper
from agent.select.search import bm25_rank, term_counts, tokens
from agent.sources.local import read_paper_file
from agent.store import Store
from agent.topic import TopicOptions, arxiv_query, parse_since
from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.runs import run_topic

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv_api"
TESTING_FEED = json.loads((FIXTURES / "arxivpy_q_testing_s0_m10_bc5a6c384fe9.json").read_text())[
    "body"
]
TODAY = dt.date(2026, 11, 26)

ON_TOPIC = {
    "quantization": ("quantiz", "compress", "8bit", "low-bit", "int8", "pruning"),
    "sentence embeddings": ("sentence", "embedding", "encoder"),
    "long context": ("long", "context", "length", "infini", "compress"),
    "mixture of experts": ("expert", "moe", "sparse", "sharding"),
}


@pytest.mark.parametrize("query", sorted(ON_TOPIC))
def test_most_of_the_top_ten_are_on_topic(query: str) -> None:
    papers = read_paper_file(sample_corpus_path(), "sample")
    top = bm25_rank(query, papers)[:10]
    assert top, query
    hits = sum(
        any(word in (r.paper.title + " " + r.paper.abstract).lower() for word in ON_TOPIC[query])
        for r in top
    )
    assert hits >= 0.7 * len(top), [r.paper.title for r in top]


def test_unrelated_query_finds_nothing() -> None:
    papers = read_paper_file(sample_corpus_path(), "sample")
    assert bm25_rank("protein folding cryo-em", papers) == []


def test_parse_since_and_query_building() -> None:
    assert parse_since("30d", TODAY) == dt.date(2026, 10, 27)
    assert parse_since("2w", TODAY) == dt.date(2026, 11, 12)
    assert parse_since("2026-01-01", TODAY) == dt.date(2026, 1, 1)
    with pytest.raises(ConfigError, match="--since"):
        parse_since("last tuesday", TODAY)
    assert (
        arxiv_query("speculative decoding")
        == 'ti:"speculative decoding" OR abs:"speculative decoding"'
    )


@pytest.fixture()
def arxiv() -> ScriptedHttpServer:
    with ScriptedHttpServer() as srv:
        yield srv


def settings_for(tmp_path: Path, server: ScriptedHttpServer) -> Settings:
    return load_settings(
        None,
        home=tmp_path / "home",
        engine="offline",
        sources={
            "arxiv_api_url": f"{server.url}/api/query",
            "arxiv_min_interval_seconds": 0,
            "max_attempts": 1,
            "timeout_seconds": 5,
            "arxiv_api_max_results": 10,
        },
    )


def test_topic_from_recorded_arxiv_answers(tmp_path: Path, arxiv: ScriptedHttpServer) -> None:
    arxiv.add("/api/query", Reply(200, TESTING_FEED))
    options = TopicOptions(
        query="software testing",
        since="10000d",
        sources=("arxiv",),
        max_papers=4,
        engine="offline",
        today=TODAY,
    )
    outcome = run_topic(settings_for(tmp_path, arxiv), options)
    assert outcome.digest is not None
    digest = outcome.digest
    sent = arxiv.requests[0].param("search_query") or ""
    assert 'ti:"software testing"' in sent and "submittedDate:[" in sent
    placed = [b.paper_id for t in digest.themes for b in t.papers]
    assert len(placed) == len(set(placed)) == 4
    assert len(digest.also_new) + len(placed) == len(digest.papers)
    assert digest.kind == "topic" and digest.topic == "software testing" and digest.overview
    with Store.open(tmp_path / "home") as store:  # kept for later local searches
        assert len(store.kept_papers()) == len(digest.papers)
    again = run_topic(
        settings_for(tmp_path, arxiv),
        TopicOptions(
            query="software testing", since=None, sources=("local",), engine="offline", today=TODAY
        ),
    )
    assert again.digest is not None and again.digest.paper_count == digest.paper_count


def test_a_failed_source_is_named_and_the_others_still_count(
    tmp_path: Path, arxiv: ScriptedHttpServer
) -> None:
    arxiv.add("/api/query", Reply(503, "down"))
    options = TopicOptions(
        query="sentence embeddings", sources=("sample", "arxiv"), engine="offline", today=TODAY
    )
    outcome = run_topic(settings_for(tmp_path, arxiv), options)
    assert outcome.digest is not None
    statuses = {h.name.split(":")[0]: h.status for h in outcome.health}
    assert statuses == {"sample": "ok", "arxiv": "failed"}


def test_no_papers_found_names_the_sources(tmp_path: Path, arxiv: ScriptedHttpServer) -> None:
    arxiv.add("/api/query", Reply(200, TESTING_FEED))
    options = TopicOptions(
        query="protein folding", sources=("sample",), engine="offline", today=TODAY
    )
    outcome = run_topic(settings_for(tmp_path, arxiv), options)
    assert outcome.digest is None
    assert "No papers found on 'protein folding' in sample" in outcome.message


def test_recency_breaks_ties(tmp_path: Path) -> None:
    old = Paper(
        id="a",
        title="Graph coloring",
        abstract="",
        published=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )
    new = Paper(
        id="b",
        title="Graph coloring",
        abstract="",
        published=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    assert [r.paper.id for r in bm25_rank("graph coloring", [old, new])] == ["b", "a"]


def test_with_a_model_the_topic_is_expanded_into_validated_arxiv_queries(
    tmp_path: Path, arxiv: ScriptedHttpServer
) -> None:
    from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest, request_schema
    from tests.fakes.openai_server import Reply as ModelReply
    from tests.llm_answers import answer_from_schema

    expansions = ["software testing", "test case generation", "fuzzing"]
    answers: list[str] = []

    def answer(body: dict) -> ModelReply:
        schema, as_tool = request_schema(body)
        if "queries" in schema.get("properties", {}):
            answers.append("queries")
            return ModelReply({"queries": expansions}, tool_call=as_tool)
        return ModelReply(
            answer_from_schema(schema, prompt=RecordedRequest.text_of(body)), tool_call=as_tool
        )

    arxiv.add("/api/query", Reply(200, TESTING_FEED))
    with FakeOpenAIServer(handler=answer) as model:
        settings = settings_for(tmp_path, arxiv).model_copy(
            update={
                "llm": load_settings(None, llm={"base_url": model.base_url, "max_attempts": 1}).llm
            }
        )
        outcome = run_topic(
            settings,
            TopicOptions(
                query="software testing", since=None, sources=("arxiv",), engine="llm", today=TODAY
            ),
        )
    assert answers == ["queries"]
    assert outcome.queries == tuple(expansions)  # the topic first, then the new expansions
    searched = [r.param("search_query") or "" for r in arxiv.requests]
    assert len(searched) == 3
    assert any('"test case generation"' in q for q in searched)
    assert any('"fuzzing"' in q for q in searched)
    assert outcome.digest is not None
    placed = [b.paper_id for t in outcome.digest.themes for b in t.papers]
    assert len(placed) == len(set(placed))
    assert set(placed) | set(outcome.digest.also_new) == set(outcome.digest.papers)
    assert outcome.digest.engine.startswith("llm:")
    assert outcome.digest.overview
    model_calls = len(model.chat_requests)
    assert outcome.digest.usage.calls == model_calls  # the expansion call is counted too
    titles = [p.title for p in outcome.digest.papers.values()]
    assert any("Fuzzing" in t for t in titles)  # found through an expansion, not the topic


def test_a_broken_expansion_answer_falls_back_to_the_topic(
    tmp_path: Path, arxiv: ScriptedHttpServer
) -> None:
    from tests.fakes.openai_server import FakeOpenAIServer
    from tests.fakes.openai_server import Reply as ModelReply

    arxiv.add("/api/query", Reply(200, TESTING_FEED))
    with FakeOpenAIServer(handler=lambda body: ModelReply({"queries": "not a list"})) as model:
        settings = settings_for(tmp_path, arxiv).model_copy(
            update={
                "llm": load_settings(
                    None, llm={"base_url": model.base_url, "max_attempts": 1, "max_reasks": 0}
                ).llm
            }
        )
        outcome = run_topic(
            settings,
            TopicOptions(
                query="software testing", since=None, sources=("arxiv",), engine="llm", today=TODAY
            ),
        )
    assert outcome.queries == ("software testing",)
    assert outcome.digest is not None  # the offline engine finished the job


def test_absurd_since_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="--since"):
        parse_since("99999y", TODAY)


def test_topic_send_without_email_fails_before_any_work(
    tmp_path: Path, arxiv: ScriptedHttpServer
) -> None:
    options = TopicOptions(
        query="sentence embeddings", sources=("sample",), engine="offline", today=TODAY, send=True
    )
    with pytest.raises(ConfigError, match="--send needs"):
        run_topic(settings_for(tmp_path, arxiv), options)
    assert not (tmp_path / "home" / "archive").exists()


def test_topic_with_out_is_archived_under_its_date(
    tmp_path: Path, arxiv: ScriptedHttpServer
) -> None:
    from agent.topic import emit_topic

    settings = settings_for(tmp_path, arxiv)
    options = TopicOptions(
        query="sentence embeddings", sources=("sample",), engine="offline", today=TODAY
    )
    outcome = run_topic(settings, options)
    assert outcome.digest is not None
    emit_topic(outcome.digest, settings, options, format_="md", out_dir=tmp_path / "notes")
    assert (tmp_path / "notes" / "2026-11-26" / "topic-sentence-embeddings" / "digest.md").exists()
    # the sample day alone: kept apart under its date, not listed over a real digest
    kept = tmp_path / "home" / "archive" / "2026-11-26" / "sample" / "topic-sentence-embeddings"
    assert {p.name for p in kept.iterdir()} >= {"digest.html", "digest.json", "digest.md"}
    index = (tmp_path / "home" / "archive" / "index.html").read_text(encoding="utf-8")
    assert "topic-sentence-embeddings" not in index


def test_term_counts_counts_what_tokens_gives_on_the_whole_sample() -> None:
    papers = read_paper_file(sample_corpus_path(), "sample")
    texts = [f"{p.title} {p.title} {p.abstract}" for p in papers] + [
        "state-of-the-art long-context models and the-of-a hyphens",
        "",
        "Queries QUERIES query",
    ]
    wanted = set(tokens("long context language models")) | {"query", "state-of-the-art"}
    docs, lengths = term_counts(texts, wanted)
    for text, doc, length in zip(texts, docs, lengths, strict=True):
        full = Counter(tokens(text))
        assert doc == Counter({term: n for term, n in full.items() if term in wanted})
        assert length == sum(full.values())
    assert docs[-3]["context"] == 1 and docs[-1]["query"] == 3
