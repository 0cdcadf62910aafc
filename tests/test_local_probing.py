"""What local servers answer besides a chat completion, and what the model path makes of it.

Each case is what a real server sends (llama.cpp, vLLM, Ollama, LM Studio), played by the
loopback fake server: a request over the server's context window, a 404 for an unknown model
or a base URL without /v1, 503 "Loading model" while llama.cpp reads its model from disk, and
embedding models listed next to (or instead of) chat models. None of them is a structured-output
dialect the server rejects, and none may cost more than the one step it hit.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from agent.config import LLMSettings, Settings
from agent.doctor.checks import Check
from agent.doctor.model import check_model
from agent.errors import ConfigError
from agent.summarize.llm.chat import ChatRequest
from agent.summarize.llm.engine import LLMEngine
from agent.summarize.llm.errors import ModelUnavailable
from agent.summarize.llm.models.local import probe_local
from agent.summarize.llm.models.openai_chat import OpenAIChatModel
from agent.summarize.llm.models.transport import Transport
from agent.summarize.llm.run.budget import Budget, Limits
from agent.summarize.llm.run.meter import UsageMeter
from tests.fakes.chat_calls import answers_or_errors, local_settings
from tests.fakes.openai_server import FakeOpenAIServer, Fault, RecordedRequest, Reply
from tests.llm_answers import assert_complete, sample_papers
from tests.llm_answers import handler as digest_handler

PAPERS = sample_papers(12)


class Ids(BaseModel):
    ids: list[str]


def request(text: str = "ids?") -> ChatRequest:
    return ChatRequest("grouping", ({"role": "user", "content": text},), Ids, "grouping", 256, "v1")


def llm_settings(srv: FakeOpenAIServer, **over: Any) -> LLMSettings:
    return local_settings(srv.base_url, **{"dialect": "auto", **over})


class Waits:
    """The transport's sleep: records each wait and returns at once."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def chat_model(srv: FakeOpenAIServer, waits: Waits | None = None, **over: Any) -> OpenAIChatModel:
    llm = llm_settings(srv, **over)
    transport = Transport(llm, budget=Budget(Limits(seconds=600)), sleep=waits or Waits())
    return OpenAIChatModel(llm, transport=transport, meter=UsageMeter({}, None))


def ask_all(model: OpenAIChatModel, requests: list[ChatRequest]) -> list[Any]:
    return answers_or_errors(model, requests, ModelUnavailable)


def answer(body: dict[str, Any]) -> Reply:
    """The small request's answer, in whichever dialect it came."""
    return Reply({"ids": ["P1"]}, tool_call=bool(body.get("tools")))


# -- a request over the server's context window --------------------------------------------------

OVER_CONTEXT = {
    "llama.cpp": (
        400,
        {
            "error": {
                "code": 400,
                "message": "the request exceeds the available context size. try increasing "
                "the context size or enable context shift",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": 9000,
                "n_ctx": 8192,
            }
        },
    ),
    "llama.cpp, older (500)": (
        500,
        {
            "error": {
                "code": 500,
                "message": "the request exceeds the available context size. try increasing "
                "the context size or enable context shift",
                "type": "exceed_context_size_error",
            }
        },
    ),
    "vLLM": (
        400,
        {
            "object": "error",
            "message": "This model's maximum context length is 8192 tokens. However, you "
            "requested 9216 tokens (8192 in the messages, 1024 in the completion). Please "
            "reduce the length of the messages or completion.",
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        },
    ),
}


def too_long_for(status: int, error: dict[str, Any]) -> Any:
    def handle(body: dict[str, Any]) -> Any:
        if len(RecordedRequest.text_of(body)) > 5_000:
            return Fault.http(status, error)
        return answer(body)

    return handle


