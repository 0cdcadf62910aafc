"""Answers as local servers (and the proxies in front of them) really send them.

Every test drives the real adapter (`OpenAIChatModel`, the openai SDK, HTTP) or the whole
engine against the loopback fake server, scripted to answer as a real server does: an HTML page
or an SSE stream with HTTP 200, and an error object with HTTP 200.
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
from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest
from agent.summarize.llm.engine import LLMEngine
from agent.summarize.llm.errors import ModelUnavailable
from agent.summarize.llm.models.openai_chat import OpenAIChatModel
from agent.summarize.llm.models.transport import Transport
from agent.summarize.llm.run.budget import Budget, Limits
from agent.summarize.llm.run.meter import UsageMeter
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
    values: dict[str, Any] = {
        "model": "local-model",
        "base_url": srv.base_url,
        "api_key": SecretStr(KEY),
        "max_attempts": 2,
        "max_retry_wait_seconds": 0.0,
        "timeout_seconds": 5.0,
        "local_defaults": False,
        "dialect": "json_schema",
    }
    return LLMSettings(**{**values, **over})


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
