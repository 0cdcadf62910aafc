"""The optional model relevance pass (`[llm] rerank = true`) through the real OpenAI client
against the loopback fake server: batched, reorders the top candidates, says so in `why`,
counted in usage, cached on a re-run, and any failure keeps the offline order."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from agent.config import LLMSettings, Settings
from agent.pipeline import DailyOptions
from agent.select.rerank import reordered
from tests.fakes.openai_server import (
    FakeOpenAIServer,
    Fault,
    RecordedRequest,
    Reply,
    request_schema,
)
from tests.llm_answers import answer_from_schema
from tests.runs import run_daily

DAY = dt.date(2026, 11, 26)
FAVOURITE = "Speculative Decoding with Big Little Decoder"


def rerank_handler(fail: bool = False, fail_with: frozenset[str] = frozenset()) -> Any:
    """Valid answers for every step; rerank calls score FAVOURITE 10 and the others 1 (with
    `fail`, every rerank call fails; a call that lists a title in `fail_with` fails too)."""

    def answer(body: dict[str, Any]) -> Any:
        schema, as_tool = request_schema(body)
        assert schema is not None
        if "scores" in schema.get("properties", {}):
            prompt = RecordedRequest.text_of(body)
            titles = dict(re.findall(r'<paper id="(P\d+)">([^\n]*)', prompt))
            if fail or fail_with & {t.strip() for t in titles.values()}:
                return Fault.http(500)
            scores = [
                {"id": sid, "score": 10 if title.startswith(FAVOURITE) else 1}
                for sid, title in titles.items()
            ]
            return Reply({"scores": scores}, tool_call=as_tool)
        return Reply(
            answer_from_schema(schema, themes=2, prompt=RecordedRequest.text_of(body)),
            tool_call=as_tool,
        )

    return answer


def settings(server: FakeOpenAIServer, home: Path, **llm: Any) -> Settings:
    values: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "base_url": server.base_url,
        "api_key": SecretStr("k"),
        "max_attempts": 1,
        "max_retry_wait_seconds": 0.0,
        "timeout_seconds": 2.0,
        "rerank": True,
        "rerank_candidates": 45,
    }
    values.update(llm)
    return Settings(
        home=home,
        max_papers=5,
        interests="efficient inference for large language models",
        llm=LLMSettings(**values),
    )


def rerank_requests(server: FakeOpenAIServer) -> list[RecordedRequest]:
    return [
        r
        for r in server.chat_requests
        if "scores" in (request_schema(r.body)[0] or {}).get("properties", {})
    ]


def test_rerank_puts_the_models_choice_first_and_is_cached(tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=rerank_handler()) as server:
        config = settings(server, tmp_path / "home")
        options = DailyOptions(
            date=DAY, sources=("sample",), engine="llm", out_dir=tmp_path / "out", send=False
        )
        outcome = run_daily(config, options)
        calls = rerank_requests(server)
        assert len(calls) == 3  # 45 candidates, at most 20 a call
        assert all("not instructions" in RecordedRequest.text_of(c.body) for c in calls)
        digest = outcome.digest
        assert digest is not None
        first = outcome.selection.selected[0]
        assert first.title.startswith(FAVOURITE)
        assert "model: 10/10" in digest.why[first.id]
        assert digest.usage.calls >= 3 + 1  # the rerank calls are counted with the rest
        assert not [n for n in digest.degraded if n.step == "rerank"]
        before = len(server.chat_requests)
        again = run_daily(config, options)
        assert len(server.chat_requests) == before  # everything from the cache
        assert again.selection.selected[0].id == first.id
        assert again.digest.usage.cache_hits >= 3


def test_rerank_failure_keeps_the_offline_order(tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=rerank_handler(fail=True)) as server:
        config = settings(server, tmp_path / "home", circuit_breaker_failures=10)
        options = DailyOptions(
            date=DAY, sources=("sample",), engine="llm", out_dir=tmp_path / "out", send=False
        )
        outcome = run_daily(config, options)
        offline = run_daily(
            config.model_copy(update={"llm": config.llm.model_copy(update={"rerank": False})}),
            DailyOptions(
                date=DAY, sources=("sample",), engine="llm", out_dir=tmp_path / "o2", send=False
            ),
        )
    assert [p.id for p in outcome.selection.selected] == [p.id for p in offline.selection.selected]
    notes = [n for n in outcome.digest.degraded if n.step == "rerank"]
    assert notes and all(n.fallback == "offline engine" for n in notes)
    assert not any("model:" in why for why in outcome.digest.why.values())


def test_reorder_moves_only_what_the_model_scored() -> None:
    ids = ["a", "b", "c", "d", "e"]
    assert reordered(ids, {pid: 5 for pid in ids}) == ids  # ties keep the offline order
    assert reordered(ids, {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}) == ["e", "d", "c", "b", "a"]
    # the first two were never judged (their batch failed): they keep their ranks, and a paper
    # the model scored 0 does not pass them; the scored ones trade places among themselves
    assert reordered(ids, {"c": 0, "d": 9, "e": 4}) == ["a", "b", "d", "e", "c"]
    assert reordered(ids, {"b": 0, "e": 9}) == ["a", "e", "c", "d", "b"]
    assert reordered(ids, {}) == ids
    # a followed author's paper keeps its place whatever its score
    assert reordered(ids, {"a": 0, "b": 3, "c": 9}, first={"a"}) == ["a", "c", "b", "d", "e"]


def test_a_failed_batch_keeps_its_papers_ranks(tmp_path: Path) -> None:
    """One rerank call of three fails (the one holding the offline picks), the others answer:
    the picks stay as the offline ranking had them instead of falling behind every paper the
    model scored, and the scored papers still trade places among themselves."""
    options = DailyOptions(
        date=DAY, sources=("sample",), engine="llm", out_dir=tmp_path / "out", send=False
    )
    with FakeOpenAIServer(handler=rerank_handler()) as server:
        offline_config = settings(server, tmp_path / "offline", rerank=False)
        offline = run_daily(offline_config, options).selection
    picks = [p.id for p in offline.selected]
    pool = [*offline.selected, *offline.also_new][:45]
    assert len(picks) == 5 and FAVOURITE not in {p.title for p in pool[:15]}
    favourite = next(p.id for p in pool if p.title.startswith(FAVOURITE))
    first_batch = frozenset(p.title.strip() for p in pool[:15])
    with FakeOpenAIServer(handler=rerank_handler(fail_with=first_batch)) as server:
        config = settings(server, tmp_path / "home", circuit_breaker_failures=10)
        outcome = run_daily(config, options)
        answered = [c.outcome for c in rerank_requests(server) if c.outcome == "reply"]
        assert len(answered) == 2  # the other two batches
    assert [p.id for p in outcome.selection.selected] == picks
    notes = [n for n in outcome.digest.degraded if n.step == "rerank"]
    assert len(notes) == 1 and notes[0].fallback == "offline engine"
    after = [p.id for p in (*outcome.selection.selected, *outcome.selection.also_new)][:45]
    assert after[:15] == [p.id for p in pool[:15]]
    assert after[15] == favourite  # the best score leads the places the model scored
    assert sorted(after) == sorted(p.id for p in pool)
