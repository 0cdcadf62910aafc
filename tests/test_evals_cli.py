"""`digest eval` end to end: the offline smoke run, the model engine against the fake OpenAI
server (two prompt directories, the cache making a repeated eval free, a regression caught),
and git-ref baselines."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from agent.cli import main
from agent.core.resources import prompts_dir
from agent.errors import ConfigError
from agent.evals.baseline import resolve_prompts
from tests.fakes.blurb_writers import papers_in, plain_blurb
from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest, Reply, request_schema
from tests.fakes.schema_instance import schema_instance

REPO = Path(__file__).resolve().parents[1]
MARKER = "Mention where readers can learn more."  # the candidate's edit that makes answers worse
INVENTED_SENTENCE = "It runs 97.3% faster on the Zorblax cluster."

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("DIGEST_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "140")


def invoke(*args: str, home: Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["eval", *args], env={"DIGEST_HOME": str(home), **(env or {})})


def jsonl(directory: Path) -> list[list[dict[str, Any]]]:
    return [
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for path in sorted(directory.glob("*.jsonl"))
    ]


# -- offline ------------------------------------------------------------------------------------------


def test_offline_smoke_run_writes_report_and_results(tmp_path: Path, cases: Path) -> None:
    runs, report = tmp_path / "runs", tmp_path / "report.html"
    result = invoke(
        "--cases",
        str(cases),
        "--engine",
        "offline",
        "--out",
        str(runs),
        "--report",
        str(report),
        home=tmp_path / "home",
    )
    assert result.exit_code == 0, result.output
    assert (
        "smoke run" in result.output
        and "coverage" in result.output
        and "injection" in result.output
    )
    assert report.is_file() and "<table" in report.read_text(encoding="utf-8")
    [lines] = jsonl(runs)
    assert lines[0]["type"] == "meta" and lines[0]["engine"] == "offline"
    records = [line for line in lines if line["type"] == "result"]
    assert {(r["variant"], r["case"]) for r in records} == {
        (v, c) for v in ("offline", "baseline", "candidate") for c in ("injection", "single-paper")
    }
    assert all(r["summary"] and r["scores"] for r in records)
    assert lines[-1]["type"] == "comparison" and lines[-1]["exit_code"] == 0
    # No model configured and no --engine: the same offline run, said plainly; default report .md.
    again = invoke("--cases", str(cases), "--out", str(runs), home=tmp_path / "home")
    assert again.exit_code == 0, again.output
    assert "no model is configured" in again.output
    assert len(list(runs.glob("*.md"))) == 1


def test_usage_errors_exit_two(tmp_path: Path, cases: Path) -> None:
    home = tmp_path / "home"
    no_model = invoke("--cases", str(cases), "--engine", "llm", home=home)
    assert no_model.exit_code == 2 and "needs a model" in no_model.output
    no_cases = invoke("--cases", str(tmp_path / "nowhere"), "--engine", "offline", home=home)
    assert no_cases.exit_code == 2 and "not found" in no_cases.output
    bad_report = invoke(
        "--cases", str(cases), "--engine", "offline", "--report", str(tmp_path / "r.pdf"), home=home
    )
    assert bad_report.exit_code == 2 and ".md or .html" in bad_report.output


# -- git baselines ------------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(prompts_dir(), root / "prompts")
    _git(root, "init", "-q")
    _git(root, "add", "prompts")
    _git(root, "commit", "-q", "-m", "prompts")
    (root / "prompts" / "blurbs.j2").write_text("edited\n", encoding="utf-8")
    return root


def test_baseline_from_a_git_ref(repo: Path) -> None:
    source = resolve_prompts("HEAD", candidate=repo / "prompts", cwd=repo)
    try:
        assert source.label == "prompts/ at HEAD"
        committed = (source.directory / "blurbs.j2").read_text(encoding="utf-8")
        assert committed == (prompts_dir() / "blurbs.j2").read_text(encoding="utf-8")
    finally:
        source.cleanup()
    assert not source.directory.exists()
    default = resolve_prompts(None, candidate=repo / "prompts", cwd=repo)  # HEAD in a checkout
    default.cleanup()
    assert default.label == "prompts/ at HEAD"
    with pytest.raises(ConfigError, match="no such git ref"):
        resolve_prompts("no-such-branch", candidate=repo / "prompts", cwd=repo)


def test_bad_ref_or_no_repository_is_a_clear_error(
    tmp_path: Path, repo: Path, cases: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"DIGEST_LLM__BASE_URL": "http://127.0.0.1:9/v1"}  # never called: the error comes first
    monkeypatch.chdir(repo)
    bad = invoke(
        "--cases",
        str(cases),
        "--prompts",
        str(repo / "prompts"),
        "--baseline",
        "nope",
        "--engine",
        "llm",
        home=tmp_path / "h",
        env=env,
    )
    assert bad.exit_code == 2 and "--baseline nope: no such git ref" in bad.output
    offline = invoke(
        "--cases",
        str(cases),
        "--baseline",
        "nope",
        "--engine",
        "offline",
        home=tmp_path / "h",
        env=env,
    )
    assert offline.exit_code == 2 and "--baseline nope: no such git ref" in offline.output
    lone = tmp_path / "lone"
    shutil.copytree(prompts_dir(), lone)
    monkeypatch.chdir(tmp_path)
    outside = invoke(
        "--cases",
        str(cases),
        "--prompts",
        str(lone),
        "--baseline",
        "main",
        "--engine",
        "llm",
        home=tmp_path / "h",
        env=env,
    )
    assert outside.exit_code == 2 and "not inside a git repository" in outside.output


# -- the model engine against the fake server -----------------------------------------------------------


def answers(worse: bool = False, mixed: bool = False) -> Callable[[dict[str, Any]], Reply]:
    """Valid answers built from each request's schema, blurbs written from each paper's
    abstract (`blurb_writers.plain_blurb`). For a candidate whose prompt carries MARKER: with
    `worse`, blurbs add a figure and a name the abstracts never give (INVENTED_SENTENCE); with
    `mixed`, a call's blurbs are shifted by one paper. The engine catches both, and the
    numbers_grounded and right_paper scorers count what it caught."""

    def handler(body: dict[str, Any]) -> Reply:
        schema, as_tool = request_schema(body)
        prompt = RecordedRequest.text_of(body)
        bad = worse and MARKER in prompt
        shift = mixed and MARKER in prompt

        def text(name: str, low: int, high: int | None) -> str:
            words = {
                "why_it_matters": "Cheaper models reach more people.",
                "title": "Making models efficient",
                "headline": "Today: faster and smaller models.",
            }.get(name, "Plain words about the papers.")
            return words if high is None else words[:high]

        assert schema is not None, "every request of the engine asks for a schema"
        value = schema_instance(schema, text=text)
        if isinstance(value, dict) and "blurbs" in value:
            shown = papers_in(prompt)
            value["blurbs"] = [
                {
                    "paper_id": sid,
                    "blurb": f"{plain_blurb(*shown[(i + shift) % len(shown)][1:])} "
                    f"{INVENTED_SENTENCE if bad else ''}",
                    "why_it_matters": text("why_it_matters", 0, None),
                }
                for i, (sid, _, _) in enumerate(shown)
            ]
        return Reply(value, tool_call=as_tool)

    return handler


@pytest.fixture
def prompt_dirs(tmp_path: Path) -> tuple[Path, Path]:
    base, cand = tmp_path / "base", tmp_path / "cand"
    shutil.copytree(prompts_dir(), base)
    shutil.copytree(prompts_dir(), cand)
    blurbs = cand / "blurbs.j2"
    blurbs.write_text(
        blurbs.read_text(encoding="utf-8") + "\nKeep each blurb short.\n", encoding="utf-8"
    )
    return base, cand


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(handler=answers()) as srv:
        yield srv


def llm_env(srv: FakeOpenAIServer) -> dict[str, str]:
    return {
        "DIGEST_LLM__BASE_URL": srv.base_url,
        "DIGEST_LLM__API_KEY": "sk-test-eval",
        "DIGEST_LLM__MAX_ATTEMPTS": "1",
        "DIGEST_LLM__TIMEOUT_SECONDS": "10",
    }


def test_llm_eval_of_two_prompt_dirs_and_the_cache(
    tmp_path: Path, cases: Path, prompt_dirs: tuple[Path, Path], server: FakeOpenAIServer
) -> None:
    base, cand = prompt_dirs
    args = [
        "--cases",
        str(cases),
        "--prompts",
        str(cand),
        "--baseline",
        str(base),
        "--engine",
        "llm",
        "--judge",
        "--out",
        str(tmp_path / "runs"),
    ]
    first = invoke(
        *args, "--report", str(tmp_path / "one.md"), home=tmp_path / "home", env=llm_env(server)
    )
    assert first.exit_code == 0, first.output
    calls = len(server.chat_requests)
    assert calls > 0 and not server.errors
    # Progress names the case and how many model answers came back so far (a slow local
    # model shows it is working); the first line has none yet, later ones count up.
    assert "case 1/" in first.stderr and "; 0 model answers so far" in first.stderr
    assert re.search(r"case [2-9]/\d+: .*; [1-9][\d,]* model answers? so far", first.stderr)
    steps = {
        json.loads(r.raw_body)["response_format"]["json_schema"]["name"]
        for r in server.chat_requests
    }
    assert {"grouping", "blurbs", "headline", "judge"} <= steps
    # The prompts differ in blurbs.j2 only: both variants share the cached grouping answers.
    # The smallest case's grouping request is asked once more: is the model deterministic?
    grouping = Counter(
        r.raw_body
        for r in server.chat_requests
        if r.body["response_format"]["json_schema"]["name"] == "grouping"
    )
    assert sorted(grouping.values()) == [1, 2]  # one per case, the probe's second ask
    assert "not deterministic" not in first.output  # the fake answers a request by its text

    second = invoke(
        *args, "--report", str(tmp_path / "two.md"), home=tmp_path / "home", env=llm_env(server)
    )
    assert second.exit_code == 0, second.output
    assert len(server.chat_requests) == calls  # a repeated eval is free: everything cached
    assert re.search(r"model answers so far, [1-9][\d,]* from the cache", second.stderr)

    one, two = jsonl(tmp_path / "runs")
    meta = one[0]
    versions = {v["label"]: v["prompt_versions"] for v in meta["variants"]}
    assert versions["baseline"]["blurbs"] != versions["candidate"]["blurbs"]
    assert versions["baseline"]["grouping"] == versions["candidate"]["grouping"]
    llm = [r for r in two if r["type"] == "result" and r["variant"] != "offline"]
    assert llm and all(r["cached_answers"] == r["answers"] > 0 for r in llm)
    assert all(r["judge"] for r in llm)

    def values(lines: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, float]]:
        return {
            (r["variant"], r["case"]): {s["name"]: s["value"] for s in r["scores"]}
            for r in lines
            if r["type"] == "result" and r["variant"] != "offline"  # offline: its own wall time
        }

    assert values(two) == values(one)  # same answers, and the latencies from the memo
    for path in [*(tmp_path / "runs").iterdir(), tmp_path / "one.md"]:
        assert "sk-test-eval" not in path.read_text(encoding="utf-8")  # no secrets saved
    report = (tmp_path / "two.md").read_text(encoding="utf-8")
    assert "judge\\_faithfulness" in report and "right\\_paper" in report
    assert "The authors" in report  # the model's blurbs, side by side


def marked(prompt_dirs: tuple[Path, Path]) -> tuple[Path, Path]:
    """The prompt directories with MARKER added to the candidate's blurbs prompt."""
    base, cand = prompt_dirs
    blurbs = cand / "blurbs.j2"
    blurbs.write_text(blurbs.read_text(encoding="utf-8") + f"\n{MARKER}\n", encoding="utf-8")
    return base, cand


