"""A server whose context window is smaller than `llm.context_window` says.

The fake server plays llama.cpp's server started with a small ``--ctx-size``: a chat request
whose prompt is longer (by its own count) answers 400 ``exceed_context_size_error``. A daily run
through the CLI, configured for a much larger window, must learn the server's window from the
refusal, cut the refused work into calls that fit, plan the rest of the run for it, and say
once how to set `llm.context_window`; with a window too small for any call, it falls back to
the offline engine cleanly, saying so in one line.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import openai
import pytest

from agent.summarize.llm.models.transport import context_limits
from agent.summarize.llm.run.window import MAX_SHRINKS, MIN_TOKENS, ContextWindow
from tests.fakes.openai_server import (
    Answer,
    FakeOpenAIServer,
    Fault,
    RecordedRequest,
    over_context_body,
    prompt_tokens,
)
from tests.fakes.small_local import SmallLocalModel
from tests.processes import clean_env, digest_process

DATE = "2026-11-26"
PAPERS = 30
CONFIGURED = 32_768  # what the user wrote in llm.context_window
BARE = {"error": {"message": "Context length exceeded.", "type": "invalid_request_error"}}


def writer() -> SmallLocalModel:
    return SmallLocalModel(rejects_json_schema=False, deterministic=True)


def daily(srv: FakeOpenAIServer, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], dict]:
    """`digest daily` of 30 sample papers, planned for a 32k window with room to use it."""
    out = tmp_path / "out"
    env = clean_env(
        DIGEST_HOME=str(tmp_path / "home"),
        DIGEST_LLM__BASE_URL=srv.base_url,
        DIGEST_LLM__TIMEOUT_SECONDS="10",
        DIGEST_LLM__MAX_RETRY_WAIT_SECONDS="0",
        DIGEST_LLM__CONTEXT_WINDOW=str(CONFIGURED),
        DIGEST_LLM__INPUT_BUDGET_TOKENS="30000",
        DIGEST_LLM__MAX_OUTPUT_TOKENS="4096",
        COLUMNS="200",
    )
    result = digest_process(
        "daily", "--engine", "llm", "--source", "sample", "--max-papers", str(PAPERS),
        "--date", DATE, "--out", str(out), "--no-send", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result, json.loads((out / DATE / "digest.json").read_text(encoding="utf-8"))


def window_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "llm.context_window" in line]


def outcomes(srv: FakeOpenAIServer) -> list[str]:
    return [r.outcome for r in srv.chat_requests]


@pytest.mark.parametrize("says_sizes", [True, False], ids=["llama.cpp body", "bare message"])
def test_a_smaller_server_window_is_learned_and_every_section_is_still_model_written(
    tmp_path: Path, says_sizes: bool
) -> None:
    limit = 2_048
    model = writer()

    def server(body: dict[str, Any]) -> Answer:
        if prompt_tokens(body) > limit:  # a server that names no sizes: only "too long"
            return Fault.http(400, BARE)
        return model(body)

    if says_sizes:
        srv = FakeOpenAIServer(handler=model, single_slot=True, context_limit=limit)
    else:
        srv = FakeOpenAIServer(handler=server, single_slot=True)
    with srv:
        result, data = daily(srv, tmp_path)
        done = outcomes(srv)
        longest = max(prompt_tokens(r.body) for r in srv.chat_requests if r.outcome == "reply")
    blurbs = [p for t in data["themes"] for p in t["papers"]]
    assert len(blurbs) == PAPERS and all(p["engine"] == "llm" for p in blurbs)
    assert all(t["engine"] == "llm" and t["title_engine"] == "llm" for t in data["themes"])
    assert data["engine"] == "llm:fake-model", data["engine"]  # no section by the offline engine
    assert longest <= limit
    refused = len(done) - done.count("reply")
    assert 1 <= refused <= 4 and len(done) <= 30, done  # a few refusals, then calls that fit
    notes = [n for n in data["degraded"] if n["step"] == "server"]
    assert len(notes) == 1 and [n["step"] for n in data["degraded"]] == ["server"], data
    said = window_lines(result.stderr)
    assert len(said) == 1, result.stderr  # said once, however many calls were refused
    if says_sizes:
        assert "context window is 2,048 tokens" in notes[0]["reason"]
        assert (
            "set llm.context_window = 2048" in notes[0]["reason"] and notes[0]["reason"] in said[0]
        )
    else:
        assert "set llm.context_window to the server's window" in notes[0]["reason"]


def test_a_window_too_small_for_any_call_falls_back_to_the_offline_engine_in_one_line(
    tmp_path: Path,
) -> None:
    with FakeOpenAIServer(handler=writer(), single_slot=True, context_limit=300) as srv:
        result, data = daily(srv, tmp_path)
        done = outcomes(srv)
    assert done == ["over_context"]  # the first refusal says the window; nothing more is sent
    blurbs = [p for t in data["themes"] for p in t["papers"]]
    assert len(blurbs) == PAPERS and all(p["engine"] == "offline" for p in blurbs)
    assert "all by the offline engine" in data["engine"]
    said = window_lines(result.stderr)
    assert len(said) == 1 and "too small" in said[0] and "300 tokens" in said[0], result.stderr
    server = [n["fallback"] for n in data["degraded"] if n["step"] == "server"]
    assert server == ["the offline engine"]


# -- what a refusal says ------------------------------------------------------------------------


def refusal(body: dict[str, Any]) -> openai.BadRequestError:
    with FakeOpenAIServer(handler=lambda _: Fault.http(400, body)) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="k", max_retries=0)
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    return caught.value


LLAMA_MESSAGE = (
    "request (9000 tokens) exceeds the available context size (4096 tokens), try increasing it"
)
VLLM_MESSAGE = (
    "This model's maximum context length is 4096 tokens. However, you requested 9000 tokens "
    "(8000 in the messages, 1000 in the completion). Please reduce the length of the messages "
    "or completion."
)
OPENAI_MESSAGE = (
    "This model's maximum context length is 128000 tokens. However, your messages resulted in "
    "130001 tokens. Please reduce the length of the messages."
)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (over_context_body(9000, 4096), (4096, 9000)),
        ({"error": {"message": LLAMA_MESSAGE, "type": "exceed_context_size_error"}}, (4096, 9000)),
        ({"object": "error", "message": VLLM_MESSAGE, "code": 400}, (4096, 9000)),
        (
            {"error": {"message": OPENAI_MESSAGE, "code": "context_length_exceeded"}},
            (128000, 130001),
        ),
        (BARE, (None, None)),
    ],
    ids=["llama.cpp fields", "llama.cpp message", "vLLM", "OpenAI", "no sizes"],
)
def test_the_window_and_the_request_size_are_read_from_the_servers_refusal(
    body: dict[str, Any], said: tuple[int | None, int | None]
) -> None:
    assert context_limits(refusal(body)) == said


# -- how the window shrinks ---------------------------------------------------------------------


def test_a_said_window_is_taken_in_this_sides_tokens_when_the_server_counts_more() -> None:
    window = ContextWindow(CONFIGURED)
    # the server counted 9000 prompt tokens where this side estimated 6000: its 4096 are ~2730
    assert window.learn(7_000, input_tokens=6_000, window=4_096, requested=9_000)
    assert (window.tokens, window.reported, window.shrinks) == (4_096 * 6_000 // 9_000, 4_096, 0)
    assert window.smaller and window.planned == window.tokens


def test_a_request_planned_before_the_window_shrank_is_planned_again_without_a_guess() -> None:
    window = ContextWindow(CONFIGURED)
    assert window.learn(9_000, input_tokens=8_000, window=4_096)
    assert window.learn(9_500, input_tokens=8_500)  # in flight before: no halving for it
    assert (window.tokens, window.shrinks) == (4_096, 0)


def test_a_window_the_server_does_not_say_is_halved_a_few_times_at_most() -> None:
    window = ContextWindow(CONFIGURED)
    sent = 12_000
    for _ in range(MAX_SHRINKS):
        assert window.learn(sent, input_tokens=sent - 1_000)
        assert window.tokens == sent // 2 and window.reported is None
        sent = window.tokens
    assert not window.learn(sent, input_tokens=sent - 1_000)  # no more guesses: fall back
    assert window.exhausted and not window.learn(10, input_tokens=5, window=8)
    # the guesses are let go: later calls are planned as configured, and fall back alone
    assert window.tokens == CONFIGURED and not window.learned and window.note() is None


def test_guesses_after_a_said_window_fall_back_to_the_said_window() -> None:
    window = ContextWindow(CONFIGURED)
    assert window.learn(9_000, input_tokens=8_000, window=8_192, requested=9_000)
    said = window.tokens
    while window.learn(2_000, input_tokens=1_000):  # refused even so: guesses, then none
        assert window.tokens < said
    assert window.exhausted and window.tokens == said and window.reported == 8_192
    note = window.note()
    assert note is not None and "set llm.context_window = 8192" in note.reason


def test_a_server_that_counts_far_more_tokens_is_believed_only_twice_as_many() -> None:
    window = ContextWindow(CONFIGURED)
    assert window.learn(1_000, input_tokens=600, window=8_192, requested=9_000)
    assert window.tokens == 8_192 * 4_500 // 9_000  # not 8_192 * 600 // 9_000: under 1,024


def test_a_window_under_the_smallest_call_gives_up_and_plans_as_configured() -> None:
    window = ContextWindow(CONFIGURED)
    assert not window.learn(5_000, input_tokens=4_000, window=MIN_TOKENS - 1)
    assert window.exhausted and window.learned and not window.smaller
    assert window.planned == CONFIGURED  # the steps fall back; no call is cut to nothing
    note = window.note()
    assert note is not None and "too small" in note.reason


def test_a_window_nobody_refused_adds_no_note() -> None:
    assert ContextWindow(CONFIGURED).note() is None


def test_the_fake_server_counts_the_prompt_as_it_says() -> None:
    body = {"messages": [{"role": "user", "content": "x" * 400}]}
    assert prompt_tokens(body) == 100 == len(RecordedRequest.text_of(body)) // 4
