"""Answers as local servers (and the proxies in front of them) really send them.

Every test drives the real adapter (`OpenAIChatModel`, the openai SDK, HTTP) or the whole
engine against the loopback fake server, scripted to answer as a real server does: an HTML page
or an SSE stream with HTTP 200, an error object with HTTP 200, a reasoning model's thinking
(in ``<think>`` tags, in ``reasoning_content``, eating the output limit), content as a list of
parts, and a prompt the server silently cut to its context length (Ollama).
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from agent.config import LLMSettings, Settings
from agent.models import Paper
from agent.render.view import note_sentence
from agent.summarize.llm.asking import lenient_json
from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest
from agent.summarize.llm.engine import LLMEngine
from agent.summarize.llm.errors import ModelUnavailable
from agent.summarize.llm.models.openai_chat import OpenAIChatModel
from agent.summarize.llm.models.transport import Transport
from agent.summarize.llm.run.budget import Budget, Limits
from agent.summarize.llm.run.meter import UsageMeter
from tests.fakes.chat_calls import local_settings
from tests.fakes.openai_server import FakeOpenAIServer, Fault, RecordedRequest, Reply
from tests.fakes.openai_server import request_schema as schema_of
from tests.llm_answers import answer_from_schema, assert_complete, sample_papers
from tests.processes import clean_env, digest_process

pytestmark = pytest.mark.timeout(90)

KEY = "sk-local-answers-0123456789"
PAPERS = sample_papers(12)
HTML = "<!doctype html><html><head><title>Open WebUI</title></head><body>sign in</body></html>"


class Ids(BaseModel):
    ids: list[str]


def llm_settings(srv: FakeOpenAIServer, **over: Any) -> LLMSettings:
    return local_settings(
        srv.base_url, **{"api_key": SecretStr(KEY), "dialect": "json_schema", **over}
    )


def ask(srv: FakeOpenAIServer, text: str = "Which ids? P1", **over: Any) -> ChatAnswer:
    """One request through the adapter; its error raised."""
    llm = llm_settings(srv, **over)

    async def no_sleep(_: float) -> None:
        return None

    transport = Transport(llm, budget=Budget(Limits(seconds=60)), sleep=no_sleep)
    model = OpenAIChatModel(llm, transport=transport, meter=UsageMeter({}, None))
    request = ChatRequest("grouping", ({"role": "user", "content": text},), Ids, "ids", 256, "v1")

    async def go() -> ChatAnswer:
        try:
            return await model.complete(request)
        finally:
            await model.aclose()

    return asyncio.run(go())


def valid(body: dict[str, Any]) -> Any:
    schema, _ = schema_of(body)
    assert schema is not None
    return answer_from_schema(schema, prompt=RecordedRequest.text_of(body))


def summarize(srv: FakeOpenAIServer, home: Path, papers: list[Paper] = PAPERS, **over: Any):
    engine = LLMEngine(Settings(home=home, llm=llm_settings(srv, **over)).llm, None)
    return asyncio.run(engine.summarize(papers))


def notes_of(summary: Any) -> str:
    return " ".join(f"{n.step}: {n.reason}" for n in summary.degraded)


# -- 1. HTTP 200 that is not a chat completion ------------------------------------------------


def test_an_html_page_with_http_200_is_one_clear_key_free_error_not_retried() -> None:
    page = HTML.replace("sign in", f"sign in (key {KEY} rejected)")
    with FakeOpenAIServer(handler=lambda body: Fault.page(page)) as srv:
        with pytest.raises(ModelUnavailable) as caught:
            ask(srv)
        calls = len(srv.chat_requests)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300
    assert "HTTP 200" in message and "not a chat completion" in message
    assert "text/html" in message and "<!doctype html>" in message
    assert KEY not in message
    assert calls == 1  # the same page would come back


def test_an_sse_stream_sent_although_stream_was_false_is_read_by_joining_its_deltas() -> None:
    with FakeOpenAIServer(handler=lambda body: Fault.sse({"ids": ["P1", "P2"]})) as srv:
        answer = ask(srv)
    assert json.loads(answer.text) == {"ids": ["P1", "P2"]}
    assert answer.finish_reason == "stop" and answer.model == "fake-model"


def test_an_sse_stream_without_a_single_delta_is_an_error_not_an_answer() -> None:
    with (
        FakeOpenAIServer(
            handler=lambda body: Fault.page("data: [DONE]\n\n", "text/event-stream")
        ) as srv,
        pytest.raises(ModelUnavailable, match="HTTP 200: not a chat completion"),
    ):
        ask(srv)


def test_json_that_is_not_a_completion_is_an_error_not_an_empty_answer() -> None:
    not_one = r"not a chat completion \(application/json\)"
    with (
        FakeOpenAIServer(handler=lambda body: Fault.http(200, {"status": "ok"})) as srv,
        pytest.raises(ModelUnavailable, match=not_one),
    ):
        ask(srv)


# -- 2. HTTP 200 carrying an error object -----------------------------------------------------


def test_an_error_object_with_http_200_says_the_servers_message_and_is_retried_as_a_503() -> None:
    error = {"error": {"message": "Upstream error: worker request limit reached", "code": 503}}
    with FakeOpenAIServer() as srv:
        srv.queue(Fault.http(200, error), Fault.http(200, error))
        with pytest.raises(ModelUnavailable) as caught:
            ask(srv, max_attempts=2)
        calls = len(srv.chat_requests)
    assert "worker request limit reached" in str(caught.value)
    assert calls == 2  # retried as a 503 would be


def test_an_error_object_with_http_200_then_an_answer_is_the_answer() -> None:
    error = {"error": {"message": "rate limited upstream", "code": "429"}}
    with FakeOpenAIServer() as srv:
        srv.queue(Fault.http(200, error), Reply({"ids": ["P1"]}))
        answer = ask(srv, max_attempts=2)
    assert json.loads(answer.text) == {"ids": ["P1"]}


def test_an_error_object_without_a_retryable_code_is_not_retried() -> None:
    error = {"error": {"message": "model 'llama3' is not loaded", "type": "invalid_request_error"}}
    with FakeOpenAIServer(handler=lambda body: Fault.http(200, error)) as srv:
        with pytest.raises(ModelUnavailable, match="model 'llama3' is not loaded") as caught:
            ask(srv, max_attempts=3)
        calls = len(srv.chat_requests)
    assert calls == 1 and "HTTP 200" in str(caught.value)


# -- 3. reasoning models ----------------------------------------------------------------------

THINK = (
    "<think>\nThe user wants one JSON object, something like {themes: [...]} with every "
    'paper id once. Draft: {"ids": ["P9"]} - no, P9 is not in the list.\n</think>\n\n'
)


def test_the_json_after_a_think_block_is_read_never_a_draft_inside_it() -> None:
    assert lenient_json.parse(THINK + '{"ids": ["P1"]}') == {"ids": ["P1"]}
    # the chat template opened the block in the prompt: only its end is in the answer
    opened = THINK.removeprefix("<think>\n")
    assert lenient_json.parse(opened + '```json\n{"ids": ["P2"]}\n```') == {"ids": ["P2"]}


def test_an_unclosed_think_block_is_no_answer_yet() -> None:
    with pytest.raises(lenient_json.NotJson, match="thinking"):
        lenient_json.parse('<think>\nLet me see. {"ids": ["P9"]} could work, but')


def test_a_closing_think_tag_inside_the_json_answer_is_left_alone() -> None:
    answer = '{"ids": ["P1"], "note": "ends with </think> {\\"ids\\": []}"}'
    assert lenient_json.parse(answer)["ids"] == ["P1"]


def test_think_blocks_before_every_answer_cost_no_section(tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=lambda body: Reply(THINK + json.dumps(valid(body)))) as srv:
        summary = summarize(srv, tmp_path)
    assert_complete(summary, PAPERS)
    assert summary.degraded == (), notes_of(summary)


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_an_answer_the_server_put_in_the_reasoning_field_is_read(field: str) -> None:
    """vLLM with a reasoning parser (vllm#17349): content null, the JSON in the reasoning."""
    reply = Reply(None, reasoning='{"ids": ["P1"]}', reasoning_field=field)
    with FakeOpenAIServer() as srv:
        srv.queue(reply)
        answer = ask(srv)
    assert json.loads(answer.text) == {"ids": ["P1"]}


def test_thinking_that_eats_the_output_limit_says_so_and_what_to_do(tmp_path: Path) -> None:
    def handler(body: dict[str, Any]) -> Reply:
        limit = int(body.get("max_tokens") or 0)
        usage = {"prompt_tokens": 500, "completion_tokens": limit}
        return Reply("", finish_reason="length", reasoning="Okay, let me think. " * 50, usage=usage)

    with FakeOpenAIServer(handler=handler) as srv:
        summary = summarize(srv, tmp_path)
    assert_complete(summary, PAPERS)
    grouping = next(n for n in summary.degraded if n.step == "grouping")
    assert "thinking" in grouping.reason and "llm.max_output_tokens" in grouping.reason


# -- 4. content as a list of parts ------------------------------------------------------------


def test_content_as_a_list_of_parts_is_its_text_parts_joined_without_the_reasoning() -> None:
    reply = Reply({"ids": ["P1"]}, parts=True, reasoning='Maybe {"ids": ["P9"]}?')
    with FakeOpenAIServer() as srv:
        srv.queue(reply)
        answer = ask(srv)
    assert json.loads(answer.text) == {"ids": ["P1"]}


def test_content_as_parts_costs_no_section(tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=lambda body: Reply(valid(body), parts=True)) as srv:
        summary = summarize(srv, tmp_path)
    assert_complete(summary, PAPERS)
    assert summary.degraded == (), notes_of(summary)


# -- 5. a prompt the server cut to its context length (Ollama's num_ctx) ----------------------

MANY = sample_papers(80)  # a grouping prompt of some 2,800 tokens
ROOMY = {"input_budget_tokens": 6_000, "context_window": 8_192}  # what the user believes


def test_a_prompt_the_server_cut_is_noted_once_with_the_fix(tmp_path: Path, caplog: Any) -> None:
    def handler(body: dict[str, Any]) -> Reply:
        # Ollama keeps the last num_ctx tokens of a longer prompt and says so in its own log
        # only; usage.prompt_tokens is what it read.
        return Reply(valid(body), usage={"prompt_tokens": 600, "completion_tokens": 100})

    caplog.set_level(logging.WARNING)
    with FakeOpenAIServer(handler=handler) as srv:
        summary = summarize(srv, tmp_path, papers=MANY, **ROOMY)
    cut = [n for n in summary.degraded if n.step == "server"]
    assert len(cut) == 1, notes_of(summary)
    assert "read only 600 of" in cut[0].reason and "OLLAMA_CONTEXT_LENGTH" in cut[0].reason
    assert "llm.context_window" in cut[0].reason
    assert note_sentence(cut[0]) == cut[0].reason  # the email says it as it is written
    warned = [r.getMessage() for r in caplog.records if "read only" in r.getMessage()]
    assert len(warned) == 1


def test_a_server_that_read_the_whole_prompt_gets_no_note(tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=lambda body: Reply(valid(body))) as srv:
        summary = summarize(srv, tmp_path, papers=MANY, **ROOMY)
    assert not [n for n in summary.degraded if n.step == "server"], notes_of(summary)


# -- the fallback chain's safety net ----------------------------------------------------------


class Broken(ChatModel):
    """A model whose adapter has a bug: it raises what no model error is."""

    name = "broken-model"

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        raise AttributeError("'str' object has no attribute 'choices'")


def test_an_unexpected_error_in_a_model_degrades_its_sections_never_the_run(
    tmp_path: Path, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING)
    llm = LLMSettings(model="broken-model", api_key=SecretStr(KEY))
    engine = LLMEngine(llm, None, models=[Broken()])
    summary = asyncio.run(engine.summarize(PAPERS))
    assert_complete(summary, PAPERS)
    assert all(t.engine == "offline" for t in summary.themes)
    grouping = next(n for n in summary.degraded if n.step == "grouping")
    assert "AttributeError" in grouping.reason and grouping.fallback == "offline engine"
    logged = [r for r in caplog.records if "AttributeError" in r.getMessage()]
    assert logged and all("\n" not in r.getMessage() for r in logged)


# -- end to end: `digest daily` and `digest doctor` against a wrong base URL -------------------


def cli(srv: FakeOpenAIServer, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(
        DIGEST_HOME=str(home),
        DIGEST_LLM__BASE_URL=srv.base_url,
        DIGEST_LLM__MAX_RETRY_WAIT_SECONDS="0",
        COLUMNS="200",
    )
    return digest_process(*args, cwd=home.parent, env=env)


@pytest.mark.parametrize(
    "page", [Fault.page(HTML), Fault.page("data: [DONE]\n\n", "text/event-stream")]
)
def test_daily_against_a_page_that_is_no_completion_writes_the_digest_offline(
    page: Fault, tmp_path: Path
) -> None:
    out, date = tmp_path / "out", "2026-11-26"
    with FakeOpenAIServer(handler=lambda body: page) as srv:
        result = cli(
            srv, tmp_path / "home", "daily", "--engine", "llm", "--source", "sample",
            "--max-papers", "8", "--date", date, "--out", str(out),
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads((out / date / "digest.json").read_text(encoding="utf-8"))
    reasons = " ".join(n["reason"] for n in data["degraded"])
    assert "HTTP 200: not a chat completion" in reasons
    assert all(b["engine"] == "offline" for t in data["themes"] for b in t["papers"])


def test_doctor_against_an_html_page_says_it_in_one_line(tmp_path: Path) -> None:
    with FakeOpenAIServer(models=("local-model",), handler=lambda body: Fault.page(HTML)) as srv:
        result = cli(srv, tmp_path / "home", "doctor")
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stdout.splitlines() if "not a chat completion" in line]
    assert len(lines) == 1, result.stdout
    assert "HTTP 200" in lines[0] and "text/html" in lines[0]
