"""`[llm] thinking`: "auto" sends nothing new; "off" asks a reasoning model's server not to
think, and a field the server refuses (an HTTP 400 naming it) is dropped for the run, said once.

Against the fake OpenAI-compatible server: the request bodies, the refusals real servers send
(OpenAI's "Unrecognized request argument", vLLM's validation error), the settings check, the
message of an answer spent thinking, `digest doctor` and `digest init --model local`.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from agent.config import LLMSettings, load_settings
from agent.doctor.model import check_model
from agent.summarize.llm.chat import ChatAnswer, ChatRequest
from agent.summarize.llm.errors import ModelUnavailable, Rejected
from agent.summarize.llm.models.openai_chat import OpenAIChatModel
from agent.summarize.llm.models.thinking_off import OFF_FIELDS, ThinkingOff
from agent.summarize.llm.models.transport import Transport
from agent.summarize.llm.run.budget import Budget, Limits
from agent.summarize.llm.run.meter import UsageMeter
from tests.fakes.chat_calls import answers_or_errors, local_settings
from tests.fakes.openai_server import FakeOpenAIServer, Fault, Reply
from tests.processes import clean_env, digest_process, run_digest
from tests.test_doctor import said

THINKING_FIELDS = set(OFF_FIELDS)
OPENAI_REFUSAL = {
    "error": {
        "message": "Unrecognized request argument supplied: chat_template_kwargs",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
}
VLLM_REFUSAL = {
    "object": "error",
    "message": "1 validation error for ChatCompletionRequest\nreasoning_effort\n  Input should be "
    "'low', 'medium' or 'high' [type=literal_error, input_value='none', input_type=str]",
    "type": "BadRequestError",
    "param": None,
    "code": 400,
}


class Ids(BaseModel):
    ids: list[str]


def settings(srv: FakeOpenAIServer, **over: Any) -> LLMSettings:
    return local_settings(srv.base_url, **{"model": "qwen3-8b", **over})


def asked(srv: FakeOpenAIServer, times: int = 1, **over: Any) -> list[ChatAnswer | Exception]:
    """`times` requests through one model, one after the other; each answer or error."""
    llm = settings(srv, **over)
    transport = Transport(llm, budget=Budget(Limits(seconds=60)))
    model = OpenAIChatModel(llm, transport=transport, meter=UsageMeter({}, None))
    request = ChatRequest(
        "grouping", ({"role": "user", "content": "Which ids? P1"},), Ids, "ids", 256, "v1"
    )
    return answers_or_errors(model, [request] * times)


def sent(srv: FakeOpenAIServer) -> list[set[str]]:
    """The thinking fields each chat request carried."""
    return [THINKING_FIELDS & set(r.body) for r in srv.chat_requests]


def refusing(refusal: dict[str, Any], field: str) -> Any:
    """A server that answers 400 `refusal` to any request carrying `field`."""

    def handle(body: dict[str, Any]) -> Any:
        return Fault.http(400, refusal) if field in body else Reply({"ids": ["P1"]})

    return handle


@pytest.mark.parametrize("dialect", ["auto", "json_schema", "json_object_schema", "tools"])
def test_the_request_asks_not_to_think_only_when_thinking_is_off(dialect: str) -> None:
    with FakeOpenAIServer(handler=lambda _: Reply({"ids": ["P1"]})) as srv:
        asked(srv, dialect=dialect)
        asked(srv, dialect=dialect, thinking="off")
        auto, off = (r.body for r in srv.chat_requests)
    assert THINKING_FIELDS.isdisjoint(auto)
    assert off["chat_template_kwargs"] == {"enable_thinking": False}
    assert off["reasoning_effort"] == "none"


def test_the_openai_api_is_sent_only_the_field_it_knows() -> None:
    hosted = ThinkingOff("off", endpoint="api.openai.com", model="gpt-5.1", hosted=True)
    local = ThinkingOff("off", endpoint="127.0.0.1:8080", model="qwen3", hosted=False)
    auto = ThinkingOff("auto", endpoint="127.0.0.1:8080", model="qwen3", hosted=False)
    assert hosted.fields() == {"reasoning_effort": "none"}
    assert set(local.fields()) == THINKING_FIELDS and auto.fields() == {}


@pytest.mark.parametrize(
    ("refusal", "field"),
    [(OPENAI_REFUSAL, "chat_template_kwargs"), (VLLM_REFUSAL, "reasoning_effort")],
    ids=["OpenAI: unrecognized argument", "vLLM: validation error"],
)
def test_a_field_the_server_refuses_is_dropped_for_the_run_and_said_once(
    refusal: dict[str, Any], field: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with FakeOpenAIServer(handler=refusing(refusal, field)) as srv:
        answers = asked(srv, times=3, thinking="off", dialect="json_schema")
        fields = sent(srv)
    assert all(isinstance(a, ChatAnswer) for a in answers), answers
    other = (THINKING_FIELDS - {field}).pop()
    # refused once, asked again at once without it; the later calls never carry it
    assert fields == [THINKING_FIELDS, {other}, {other}, {other}]
    lines = [r.getMessage() for r in caplog.records if field in r.getMessage()]
    assert len(lines) == 1 and "llm.thinking" in lines[0], lines


def test_a_refused_field_is_no_dialect_rejection() -> None:
    with FakeOpenAIServer(handler=refusing(OPENAI_REFUSAL, "chat_template_kwargs")) as srv:
        [answer] = asked(srv, thinking="off", dialect="auto")
        formats = [(r.body.get("response_format") or {}).get("type") for r in srv.chat_requests]
    assert isinstance(answer, ChatAnswer) and answer.dialect == "json_schema"
    assert formats == ["json_schema", "json_schema"]  # the first dialect, asked again


def test_a_server_that_refuses_every_field_is_asked_with_none() -> None:
    def handle(body: dict[str, Any]) -> Any:
        named = next((f for f in sorted(THINKING_FIELDS) if f in body), None)
        if named is None:
            return Reply({"ids": ["P1"]})
        return Fault.http(400, {"error": {"message": f"Unrecognized argument: {named}"}})

    with FakeOpenAIServer(handler=handle) as srv:
        [answer] = asked(srv, thinking="off", dialect="json_schema")
        fields = sent(srv)
    assert isinstance(answer, ChatAnswer)
    assert fields == [THINKING_FIELDS, {"reasoning_effort"}, set()]


def test_a_400_that_names_no_thinking_field_is_still_a_plain_failure() -> None:
    refusal = {"error": {"message": "messages: too many", "type": "invalid_request_error"}}
    with FakeOpenAIServer(handler=lambda _: Fault.http(400, refusal)) as srv:
        [error] = asked(srv, thinking="off", dialect="json_schema")
        fields = sent(srv)
    assert isinstance(error, ModelUnavailable) and not isinstance(error, Rejected)
    assert error.status_code == 400 and "too many" in str(error)
    assert fields == [THINKING_FIELDS]  # one request: not retried, nothing dropped


def thinking_only(body: dict[str, Any]) -> Reply:
    """A reasoning model that spends the whole output limit thinking."""
    usage = {"prompt_tokens": 50, "completion_tokens": int(body.get("max_tokens") or 0)}
    return Reply("", finish_reason="length", reasoning="Hmm, let me think. " * 40, usage=usage)


@pytest.mark.parametrize("thinking", ["auto", "off"])
def test_an_answer_spent_thinking_says_what_to_set(thinking: str) -> None:
    with FakeOpenAIServer(handler=thinking_only) as srv:
        [answer] = asked(srv, thinking=thinking, dialect="json_schema")
    assert isinstance(answer, ChatAnswer) and answer.text == ""
    why = answer.why_empty or ""
    if thinking == "auto":
        assert 'set llm.thinking = "off"' in why
    else:  # asked not to think, it thought anyway: the setting is no news
        assert "although llm.thinking" in why and "set llm.thinking" not in why


def test_doctor_says_to_turn_thinking_off_for_a_model_that_only_thinks(tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=thinking_only) as srv:
        llm = {"model": "qwen3-8b", "base_url": srv.base_url, "timeout_seconds": 2}
        [check] = said(check_model(load_settings(None, home=tmp_path / "home", llm=llm)))
    assert check.status == "failed", check
    assert 'llm.thinking = "off"' in (check.fix or ""), check


def test_doctor_names_thinking_off_on_the_model_line(tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=lambda _: Reply({"status": "ok", "word": "hi"})) as srv:
        llm = {"base_url": srv.base_url, "timeout_seconds": 2, "thinking": "off"}
        [check] = said(check_model(load_settings(None, home=tmp_path / "home", llm=llm)))
        [body] = [r.body for r in srv.chat_requests]
    assert check.status == "ok" and "thinking off" in check.detail, check
    assert THINKING_FIELDS <= set(body)


def test_another_value_is_a_one_line_config_error(tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    config.write_text('[llm]\nthinking = "none"\n', encoding="utf-8")
    result = run_digest("daily", "--config", str(config), home=tmp_path / "home", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: bad config in {config}: line 2: llm.thinking: Input should be 'auto' or 'off'"
    ]


def test_init_for_a_local_model_shows_the_setting(tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=lambda _: Reply({"status": "ok", "word": "hi"})) as srv:
        env = clean_env(DIGEST_HOME=str(tmp_path / "home"), COLUMNS="200")
        init = digest_process(
            "init", "--model", "local", "--base-url", srv.base_url, "--category", "cs.CL",
            "--no-hf-daily", "--no-email", cwd=tmp_path, env=env,
        )  # fmt: skip
    assert init.returncode == 0, init.stdout + init.stderr
    text = (tmp_path / "digest.toml").read_text(encoding="utf-8")
    assert '# thinking = "off"' in text
    uncommented = text.replace('# thinking = "off"', 'thinking = "off"')
    assert tomllib.loads(uncommented)["llm"]["thinking"] == "off"  # valid where it stands
