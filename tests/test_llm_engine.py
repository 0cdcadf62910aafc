"""The LLM engine through the real transport (factory, OpenAIChatModel, the openai SDK, HTTP)
against the fake OpenAI server: the happy path, each fault alone, the circuit breaker, the cache,
the cost cap, a 2,000-paper day, and the API key kept out of logs, cache and outputs."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent.config import LLMSettings, Settings
from agent.models import Summary
from agent.store import Store
from agent.summarize.llm.engine import LLMEngine
from tests.fakes.openai_server import (
    FakeOpenAIServer,
    Fault,
    RecordedRequest,
    Reply,
    request_schema,
)
from tests.llm_answers import answer_from_schema, assert_complete, handler, sample_papers

KEY = "sk-test-SECRET-engine-0123456789abcdef"
PRIMARY, FALLBACK = "gpt-4o-mini", "gpt-4.1-nano"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def srv() -> Any:
    with FakeOpenAIServer(handler=handler(themes=4)) as server:
        yield server


def settings(srv: FakeOpenAIServer, home: Path, **llm: Any) -> Settings:
    values: dict[str, Any] = {
        "model": PRIMARY,
        "base_url": srv.base_url,
        "api_key": SecretStr(KEY),
        "max_attempts": 2,
        "max_retry_wait_seconds": 0.0,
        "timeout_seconds": 2.0,
        "local_defaults": False,  # the fake server stands for a remote endpoint
    }
    values.update(llm)
    return Settings(home=home, llm=LLMSettings(**values))


def run(
    srv: FakeOpenAIServer,
    home: Path,
    papers: list,
    *,
    store: Store | None = None,
    topic: str | None = None,
    **llm: Any,
) -> Summary:
    engine = LLMEngine(settings(srv, home, **llm).llm, store)
    return asyncio.run(engine.summarize(papers, topic=topic))


def step_of(body: dict[str, Any]) -> str:
    return body["response_format"]["json_schema"]["name"]


def valid(body: dict[str, Any]) -> dict[str, Any]:
    schema, _ = request_schema(body)
    assert schema is not None
    return answer_from_schema(schema, themes=4, prompt=RecordedRequest.text_of(body))


PAPERS = sample_papers(40)


# -- the happy path ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["json_schema", "json_object_schema", "json_object", "tools"])
def test_happy_path(srv: FakeOpenAIServer, tmp_path: Path, dialect: str) -> None:
    summary = run(srv, tmp_path, PAPERS, dialect=dialect)
    assert_complete(summary, PAPERS)
    assert summary.engine == f"llm:{PRIMARY}"
    assert summary.degraded == ()
    assert len(summary.themes) == 4
    assert all(t.engine == "llm" and not t.degraded for t in summary.themes)
    requests = srv.chat_requests
    assert summary.usage.calls == len(requests) > 0
    assert summary.usage.input_tokens > 0 and summary.usage.wall_seconds > 0
    assert srv.errors == []


def test_topic_digest_has_an_overview(srv: FakeOpenAIServer, tmp_path: Path) -> None:
    summary = run(srv, tmp_path, PAPERS[:12], topic="efficient attention")
    assert_complete(summary, PAPERS[:12])
    assert summary.overview == "These papers look at the topic from several sides."
    overview = [r for r in srv.chat_requests if step_of(r.body) == "overview"]
    assert len(overview) == 1 and "efficient attention" in overview[0].prompt_text


# -- the topic overview is never shown cut -----------------------------------------------------------

WHOLE = "Sparse attention cuts the cost of long inputs. Several papers trade accuracy for speed."


def overview_script(srv: FakeOpenAIServer, *answers: Any) -> list[dict[str, Any]]:
    """Answer the overview requests with `answers` in turn (the rest from the schema); returns
    the overview requests' bodies as they come."""
    seen: list[dict[str, Any]] = []
    queue = list(answers)
    fallback = srv.handler
    assert fallback is not None

    def answer(body: dict[str, Any]) -> Any:
        if step_of(body) != "overview":
            return fallback(body)
        seen.append(body)
        return queue.pop(0) if queue else Fault.length('{"overview": "Sparse attention cuts the')

    srv.handler = answer
    return seen


