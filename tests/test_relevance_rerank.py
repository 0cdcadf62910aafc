"""`digest eval --relevance --rerank`: the configured model's rerank of each profile's day 1,
through the real engine and the real OpenAI client against the loopback fake server. The
measure moves with the model's scores, a failing model leaves the offline figures (and says so),
the answers are cached, and without a model the command stops with one line."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from rich.console import Console

from agent.cli import main
from agent.config import LLMSettings, Settings
from agent.evals.relevance import RelevanceCase, load_relevance_case
from agent.evals.relevance_report import print_rerank
from agent.evals.relevance_rerank import RerankRun, rerank_benchmark
from tests.fakes.openai_server import (
    Answer,
    FakeOpenAIServer,
    Fault,
    RecordedRequest,
    Reply,
    request_schema,
)
from tests.processes import run_digest
from tests.test_relevance_benchmark import _small_case

Handler = Callable[[dict[str, Any]], Answer]


def scoring(case: RelevanceCase, on_score: int, off_score: int) -> Handler:
    """Rerank answers that give the case's on-subject papers `on_score`, the others
    `off_score` (the papers are recognised by title in the prompt)."""
    on_titles = {p.title for p in case.papers if p.id in case.on_subject}

    def answer(body: dict[str, Any]) -> Answer:
        schema, as_tool = request_schema(body)
        assert schema is not None and "scores" in schema.get("properties", {})
        titles = re.findall(r'<paper id="(P\d+)">([^\n]*)', RecordedRequest.text_of(body))
        assert titles  # the prompt lists the candidates
        scores = [
            {"id": sid, "score": on_score if title.strip() in on_titles else off_score}
            for sid, title in titles
        ]
        return Reply({"scores": scores}, tool_call=as_tool)

    return answer


def scoring_only_the_last_off_subject(case: RelevanceCase) -> Handler:
    """A partial answer, as a small local model gives: each call scores one paper, its last
    off-subject candidate, 10, and leaves the others out."""
    off_titles = {p.title for p in case.papers if p.id not in case.on_subject}

    def answer(body: dict[str, Any]) -> Answer:
        schema, as_tool = request_schema(body)
        assert schema is not None and "scores" in schema.get("properties", {})
        titles = re.findall(r'<paper id="(P\d+)">([^\n]*)', RecordedRequest.text_of(body))
        last = [sid for sid, title in titles if title.strip() in off_titles][-1:]
        return Reply({"scores": [{"id": sid, "score": 10} for sid in last]}, tool_call=as_tool)

    return answer


def failing(fault: Answer) -> Handler:
    return lambda body: fault


@pytest.fixture()
def case(tmp_path: Path) -> RelevanceCase:
    directory = tmp_path / "relevance"
    directory.mkdir()
    # training: the profile whose day 1 is weakest, so the offline top 10 has room both ways
    return load_relevance_case(_small_case(directory, 0.0, 10, "training"))


def settings(server: FakeOpenAIServer, home: Path) -> Settings:
    return Settings(
        home=home,
        llm=LLMSettings(
            model="gpt-4o-mini",
            base_url=server.base_url,
            api_key=SecretStr("k"),
            local_defaults=False,
            max_attempts=1,
            max_retry_wait_seconds=0.0,
            timeout_seconds=2.0,
        ),
    )


def reranked(
    case: RelevanceCase, handler: Handler, home: Path, times: int = 1
) -> tuple[list[RerankRun], list[int]]:
    """`times` reranks of `case` on one home against a fake server answering with `handler`,
    and the calls the server had received after each."""
    runs, calls = [], []
    with FakeOpenAIServer(handler=handler) as server:
        for _ in range(times):
            runs.append(asyncio.run(rerank_benchmark(settings(server, home), [case])))
            calls.append(len(server.chat_requests))
    return runs, calls


def calls_for(case: RelevanceCase) -> int:
    """Rerank calls for a case smaller than `[llm] rerank_candidates` (60): 20 papers a call."""
    return -(-len(case.papers) // 20)


def test_the_measure_moves_with_the_models_scores(case: RelevanceCase, tmp_path: Path) -> None:
    (good,), (calls,) = reranked(case, scoring(case, 10, 1), tmp_path / "a")
    day = good.days[0]
    assert 0 < day.offline.precision < 1.0  # room to move both ways
    assert calls == calls_for(case) and day.candidates == day.scored == len(case.papers)
    assert day.reranked.precision == 1.0 > day.offline.precision
    assert day.reranked.ndcg > day.offline.ndcg
    assert good.model == "gpt-4o-mini" and good.usage.calls == calls
    assert good.usage.input_tokens > 0 and good.usage.output_tokens > 0
    assert good.cost_known and good.usage.cost_usd > 0 and not day.notes
    (bad,), _ = reranked(case, scoring(case, 1, 10), tmp_path / "b")
    assert bad.days[0].reranked.precision < day.offline.precision
    assert bad.days[0].reranked.ndcg < day.offline.ndcg


def test_a_partial_answer_moves_nothing_past_the_unjudged(
    case: RelevanceCase, tmp_path: Path
) -> None:
    """Scores for one off-subject paper a call (from the bottom of each batch) trade places
    among themselves only: they do not jump ahead of the papers the model left out."""
    (run,), _ = reranked(case, scoring_only_the_last_off_subject(case), tmp_path / "h")
    day = run.days[0]
    assert day.applied and 0 < day.scored < day.candidates // 10
    assert day.reranked == day.offline


def test_the_score_is_sent_as_the_values_it_may_take(case: RelevanceCase, tmp_path: Path) -> None:
    """An enum, which a grammar-constrained local server enforces (llama-cpp-python's ignores
    `maximum`); and an answer outside it is re-asked, not used."""
    with FakeOpenAIServer(handler=scoring(case, 11, 15)) as server:
        run = asyncio.run(rerank_benchmark(settings(server, tmp_path / "h"), [case]))
        first = server.chat_requests[0].body
        schema, _ = request_schema(first)
        listed = re.findall(r'<paper id="(P\d+)">', RecordedRequest.text_of(first))
    assert schema is not None
    item = schema["properties"]["scores"]["items"]
    item = schema["$defs"][item["$ref"].rsplit("/", 1)[-1]] if "$ref" in item else item
    assert item["properties"]["score"] == {"enum": list(range(11)), "type": "integer"}
    scores = schema["properties"]["scores"]
    assert scores["minItems"] == 1 and scores["maxItems"] == len(listed)  # no empty list
    day = run.days[0]
    assert not day.applied and day.reranked == day.offline
    assert day.notes and all("is not allowed: use one of 0, 1, 2" in n.reason for n in day.notes)


def test_a_second_run_is_served_from_the_cache(case: RelevanceCase, tmp_path: Path) -> None:
    (first, second), (asked, after) = reranked(case, scoring(case, 10, 1), tmp_path / "h", 2)
    assert after == asked == calls_for(case)  # no new call to the server
    assert second.usage.calls == 0 and second.usage.cache_hits == first.usage.calls
    assert second.usage.cost_usd == 0 and second.days[0].reranked == first.days[0].reranked


@pytest.mark.parametrize(
    "fault", [Fault.http(500), Fault.invalid_json('{"scores": [')], ids=["500", "invalid-json"]
)
def test_a_failing_model_leaves_the_offline_figures(
    case: RelevanceCase, tmp_path: Path, fault: Answer
) -> None:
    (run,), (calls,) = reranked(case, failing(fault), tmp_path / "home")
    day = run.days[0]
    assert calls >= 1  # the model was asked
    assert not day.applied and day.scored == 0
    assert day.reranked == day.offline
    assert day.notes and all(n.step == "rerank" for n in day.notes)
    console = Console(record=True, width=100)
    print_rerank(console, run)
    text = console.export_text()
    assert "not applied: small: the model scored none of its candidates" in text
    assert "degraded: small:" in text


def test_an_empty_answer_is_asked_again_and_never_cached(
    case: RelevanceCase, tmp_path: Path
) -> None:
    """`{"scores": []}` (what a small local model answers) is a schema error: re-asked with the
    reason, never cached, so the next run asks again rather than replaying it."""
    (first, second), (asked, after) = reranked(
        case, failing(Reply({"scores": []})), tmp_path / "h", 2
    )
    day = first.days[0]
    assert not day.applied and day.reranked == day.offline
    assert day.notes and all("no empty lists" in n.reason for n in day.notes)
    assert asked > calls_for(case)  # each batch asked again before it fell back
    assert after == 2 * asked and second.usage.cache_hits == 0


def cli_env(server: FakeOpenAIServer | None) -> dict[str, str]:
    if server is None:
        return {}
    return {
        "DIGEST_LLM__BASE_URL": server.base_url,
        "DIGEST_LLM__API_KEY": "sk-test",
        "DIGEST_LLM__MODEL": "gpt-4o-mini",
        "DIGEST_LLM__LOCAL_DEFAULTS": "false",
        "DIGEST_LLM__MAX_ATTEMPTS": "1",
        "DIGEST_LLM__MAX_RETRY_WAIT_SECONDS": "0",
    }


def rerank_row(output: str) -> list[str]:
    """The profile's row of the rerank table."""
    table = output[output.index("Day 1 with the model's rerank") :]
    return next(line.split() for line in table.splitlines() if line.split()[:1] == ["small"])


