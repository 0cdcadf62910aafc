"""The model path against a small local server, end to end through the CLI.

The fake server plays llama-cpp-python's server with a tiny model (`tests.fakes.small_local`):
one request at a time, HTTP 500 for json_schema, raw newlines inside JSON strings, the GGUF
path in GET /v1/models and whatever model name the request asked for in its answers, different
answers to the same request, and (when asked) each kind of junk. Set up as the README says
(`digest init --model local --base-url URL`, or only the base URL in the environment), the
digest must name the model the server serves (never the hosted default), find the dialect once
and remember it, price nothing, parse the answers, catch the junk with a re-ask that carries
the error, and say honestly who wrote what; `digest doctor` must agree with the run.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest
from tests.fakes.small_local import GGUF_PATH, LOCAL_MODEL, SmallLocalModel, llama_cpp_python
from tests.processes import clean_env, digest_process

DATE = "2026-11-26"
HOSTED = "gpt-4o-mini"  # the default name of a hosted model: never shown for a local one


def local_server(**model: Any) -> FakeOpenAIServer:
    return llama_cpp_python(**model)


def digest(
    srv: FakeOpenAIServer, home: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m agent ARGS` with only the server's base URL set (no model named)."""
    env = clean_env(
        DIGEST_HOME=str(home),
        DIGEST_LLM__BASE_URL=srv.base_url,
        DIGEST_LLM__TIMEOUT_SECONDS="10",
        DIGEST_LLM__MAX_RETRY_WAIT_SECONDS="0",
        COLUMNS="200",
        **env,
    )
    return digest_process(*args, cwd=home.parent, env=env)