@pytest.mark.parametrize("server", list(OVER_CONTEXT))
def test_a_request_over_the_context_window_fails_alone_and_is_no_dialect_rejection(
    server: str,
) -> None:
    with FakeOpenAIServer(handler=too_long_for(*OVER_CONTEXT[server])) as srv:
        big, small = ask_all(chat_model(srv), [request("papers " * 2_000), request()])
        sent = len(srv.chat_requests)
    assert isinstance(big, ModelUnavailable)
    assert "context window" in str(big) and "dialect" not in str(big), str(big)
    assert sent == 2, "the big request is sent once, in one dialect; the small one after it"
    assert not isinstance(small, Exception), f"the next, smaller request was never sent: {small}"


def test_an_over_context_500_is_not_retried_as_an_outage() -> None:
    status, error = OVER_CONTEXT["llama.cpp, older (500)"]
    with FakeOpenAIServer(handler=too_long_for(status, error)) as srv:
        model = chat_model(srv, dialect="json_schema", max_attempts=4)
        [big] = ask_all(model, [request("papers " * 2_000)])
        assert len(srv.chat_requests) == 1
    assert isinstance(big, ModelUnavailable) and "context window" in str(big)
    assert model.transport.breaker.failures == 0, "the server is up: no step toward the breaker"


def test_an_oversized_grouping_call_costs_the_grouping_only(tmp_path: Path) -> None:
    status, error = OVER_CONTEXT["llama.cpp"]
    write = digest_handler()

    def handle(body: dict[str, Any]) -> Any:
        if "new papers into at most" in RecordedRequest.text_of(body):
            return Fault.http(status, error)
        return write(body)

    with FakeOpenAIServer(handler=handle) as srv:
        llm = llm_settings(srv, dialect="auto")
        summary = asyncio.run(LLMEngine(llm, None, use_cache=False).summarize(PAPERS))
        blurb_calls = [r for r in srv.chat_requests if "new papers into" not in r.prompt_text]
    assert_complete(summary, PAPERS)
    assert blurb_calls, "after the grouping failed, no other call reached the model"
    # the server said its window: the digest notes which llm.context_window to set
    assert [n.step for n in summary.degraded] == ["grouping", "server"], summary.degraded
    assert "llm.context_window = 8192" in summary.degraded[1].reason
    assert all(t.engine == "llm" for t in summary.themes), summary.degraded


# -- 404: an unknown model, a base URL without /v1 ---------------------------------------------

NOT_FOUND = {
    "Ollama, model not pulled": {
        "error": {
            "message": 'model "llama3" not found, try pulling it first',
            "type": "api_error",
            "param": None,
            "code": None,
        }
    },
    "base URL without /v1": "404 page not found",
}


@pytest.mark.parametrize("case", list(NOT_FOUND))
def test_a_404_is_one_request_and_one_line_with_its_status(case: str) -> None:
    with FakeOpenAIServer(handler=lambda body: Fault.http(404, NOT_FOUND[case])) as srv:
        [failed] = ask_all(chat_model(srv), [request()])
        sent = len(srv.chat_requests)
    assert isinstance(failed, ModelUnavailable)
    assert failed.status_code == 404 and sent == 1
    assert "dialect" not in str(failed) and "\n" not in str(failed)
    assert "not found" in str(failed), str(failed)


def checks_of(settings: Settings) -> list[Check]:
    async def go() -> list[Check]:
        return [c async for c in check_model(settings)]

    return asyncio.run(go())


def test_doctor_says_to_pull_the_model_or_fix_the_base_url_on_a_404(tmp_path: Path) -> None:
    body = NOT_FOUND["Ollama, model not pulled"]
    with FakeOpenAIServer(models=("qwen2.5:7b",), handler=lambda b: Fault.http(404, body)) as srv:
        settings = Settings(home=tmp_path, llm=LLMSettings(model="llama3", base_url=srv.base_url))
        [check] = checks_of(settings)
    assert check.status == "failed" and "404" in check.detail
    fix = check.fix or ""
    assert "llm.model" in fix and "ollama pull llama3" in fix and "/v1" in fix, fix
    assert "qwen2.5:7b" in fix, "the models the server has are named"


# -- 503 "Loading model" ------------------------------------------------------------------------