def command(case: RelevanceCase, home: Path, server: FakeOpenAIServer | None) -> Any:
    """`digest eval --relevance DIR --rerank` on the case's directory, as a user runs it."""
    assert case.path is not None
    return run_digest(
        "eval",
        "--relevance",
        str(case.path.parent),
        "--rerank",
        home=home,
        cwd=home.parent,
        env=cli_env(server),
    )


def test_the_command_reports_the_models_rerank(case: RelevanceCase, tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=scoring(case, 10, 1)) as server:
        result = command(case, tmp_path / "home", server)
        asked = len(server.chat_requests)
    assert result.returncode == 0, result.stderr
    assert asked == calls_for(case)
    offline = next(line.split() for line in result.stdout.splitlines() if "small" in line)
    row = rerank_row(result.stdout)
    assert row[1] == offline[3] and float(row[1]) < 1.0  # the offline day 1 of the table above
    assert row[2:4] == ["→", "1.00"] and row[-1] == f"{len(case.papers)}/{len(case.papers)}"
    assert f"model gpt-4o-mini: {asked} model calls, " in result.stdout  # none from the cache
    text = " ".join(result.stdout.split())
    assert "as `[llm] rerank` does in a daily run" in text
    assert "day-6 sessions stay offline" in text
    assert "not applied" not in result.stdout