def test_an_overview_cut_off_is_asked_again_with_more_room(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    asked = overview_script(
        srv, Fault.length('{"overview": "Sparse attention cuts the cost of long in'),
        Reply({"overview": WHOLE}),
    )  # fmt: skip
    summary = run(srv, tmp_path, PAPERS[:12], topic="sparse attention")
    assert summary.overview == WHOLE
    limits = [body.get("max_tokens") or body.get("max_completion_tokens") for body in asked]
    assert len(limits) == 2 and limits[1] == 2 * limits[0]
    assert not [n for n in summary.degraded if n.step == "overview"]


def test_an_overview_cut_off_twice_is_dropped_for_the_offline_one(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    overview_script(srv)  # every overview answer is cut off
    summary = run(srv, tmp_path, PAPERS[:12], topic="sparse attention")
    assert summary.overview and "Sparse attention cuts the" not in summary.overview
    [note] = [n for n in summary.degraded if n.step == "overview"]
    assert note.fallback == "offline engine" and "cut off" in note.reason
    assert "the overview" in summary.engine  # the label says the offline engine wrote it


@pytest.mark.parametrize(
    "written",
    [
        WHOLE + " Three of them test on long documents and find that",  # a length bound's cut
        WHOLE + " " + WHOLE + " " + WHOLE,  # a small model's loop
        WHOLE + " " + "The authors " * 200,  # over the bound: clipped with an ellipsis
    ],
    ids=["cut-by-a-length-bound", "repeating-itself", "over-the-bound"],
)
def test_an_overview_keeps_its_whole_sentences_once(
    srv: FakeOpenAIServer, tmp_path: Path, written: str
) -> None:
    overview_script(srv, Reply({"overview": written}))
    summary = run(srv, tmp_path, PAPERS[:12], topic="sparse attention")
    assert summary.overview == WHOLE


def test_an_overview_in_chinese_keeps_its_whole_sentences(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    """Full-width stops end sentences too: a CJK overview cut mid-sentence keeps what came
    before the cut, joined without spaces, instead of falling back as "no whole sentence"."""
    whole = "稀疏注意力降低了长输入的成本。多篇论文用少量精度换取速度！"
    overview_script(srv, Reply({"overview": whole + "其中三篇论文在长文档上测试并发现"}))
    summary = run(srv, tmp_path, PAPERS[:12], topic="sparse attention")
    assert summary.overview == whole
    assert not [n for n in summary.degraded if n.step == "overview"]


def test_an_overview_without_a_whole_sentence_falls_back(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    cut = "Sparse attention cuts the cost of long inputs and several papers trade accuracy for"
    overview_script(srv, *(Reply({"overview": cut}) for _ in range(3)))
    summary = run(srv, tmp_path, PAPERS[:12], topic="sparse attention")
    assert summary.overview and summary.overview != cut and not summary.overview.endswith("for")
    [note] = [n for n in summary.degraded if n.step == "overview"]
    assert "no whole sentence" in note.reason


@pytest.mark.parametrize("invented", ["GPT-7 leads every benchmark.", "Accuracy rose by 93.7%."])
def test_an_overview_names_only_what_the_digest_has(
    srv: FakeOpenAIServer, tmp_path: Path, invented: str
) -> None:
    """As the headline: a name or figure no theme or paper has is re-asked with the reason,
    and an answer that keeps it loses that sentence rather than reaching the reader."""
    seen = overview_script(
        srv, Reply({"overview": f"{WHOLE} {invented}"}), Reply({"overview": WHOLE})
    )
    summary = run(srv, tmp_path / "a", PAPERS[:12], topic="sparse attention")
    assert summary.overview == WHOLE
    assert len(seen) == 2 and "the overview names" in RecordedRequest.text_of(seen[1])
    overview_script(srv, *(Reply({"overview": f"{WHOLE} {invented}"}) for _ in range(3)))
    salvaged = run(srv, tmp_path / "b", PAPERS[:12], topic="sparse attention")
    assert salvaged.overview == WHOLE


# -- each fault alone -------------------------------------------------------------------------------

ONCE: dict[str, Any] = {
    "429": Fault.http(429, headers={"Retry-After": "0"}),
    "500": Fault.http(500),
    "drop": Fault.drop(),
    "slow": Fault.slow(3.0),
    "invalid_json": Fault.invalid_json(),
    "wrong_ids": Reply({"themes": [{"title": "T", "summary": "S", "paper_ids": ["P999"]}]}),
    "missing": Reply({"themes": [{"title": "T", "summary": "S", "paper_ids": ["P1"]}]}),
    "duplicated": Reply(
        {
            "themes": [
                {"title": "A", "summary": "S", "paper_ids": ["P1", "P2"]},
                {"title": "B", "summary": "S", "paper_ids": ["P1"]},
            ]
        }
    ),
    "length": Fault.length('{"themes": [{"title": "'),
}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("fault", sorted(ONCE))
def test_a_fault_on_the_first_call_is_absorbed(
    srv: FakeOpenAIServer, tmp_path: Path, fault: str
) -> None:
    srv.queue(ONCE[fault])
    summary = run(srv, tmp_path, PAPERS, timeout_seconds=0.5)
    assert_complete(summary, PAPERS)
    assert summary.degraded == (), summary.degraded  # retried or re-asked, then fine
    assert summary.engine == f"llm:{PRIMARY}"
    assert srv.pending == 0


def test_a_refusal_degrades_its_step_only(srv: FakeOpenAIServer, tmp_path: Path) -> None:
    srv.queue(Reply(refusal="I'm sorry, I can't help with that."))  # the grouping call
    summary = run(srv, tmp_path, PAPERS)
    assert_complete(summary, PAPERS)
    (note,) = summary.degraded
    assert note.step == "grouping" and note.fallback == "offline engine"
    assert "refused" in note.reason
    assert all(b.engine == "llm" for t in summary.themes for b in t.papers)


def _mutated(kind: str) -> Callable[[dict[str, Any]], Reply]:
    """A handler whose every answer has the same defect."""

    def answer(body: dict[str, Any]) -> Reply:
        content = valid(body)
        themes = content.get("themes")
        if kind == "wrong_ids" and themes:
            key = "paper_ids" if "paper_ids" in themes[0] else "theme_ids"
            themes[0][key].append("P999")
        elif kind == "wrong_ids" and "blurbs" in content:
            content["blurbs"].append({"paper_id": "P999", "blurb": "x", "why_it_matters": None})
        elif kind == "missing" and themes:
            key = "paper_ids" if "paper_ids" in themes[0] else "theme_ids"
            if len(themes[-1][key]) > 1:
                themes[-1][key].pop()
        elif kind == "missing" and "blurbs" in content and len(content["blurbs"]) > 1:
            content["blurbs"].pop()
        elif kind == "duplicated" and themes and len(themes) > 1:
            key = "paper_ids" if "paper_ids" in themes[0] else "theme_ids"
            themes[1][key].append(themes[0][key][0])
        return Reply(content)

    return answer


ALWAYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "429": lambda body: Fault.http(429, headers={"Retry-After": "0"}),
    "500": lambda body: Fault.http(500),
    "drop": lambda body: Fault.drop(),
    "slow": lambda body: Fault.slow(3.0),
    "invalid_json": lambda body: Fault.invalid_json(),
    "length": lambda body: Fault.length('{"themes": [{"title": "'),
    "refusal": lambda body: Reply(refusal="I'm sorry, I can't help with that."),
    "wrong_ids": _mutated("wrong_ids"),
    "missing": _mutated("missing"),
    "duplicated": _mutated("duplicated"),
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("fault", sorted(ALWAYS))
def test_a_fault_on_every_call_still_gives_a_complete_digest(
    srv: FakeOpenAIServer, tmp_path: Path, fault: str
) -> None:
    srv.handler = ALWAYS[fault]
    summary = run(srv, tmp_path, PAPERS, timeout_seconds=0.3)
    assert_complete(summary, PAPERS)
    assert summary.degraded, "the repairs and fallbacks are noted"
    if fault in ("wrong_ids", "missing", "duplicated"):  # repaired, still the model's work
        assert all(t.engine == "llm" for t in summary.themes)
        assert any(n.fallback.startswith("repaired") for n in summary.degraded)
    else:  # nothing usable came back: the offline engine wrote it all
        assert all(b.engine == "offline" for t in summary.themes for b in t.papers)
        assert {n.fallback for n in summary.degraded} == {"offline engine"}
        assert all(t.degraded for t in summary.themes)


# -- the circuit breaker and the fallback model ------------------------------------------------------


@pytest.mark.timeout(20)  # fast because the breaker stops the calls (counted below)
def test_total_outage_opens_the_circuit_and_finishes_fast(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    srv.handler = lambda body: Fault.http(500)
    papers = sample_papers(60)
    summary = run(srv, tmp_path, papers, max_attempts=3, circuit_breaker_failures=3)
    assert_complete(summary, papers)
    # the breaker opens after three failed calls; calls already in flight (at most
    # `concurrency`) finish their attempts, every later one fails at once without a request
    assert len(srv.chat_requests) <= (3 + LLMSettings().concurrency) * 3
    assert all(b.engine == "offline" for t in summary.themes for b in t.papers)
    assert summary.engine == f"llm:{PRIMARY} (unavailable; all by the offline engine)"
    reasons = " ".join(n.reason for n in summary.degraded)
    assert "HTTP 500" in reasons and "circuit open" in reasons


def test_the_fallback_model_takes_over(srv: FakeOpenAIServer, tmp_path: Path) -> None:
    good = handler(themes=3)
    srv.handler = lambda body: Fault.http(503) if body["model"] == PRIMARY else good(body)
    summary = run(srv, tmp_path, PAPERS, fallback_model=FALLBACK)
    assert_complete(summary, PAPERS)
    assert summary.engine == f"llm:{PRIMARY} (unavailable; used {FALLBACK})"
    assert all(b.engine == "llm" for t in summary.themes for b in t.papers)
    assert all(n.fallback == f"fallback model {FALLBACK}" for n in summary.degraded)
    assert {n.step for n in summary.degraded} == {"grouping", "blurbs", "headline"}


# -- cache, cost cap, secrets --------------------------------------------------------------------------


def test_a_rerun_is_answered_from_the_cache(srv: FakeOpenAIServer, tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        first = run(srv, tmp_path, PAPERS, store=store, topic="attention")
        calls = len(srv.chat_requests)
        assert calls == first.usage.calls > 0
        second = run(srv, tmp_path, PAPERS, store=store, topic="attention")
    assert len(srv.chat_requests) == calls  # zero new server requests
    assert second.usage.calls == 0 and second.usage.cache_hits == calls
    assert second.themes == first.themes and second.headline == first.headline
    assert second.overview == first.overview


def test_an_answer_the_step_cannot_use_leaves_the_cache(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    """An overview that validates but holds no whole sentence (what a grammar's length bound
    leaves) was kept when it validated; the step's rejection drops it, so the next run asks the
    model again instead of replaying it, while the other steps come from the cache."""
    cut = "Sparse attention cuts the cost of long inputs and several papers trade accuracy for"
    seen = overview_script(srv, *(Reply({"overview": cut}) for _ in range(6)))
    with Store.open(tmp_path) as store:
        first = run(srv, tmp_path, PAPERS[:12], store=store, topic="sparse attention")
        asked = len(seen)
        calls = len(srv.chat_requests)
        second = run(srv, tmp_path, PAPERS[:12], store=store, topic="sparse attention")
    for summary in (first, second):
        [note] = [n for n in summary.degraded if n.step == "overview"]
        assert "no whole sentence" in note.reason
    assert asked >= 1 and len(seen) == 2 * asked  # asked again, not served from the cache
    assert len(srv.chat_requests) - calls == asked  # everything else came from the cache
    assert second.usage.cache_hits == calls - asked


def test_the_cost_cap_falls_back_to_offline(srv: FakeOpenAIServer, tmp_path: Path) -> None:
    summary = run(srv, tmp_path, PAPERS, max_cost_usd=0.000001)
    assert_complete(summary, PAPERS)
    assert srv.chat_requests == []
    assert summary.degraded and all("cost cap reached" in n.reason for n in summary.degraded)
    assert all(b.engine == "offline" for t in summary.themes for b in t.papers)


def test_the_api_key_stays_out_of_logs_cache_and_outputs(
    srv: FakeOpenAIServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    srv.queue(Fault.http(401, body={"error": {"message": f"Incorrect API key provided: {KEY}"}}))
    srv.queue(Fault.http(500, body={"error": {"message": f"echo {KEY}"}}))
    caplog.set_level(logging.DEBUG)
    with Store.open(tmp_path) as store:
        summary = run(srv, tmp_path, PAPERS, store=store)
        db = store.path
    assert_complete(summary, PAPERS)
    assert srv.chat_requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in caplog.text
    assert KEY not in summary.model_dump_json()
    for path in db.parent.iterdir():
        assert KEY.encode() not in path.read_bytes(), path


# -- size ----------------------------------------------------------------------------------------------


@pytest.mark.timeout(90)
def test_a_day_of_2000_papers(srv: FakeOpenAIServer, tmp_path: Path) -> None:
    papers = sample_papers(2_000)
    summary = run(srv, tmp_path, papers, concurrency=8)
    assert_complete(summary, papers)
    assert summary.degraded == ()
    steps = [step_of(r.body) for r in srv.chat_requests]
    assert steps.count("grouping") >= 10 and steps.count("merge") == 1
    assert len(summary.themes) <= 12
    budget = LLMSettings().input_budget_tokens
    assert all(r.body and len(r.prompt_text) // 4 <= budget for r in srv.chat_requests)


def test_requests_carry_the_prompt_version_schema_and_fenced_papers(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    run(srv, tmp_path, PAPERS[:8])
    first = srv.chat_requests[0].body
    assert first["response_format"]["json_schema"]["strict"] is True
    schema = first["response_format"]["json_schema"]["schema"]
    assert json.dumps(schema).count('"P8"') == 1
    user = first["messages"][1]["content"]
    assert user.count("<papers>") == 1 and f"P1: {PAPERS[0].title}" in user and "P8: " in user
    blurbs = next(r.body for r in srv.chat_requests if step_of(r.body) == "blurbs")
    assert blurbs["messages"][1]["content"].count("<paper id=") >= 1


def test_whole_sentences_do_not_break_after_abbreviations() -> None:
    from agent.summarize.llm.asking.repair import whole_sentences

    text = "Some cut memory, e.g. by pruning. Others cut time, e.g. by pruning."
    assert whole_sentences(text) == text
    assert whole_sentences("Smith et al. show gains. Smith et al. show gains.") == (
        "Smith et al. show gains."
    )


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("模型更快。他说“很好。”", "模型更快。他说“很好。”"),  # the closing quote stays on
        ("结果很好（见表1。）还有", "结果很好（见表1。）"),
        ("他问：“为什么？”然后离开。", "他问：“为什么？”然后离开。"),  # no space inserted
        ("模型更快。他问“为什么？”", "模型更快。他问“为什么？”"),  # a quoted question ends
        (
            "We test Llama。It works. Then 中文句子。English again.",
            "We test Llama。It works. Then 中文句子。English again.",
        ),
    ],
)
def test_cjk_sentences_end_with_their_closing_quote_and_join_without_spaces(
    text: str, kept: str
) -> None:
    from agent.summarize.checks.figures import ungrounded, without_sentences
    from agent.summarize.llm.asking.repair import whole_sentences

    assert whole_sentences(text) == kept
    claimed = "模型更快。准确率达到97%。结果很好。"  # the run's figures check drops one sentence
    assert without_sentences(claimed, ungrounded(claimed, "模型更快。结果很好。")) == (
        "模型更快。结果很好。"
    )


def test_an_overview_over_the_bound_ends_on_a_whole_sentence(
    srv: FakeOpenAIServer, tmp_path: Path
) -> None:
    sentences = [
        f"Paper group {chr(65 + i)} studies sparse attention for long inputs and reports gains."
        for i in range(14)  # letters: a number the papers do not have is not grounded
    ]
    overview_script(srv, Reply({"overview": " ".join(sentences)}))
    summary = run(srv, tmp_path, PAPERS[:12], topic="sparse attention")
    assert summary.overview and summary.overview.endswith("reports gains.")
    assert len(summary.overview) <= 900 and summary.overview.startswith(sentences[0])