def test_llm_regression_exits_one(
    tmp_path: Path, cases: Path, prompt_dirs: tuple[Path, Path]
) -> None:
    base, cand = marked(prompt_dirs)
    with FakeOpenAIServer(handler=answers(worse=True)) as srv:
        result = invoke(
            "--cases",
            str(cases),
            "--prompts",
            str(cand),
            "--baseline",
            str(base),
            "--engine",
            "llm",
            "--repeat",
            "2",
            "--out",
            str(tmp_path / "runs"),
            "--report",
            str(tmp_path / "r.html"),
            home=tmp_path / "home",
            env=llm_env(srv),
        )
    assert result.exit_code == 1, result.output
    # The engine caught every invented figure (the digests are clean: faithfulness holds), and
    # the candidate regresses on what it caught.
    assert "regression: numbers_grounded" in result.output
    assert "regression: faithfulness" not in result.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "REGRESSED" in html and "97.3%" in html and "caught" in html
    [lines] = jsonl(tmp_path / "runs")
    assert {r["repeat"] for r in lines if r["type"] == "result"} == {0, 1}
    assert lines[-1]["exit_code"] == 1


def test_results_are_journaled_case_by_case_and_ctrl_c_keeps_a_report(
    tmp_path: Path, cases: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offline smoke run: 3 variants x 2 cases = 6 runs; Ctrl-C while scoring the 4th."""
    from agent.evals import runner

    runs, report = tmp_path / "runs", tmp_path / "report.md"
    seen: list[int] = []  # result lines already in the JSONL when each run is scored
    real = runner.score_result

    def interrupting(*args: Any, **kwargs: Any) -> Any:
        [path] = runs.glob("*.jsonl")
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        seen.append(sum(line["type"] == "result" for line in lines))
        if len(seen) == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "score_result", interrupting)
    result = invoke(
        "--cases", str(cases), "--engine", "offline", "--out", str(runs), "--report", str(report),
        home=tmp_path / "home",
    )  # fmt: skip
    assert result.exit_code == 130, result.output
    assert seen == [0, 1, 2, 3]  # each finished run was on disk before the next one was scored
    for i in range(1, 5):
        assert f"case {i}/6: " in result.stderr
    assert "case 5/6" not in result.stderr
    assert "interrupted (Ctrl-C) after 3 of 6 runs" in result.output
    assert "relevance " not in result.output  # stopped: the relevance step is skipped
    [lines] = jsonl(runs)
    assert [line["type"] for line in lines] == ["meta", "result", "result", "result", "comparison"]
    assert lines[-1]["interrupted"] is True and lines[-1]["exit_code"] == 130
    text = report.read_text(encoding="utf-8")
    assert "interrupted (Ctrl-C) after 3 of 6 runs" in text and "coverage" in text


def test_a_candidate_whose_answers_mix_papers_up_regresses(
    tmp_path: Path, cases: Path, prompt_dirs: tuple[Path, Path]
) -> None:
    base, cand = marked(prompt_dirs)
    with FakeOpenAIServer(handler=answers(mixed=True)) as srv:
        args = ("--cases", str(cases), "--prompts", str(cand), "--baseline", str(base))
        result = invoke(
            *args, "--engine", "llm", "--out", str(tmp_path / "runs"),
            home=tmp_path / "home", env=llm_env(srv),
        )  # fmt: skip
    assert result.exit_code == 1, result.output
    # Every digest is right in the end (the engine asked again), and the candidate regresses
    # on what the engine caught: its answers gave papers each other's blurbs.
    assert "regression: right_paper" in result.output
    [lines] = jsonl(tmp_path / "runs")
    scores = {
        (r["variant"], r["case"]): {s["name"]: s for s in r["scores"]}
        for r in lines
        if r["type"] == "result"
    }
    candidate = scores[("candidate", "injection")]["right_paper"]
    assert candidate["value"] < 0.5 and "(caught; asked again)" in candidate["reason"]
    assert scores[("baseline", "injection")]["right_paper"]["value"] == 1.0