@pytest.mark.slow
def test_a_second_command_is_served_from_the_cache(case: RelevanceCase, tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=scoring(case, 10, 1)) as server:
        first = command(case, tmp_path / "home", server)
        asked = len(server.chat_requests)
        second = command(case, tmp_path / "home", server)
        assert len(server.chat_requests) == asked == calls_for(case)
    assert first.returncode == second.returncode == 0, second.stderr
    assert rerank_row(second.stdout) == rerank_row(first.stdout)
    assert f"model gpt-4o-mini: 0 model calls ({asked} from cache)" in second.stdout


@pytest.mark.slow
def test_the_command_says_when_the_rerank_was_not_applied(
    case: RelevanceCase, tmp_path: Path
) -> None:
    with FakeOpenAIServer(handler=failing(Fault.http(500))) as server:
        result = command(case, tmp_path / "home", server)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    row = rerank_row(result.stdout)
    assert row[1] == row[3] and row[4] == row[6]  # offline → the same figures
    assert "not applied: small" in result.stdout and "offline order stands" in result.stdout


def test_without_a_model_the_rerank_stops_with_one_line(
    case: RelevanceCase, tmp_path: Path
) -> None:
    result = command(case, tmp_path / "home", None)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        (
            "error: --rerank needs a model: set OPENAI_API_KEY (or DIGEST_LLM__API_KEY) or "
            "llm.base_url for a local OpenAI-compatible server"
        )
    ]
    assert not result.stdout.strip()  # stopped before the sessions


def test_rerank_alone_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["eval", "--rerank"])
    assert result.exit_code == 2
    assert "--rerank goes with --relevance" in result.output