def test_the_transport_waits_for_a_loading_model(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    waits = Waits()
    with FakeOpenAIServer(loading=6, handler=answer) as srv:
        model = chat_model(srv, waits, max_attempts=2, timeout_seconds=60.0)
        [first, second] = ask_all(model, [request(), request()])
        loading = [r for r in srv.requests if r.outcome == "loading"]
    assert not isinstance(first, Exception), first
    assert not isinstance(second, Exception), second
    assert len(loading) == 6 and len(waits.seconds) == 6
    assert model.transport.breaker.failures == 0
    said = [r.getMessage() for r in caplog.records if "loading" in r.getMessage().lower()]
    assert len(said) == 1, said


def test_a_model_that_never_loads_fails_at_the_timeout() -> None:
    waits = Waits()
    with FakeOpenAIServer(loading=10_000, handler=answer) as srv:
        [failed] = ask_all(chat_model(srv, waits, timeout_seconds=20.0), [request()])
    assert isinstance(failed, ModelUnavailable) and "loading" in str(failed).lower()
    assert "dialect" not in str(failed)
    assert sum(waits.seconds[:-1]) < 20.0 <= sum(waits.seconds) + 20.0


def test_a_loading_server_does_not_degrade_the_digest(tmp_path: Path) -> None:
    with FakeOpenAIServer(loading=3, handler=digest_handler()) as srv:
        llm = llm_settings(srv, max_attempts=2, dialect="json_schema")
        summary = asyncio.run(LLMEngine(llm, None, use_cache=False).summarize(PAPERS))
    assert_complete(summary, PAPERS)
    assert summary.degraded == (), summary.degraded


def test_the_local_probe_waits_for_a_loading_model(tmp_path: Path) -> None:
    fields = {"max_model_len": 16_384}
    with FakeOpenAIServer(models=("qwen2.5-7b",), model_fields=fields, loading=2) as srv:
        settings = Settings(home=tmp_path, llm=LLMSettings(base_url=srv.base_url))
        probed = asyncio.run(probe_local(settings)).llm
    assert probed.model == "qwen2.5-7b" and probed.context_window == 16_384


# -- embedding models in GET /v1/models ---------------------------------------------------------


def test_an_embedding_model_listed_first_is_not_the_one_asked(tmp_path: Path) -> None:
    listed = ("nomic-embed-text:latest", "bge-m3", "qwen2.5:7b-instruct", "llama3.2")
    with FakeOpenAIServer(models=listed) as srv:
        settings = Settings(home=tmp_path, llm=LLMSettings(base_url=srv.base_url))
        probed = asyncio.run(probe_local(settings))
    assert probed.llm.model == "qwen2.5:7b-instruct"


@pytest.mark.parametrize(
    "listed",
    [
        ("nomic-embed-text:latest",),
        ("text-embedding-nomic-embed-text-v1.5", "BAAI/bge-reranker-v2-m3", "intfloat/e5-large"),
    ],
)
def test_only_embedding_models_is_one_clear_error(tmp_path: Path, listed: tuple[str]) -> None:
    with FakeOpenAIServer(models=listed) as srv:
        settings = Settings(home=tmp_path, llm=LLMSettings(base_url=srv.base_url))
        with pytest.raises(ConfigError) as raised:
            asyncio.run(probe_local(settings))
        [check] = checks_of(settings)
    message = str(raised.value)
    assert "embedding" in message and listed[0] in message and "llm.model" in message
    assert "\n" not in message
    assert (
        check.status == "failed"
        and "embedding" in check.detail
        and "llm.model" in (check.fix or "")
    )


def test_a_configured_embedding_like_name_is_used_as_given(tmp_path: Path) -> None:
    """Only the choice among listed models skips embedding models; a configured name wins."""
    with FakeOpenAIServer(models=("nomic-embed-text:latest",), handler=answer) as srv:
        llm = LLMSettings(model="nomic-embed-text:latest", base_url=srv.base_url)
        probed = asyncio.run(probe_local(Settings(home=tmp_path, llm=llm)))
    assert probed.llm.model == "nomic-embed-text:latest"
