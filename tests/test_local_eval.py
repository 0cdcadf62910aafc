"""`digest eval` against a local server that is not deterministic (the fake set up as
llama-cpp-python behaves: the same request gets other words each time), through the CLI:
identical prompts share their answers and cannot regress; a real change is judged on repeats,
three by default, after one request asked twice showed the model is not deterministic; and a
repeated eval asks the server nothing, however many of its answers were invalid. (The two
evals of a change are in the slow tier.)"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agent.core.resources import prompts_dir
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.small_local import llama_cpp_python
from tests.processes import clean_env, digest_process

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def case(cases: Path) -> Path:
    """One case of eight papers (the injection case): a grouping, blurbs and a headline."""
    (cases / "single-paper.yaml").unlink()
    return cases


def prompts(tmp_path: Path, name: str, extra: str = "") -> Path:
    directory = tmp_path / name
    shutil.copytree(prompts_dir(), directory)
    if extra:
        blurbs = directory / "blurbs.j2"
        blurbs.write_text(blurbs.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return directory


def evaluate(
    srv: FakeOpenAIServer, tmp_path: Path, cases: Path, candidate: Path, baseline: Path, runs: str
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    env = clean_env(DIGEST_HOME=str(tmp_path / "home"), DIGEST_LLM__BASE_URL=srv.base_url,
                    COLUMNS="200")  # fmt: skip
    out = tmp_path / runs
    result = digest_process(
        "eval", "--cases", str(cases), "--prompts", str(candidate), "--baseline", str(baseline),
        "--engine", "llm", "--out", str(out), cwd=tmp_path, env=env, timeout=280,
    )  # fmt: skip
    [path] = out.glob("*.jsonl")
    return result, [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def scores(lines: list[dict[str, Any]], variant: str) -> dict[tuple[str, int], dict[str, float]]:
    return {
        (r["case"], r["repeat"]): {
            s["name"]: s["value"] for s in r["scores"] if s["name"] not in ("latency", "tokens")
        }
        for r in lines
        if r["type"] == "result" and r["variant"] == variant
    }


def test_identical_prompts_share_their_answers_and_a_repeated_eval_is_free(
    tmp_path: Path, case: Path
) -> None:
    base, cand = prompts(tmp_path, "base"), prompts(tmp_path, "cand")
    with llama_cpp_python() as srv:
        first, lines = evaluate(srv, tmp_path, case, cand, base, "one")
        asked = len(srv.chat_requests)
        second, again = evaluate(srv, tmp_path, case, cand, base, "two")
        asked_again = len(srv.chat_requests) - asked
    assert first.returncode == 0, first.stdout + first.stderr
    flat = " ".join(first.stdout.split())
    assert "byte-identical to the baseline's: the candidate shares the baseline's answers" in flat
    assert "not deterministic" not in flat and "REGRESSED" not in flat
    assert asked > 0 and scores(lines, "candidate") == scores(lines, "baseline")
    assert lines[0]["repeat"] == 1
    assert second.returncode == 0 and asked_again == 0  # every answer kept, valid or not
    assert scores(again, "baseline") == scores(lines, "baseline")
    assert [row["status"] for row in again[-1]["rows"]] == [
        row["status"] for row in lines[-1]["rows"]
    ]


@pytest.mark.slow  # 10 s: two evals of 3 repeats a variant
def test_a_change_against_a_model_that_is_not_deterministic_is_judged_on_repeats(
    tmp_path: Path, case: Path
) -> None:
    base = prompts(tmp_path, "base")
    cand = prompts(tmp_path, "cand", "\nKeep each blurb short.\n")
    with llama_cpp_python() as srv:
        first, lines = evaluate(srv, tmp_path, case, cand, base, "one")
        asked = len(srv.chat_requests)
        second, again = evaluate(srv, tmp_path, case, cand, base, "two")
        asked_again = len(srv.chat_requests) - asked
    assert first.returncode in (0, 1), first.stdout + first.stderr
    flat = " ".join(first.stdout.split())
    assert "the model is not deterministic: the same request asked twice got two different" in flat
    assert "each case ran 3 times" in flat and "byte-identical" not in flat
    assert lines[0]["repeat"] == 3
    assert {r["repeat"] for r in lines if r["type"] == "result"} == {0, 1, 2}
    rows = lines[-1]["rows"]
    judged = [row for row in rows if row["baseline"] and row["candidate"]]
    assert judged and all(row["delta_ci95"] is not None for row in judged)
    assert all(
        "CI" in row["status"] for row in judged if row["regressed"] or "better" in row["status"]
    )  # a verdict either way is taken on the interval
    # the same eval again: no request (the probe's two answers too), the same verdict
    assert asked_again == 0 and second.returncode == first.returncode
    assert [row["status"] for row in again[-1]["rows"]] == [row["status"] for row in rows]
    assert scores(again, "candidate") == scores(lines, "candidate")


@pytest.mark.slow
def test_a_deterministic_model_keeps_one_run_a_case(tmp_path: Path, case: Path) -> None:
    base = prompts(tmp_path, "base")
    cand = prompts(tmp_path, "cand", "\nKeep each blurb short.\n")
    with llama_cpp_python(deterministic=True) as srv:
        result, lines = evaluate(srv, tmp_path, case, cand, base, "one")
        bodies = [r.raw_body for r in srv.chat_requests]
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "not deterministic" not in result.stdout and lines[0]["repeat"] == 1
    flat = " ".join(result.stdout.split())
    assert (
        "the model gave the same answer to one request asked twice, so each case ran once" in flat
    )
    assert len(bodies) == len(set(bodies)) + 1  # the probe asked one request twice, once


def test_the_eval_asks_the_server_its_model_even_when_the_daily_engine_is_offline(
    tmp_path: Path, case: Path
) -> None:
    """The eval ignores `engine = "offline"` in the settings (it runs the model unless told
    `--engine offline`), so it must ask the local server what it serves, as a daily run does:
    else it would run on the placeholder name and an 8,192-token window."""
    base, cand = prompts(tmp_path, "base"), prompts(tmp_path, "cand")
    env = clean_env(DIGEST_HOME=str(tmp_path / "home"), DIGEST_ENGINE="offline", COLUMNS="200")
    with llama_cpp_python() as srv:
        env["DIGEST_LLM__BASE_URL"] = srv.base_url
        result = digest_process(
            "eval", "--cases", str(case), "--prompts", str(cand), "--baseline", str(base),
            "--out", str(tmp_path / "out"), cwd=tmp_path, env=env, timeout=280,
        )  # fmt: skip
        listed = [r for r in srv.requests if r.path.endswith("/models")]
        models = {r.body.get("model") for r in srv.chat_requests if isinstance(r.body, dict)}
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(listed) == 1  # asked once, before the eval planned anything
    assert srv.chat_requests and "local" not in models