def daily(
    srv: FakeOpenAIServer, tmp_path: Path, date: str = DATE, *extra: str
) -> tuple[str, dict, str]:
    out = tmp_path / "out"
    result = digest(
        srv, tmp_path / "home", "daily", "--engine", "llm", "--source", "sample",
        "--max-papers", "8", "--date", date, "--out", str(out), *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads((out / date / "digest.json").read_text(encoding="utf-8"))
    text = next((out / date).glob("*.txt")).read_text(encoding="utf-8")
    return result.stdout, data, text


def formats(requests: list[RecordedRequest]) -> list[str]:
    out = []
    for r in requests:
        fmt = r.body.get("response_format") or {}
        kind = fmt.get("type") or ("tools" if r.body.get("tools") else "none")
        out.append("json_object_schema" if kind == "json_object" and "schema" in fmt else kind)
    return out


def test_the_readme_init_path_names_the_served_model_and_remembers_the_dialect(
    tmp_path: Path,
) -> None:
    """`digest init --model local --base-url URL`, then doctor and two daily runs."""
    home, config = tmp_path / "home", tmp_path / "digest.toml"
    with local_server() as srv:
        env = clean_env(DIGEST_HOME=str(home), COLUMNS="200")
        init = digest_process(
            "init", "--model", "local", "--base-url", srv.base_url, "--category", "cs.CL",
            "--no-hf-daily", "--no-email", cwd=tmp_path, env=env,
        )  # fmt: skip
        assert init.returncode == 0, init.stdout + init.stderr
        written = tomllib.loads(config.read_text(encoding="utf-8"))["llm"]
        assert (written["model"], written["dialect"]) == (GGUF_PATH, "auto")
        doctor = digest_process("doctor", "--config", str(config), cwd=tmp_path, env=env)
        doctor_requests = formats(srv.chat_requests)
        runs = []
        for date in (DATE, "2026-11-27"):
            before = len(srv.chat_requests)
            result = digest_process(
                "daily", "--config", str(config), "--engine", "llm", "--source", "sample",
                "--max-papers", "8", "--date", date, "--out", str(tmp_path / "out"),
                "--no-send", cwd=tmp_path, env=env,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            runs.append((result.stdout, formats(srv.chat_requests[before:])))
        requested = {r.body["model"] for r in srv.chat_requests}
    # doctor asked as the run asks: json_schema refused once (HTTP 500), then the grammar form,
    # whose raw newlines it read; no hosted name, no price
    model_line = next(line for line in doctor.stdout.splitlines() if f"model {LOCAL_MODEL}" in line)
    assert "ok" in model_line and "json_object_schema" in model_line, doctor.stdout
    assert "no price known" in model_line and "about $" not in doctor.stdout
    assert doctor_requests == ["json_schema", "json_object_schema"]
    assert requested == {GGUF_PATH}  # the name the server lists, in every request
    (first, first_formats), (second, second_formats) = runs
    assert first.splitlines()[0] == f"language model {LOCAL_MODEL}"
    assert first_formats[0] == "json_schema" and first_formats.count("json_schema") == 1
    assert "json_schema" not in second_formats  # the dialect auto found is remembered
    data = json.loads((tmp_path / "out" / DATE / "digest.json").read_text(encoding="utf-8"))
    text = (tmp_path / "out" / DATE / "digest.txt").read_text(encoding="utf-8")
    run = data["model"]
    assert (run["model"], run["requested"], run["dialect"]) == (
        LOCAL_MODEL, LOCAL_MODEL, "json_object_schema"
    )  # fmt: skip
    assert run["cost_known"] is False and data["usage"]["cost_usd"] == 0
    assert f"Written by the language model {LOCAL_MODEL}." in text
    for shown in (doctor.stdout, first, second, text, json.dumps(data)):
        assert HOSTED not in shown and GGUF_PATH not in shown  # no hosted name, no local path


def test_only_the_base_url_the_server_is_asked_its_model_once(tmp_path: Path) -> None:
    with local_server() as srv:
        stdout, data, text = daily(srv, tmp_path)
        first_run = formats(srv.chat_requests)
        asked = [r.path for r in srv.requests if r.method == "GET"]
        assert srv.max_in_flight == 1  # local default: one call at a time
        _, later, _ = daily(srv, tmp_path, "2026-11-27")
        assert "json_schema" not in formats(srv.chat_requests[len(first_run) :])  # remembered
    assert asked.count("/v1/models") == 1 and asked.count("/props") <= 1, asked
    assert first_run[0] == "json_schema" and set(first_run[1:]) == {"json_object_schema"}
    run = data["model"]
    assert run["dialect"] == "json_object_schema" and run["model"] == LOCAL_MODEL
    assert run["requested"] == LOCAL_MODEL and run["offline_blurbs"] == 0 and run["blurbs"] == 8
    assert run["cost_known"] is False and data["usage"]["cost_usd"] == 0
    assert data["engine"] == f"llm:{LOCAL_MODEL}" and data["degraded"] == []
    # raw newlines inside the answer's strings were read, not re-asked
    assert all(p["engine"] == "llm" for t in data["themes"] for p in t["papers"])
    assert stdout.splitlines()[0] == f"language model {LOCAL_MODEL}"
    assert "json_object_schema dialect" in stdout and HOSTED not in stdout
    assert "no cost estimate" in stdout and "about $" not in stdout
    assert f"Written by the language model {LOCAL_MODEL}." in text
    assert "no cost estimate" in text and "[offline]" not in text and HOSTED not in text
    assert later["model"]["dialect"] == "json_object_schema"


def test_a_server_that_answers_as_another_model_is_named_as_it_answers(tmp_path: Path) -> None:
    """The server lists one name and answers under another: the labels name the model that
    answered, and the first line says both."""
    handler = SmallLocalModel(rejects_json_schema=False)
    with FakeOpenAIServer(
        handler=handler, models=("local",), answer_model="qwen2.5-0.5b-instruct"
    ) as srv:
        stdout, data, text = daily(srv, tmp_path)
    assert (data["model"]["model"], data["model"]["requested"]) == (
        "qwen2.5-0.5b-instruct",
        "local",
    )
    assert stdout.splitlines()[0] == "language model local (it answers as qwen2.5-0.5b-instruct)"
    assert "Written by the language model qwen2.5-0.5b-instruct." in text and HOSTED not in text


@pytest.mark.slow  # the default tier keeps a junk answer re-asked and fixed; CI's slow tier runs this too
def test_stubborn_junk_is_reasked_then_written_offline_marked_and_never_cached(
    tmp_path: Path,
) -> None:
    with local_server(junk=frozenset({"title"}), stubborn=True) as srv:
        stdout, data, text = daily(srv, tmp_path)
        requests = srv.chat_requests
        srv.handler = SmallLocalModel()  # the model behaves now: a re-run of the same day
        _, again, _ = daily(srv, tmp_path)
        asked_again = srv.chat_requests[len(requests) :]
    reasks = [r for r in requests if "did not pass validation" in r.prompt_text]
    assert reasks, "junk answers are re-asked"
    assert (
        "only repeats its title: say what the paper did and found"
        in reasks[0].messages[-1]["content"]
    )
    offline = [p for t in data["themes"] for p in t["papers"] if p["engine"] == "offline"]
    run = data["model"]
    assert offline and run["offline_blurbs"] == len(offline) < run["blurbs"] == 8
    label = f"llm:{LOCAL_MODEL}, {len(offline)} of 8 blurbs by the offline engine"
    assert data["engine"] == label and label in stdout
    assert any(n["step"] == "blurbs" for n in data["degraded"])
    # the email: a marker on each offline paper, a grammatical banner, no parser internals
    assert text.count("[offline]") == len(offline)
    flat = " ".join(text.split())
    assert (
        f"offline engine wrote {len(offline)} of the 8 paper summaries (marked “offline”)" in flat
    )
    assert "re-ask" not in flat and "validation" not in flat
    # the notes of what fell back name the model as the labels do, never the path it is served
    # from (the model asked, and named in the errors behind them, is that path)
    assert {r.body["model"] for r in requests} == {GGUF_PATH}
    assert any(LOCAL_MODEL in n["reason"] for n in data["degraded"])
    assert GGUF_PATH not in json.dumps(data) + stdout + text
    # the re-run: valid answers (grouping, headline) come from the cache, the junk ones are
    # never served again: they are asked anew, and now the model wrote every blurb
    assert asked_again and all("blurbs" in json.dumps(r.body) for r in asked_again)
    assert again["model"]["offline_blurbs"] == 0 and again["usage"]["cache_hits"] >= 2


@pytest.mark.parametrize(
    ("junk", "error"),
    [
        (
            {"instructions", "id_title", "bare_headline", "brackets"},
            (
                "repeats the instructions",
                "is an id: name what the theme",
                "says nothing",
                "has no words in it",
            ),
        ),
        pytest.param(  # one kind of junk a call in the default tier; the rest in the slow one
            {"empty_blurbs"},
            ("blurbs is empty: write one blurb for each id",),
            marks=pytest.mark.slow,
        ),
        pytest.param(
            {"paper_title_theme"}, ("name what the papers share",), marks=pytest.mark.slow
        ),
    ],
    ids=["instructions+id_title+bare_headline+brackets", "empty_blurbs", "paper_title_theme"],
)
def test_each_kind_of_junk_is_caught_and_the_reask_fixes_it(
    tmp_path: Path, junk: set[str], error: tuple[str, ...]
) -> None:
    with local_server(junk=frozenset(junk)) as srv:
        _, data, _ = daily(srv, tmp_path)
        reasks = [
            r.messages[-1]["content"]
            for r in srv.chat_requests
            if "did not pass validation" in r.prompt_text
        ]
    for needle in error:
        assert any(needle in text for text in reasks), (needle, reasks)
    assert data["model"]["offline_blurbs"] == 0  # the re-ask got a proper answer
    assert all(p["engine"] == "llm" for t in data["themes"] for p in t["papers"])
    assert data["headline"] != "Today at a glance"
    assert all(t["title"] != "P1" for t in data["themes"])
    for theme in data["themes"]:  # no theme of several papers is titled as one of them
        assert len(theme["papers"]) < 2 or theme["title"] not in {
            p["title"] for p in theme["papers"]
        }


def test_query_expansion_in_another_language_is_reasked(tmp_path: Path) -> None:
    with local_server(junk=frozenset({"foreign_queries"})) as srv:
        result = digest(
            srv,
            tmp_path / "home",
            "topic",
            "sparse attention",
            "--source",
            "sample",
            "--engine",
            "llm",
            "--format",
            "json",
            "--max-papers",
            "5",
        )
        requests = srv.chat_requests
    assert result.returncode == 0, result.stderr
    expansion = [
        r
        for r in requests
        if r.outcome == "reply" and "queries" in json.dumps(r.body.get("response_format"))
    ]
    assert len(expansion) == 2  # the junk answer, then the re-ask that carries the error
    assert "is not in the topic's language" in expansion[1].messages[-1]["content"]
