"""The LLM transport through the real openai SDK, over HTTP, against the fake server.

Backoff waits go to an injected sleep that only records them (and moves a fake clock), so no
test waits for a retry; only the timeout tests spend real time (a few tenths of a second).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, SecretStr

from agent.config import LLMSettings, load_settings
from agent.errors import ConfigError, ModelError
from agent.summarize.llm.asking.ask import Asker
from agent.summarize.llm.asking.prompts import PromptSet
from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest
from agent.summarize.llm.errors import (
    AnswerTruncated,
    CostCapReached,
    ModelRefused,
    ModelUnavailable,
)
from agent.summarize.llm.factory import Shared, build_chat_models
from agent.summarize.llm.models.langchain_chat import LangChainChatModel
from agent.summarize.llm.models.openai_chat import LOCAL_SERVER_KEY, OpenAIChatModel
from agent.summarize.llm.models.transport import (
    Transport,
    describe_transport_error,
    retry_after_seconds,
)
from agent.summarize.llm.run.budget import Budget, Limits
from agent.summarize.llm.run.cache import CachedChatModel
from agent.summarize.llm.run.meter import UsageMeter
from tests.fakes.openai_server import FakeOpenAIServer, Fault, Reply

KEY = "sk-test-SECRET-0123456789abcdefXYZ"
GOOD = {"themes": [{"title": "Vision", "paper_ids": ["P1", "P2"]}]}


class Theme(BaseModel):
    title: str = Field(min_length=1, max_length=80)
    paper_ids: list[Literal["P1", "P2"]] = Field(min_length=1)


class Grouping(BaseModel):
    themes: list[Theme] = Field(max_length=5)


def request(
    prompt_version: str = "v1", user: str = "Group P1 and P2.", max_out: int = 300
) -> ChatRequest:
    return ChatRequest(
        step="grouping",
        messages=(
            {"role": "system", "content": "You group papers."},
            {"role": "user", "content": user},
        ),
        schema=Grouping,
        schema_name="grouping",
        max_output_tokens=max_out,
        prompt_version=prompt_version,
    )


class FakeTime:
    """A clock that only moves when the injected sleep is asked to wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def ft() -> FakeTime:
    return FakeTime()


def settings_for(srv: FakeOpenAIServer, **overrides: Any) -> LLMSettings:
    values: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "base_url": srv.base_url,
        "api_key": SecretStr(KEY),
        "max_attempts": 4,
        "local_defaults": False,  # the fake server stands for a remote endpoint
        "dialect": "json_schema",  # transport behaviour of one dialect; auto is tested apart
    }
    values.update(overrides)
    return LLMSettings(**values)


def timed(ft: FakeTime, llm: LLMSettings, budget: Budget | None = None) -> Transport:
    """The transport of `llm` on the fake clock (waits only move it)."""
    budget = budget or Budget.from_settings(llm, clock=ft.clock)
    return Transport(llm, budget=budget, sleep=ft.sleep)


def make_model(srv: FakeOpenAIServer, ft: FakeTime, **overrides: Any) -> OpenAIChatModel:
    llm = settings_for(srv, **overrides)
    transport = timed(ft, llm)
    meter = UsageMeter(llm.prices, transport.budget)
    return OpenAIChatModel(llm, transport=transport, meter=meter)


PROMPTS = PromptSet.load()


def run(
    model: ChatModel, *requests: ChatRequest, llm: LLMSettings | None = None
) -> list[ChatAnswer]:
    """Each request's whole answer, as the asker takes it (layer 2 over the model)."""
    asker = Asker(PROMPTS, llm or LLMSettings())

    async def go() -> list[ChatAnswer]:
        try:
            return [await asker.answer(model, r) for r in requests]
        finally:
            await model.aclose()

    return asyncio.run(go())


def fails(
    model: ChatModel,
    error: type[ModelError],
    req: ChatRequest | None = None,
    llm: LLMSettings | None = None,
) -> ModelError:
    with pytest.raises(error) as info:
        run(model, req or request(), llm=llm)
    return info.value


# -- dialects -------------------------------------------------------------------------------------


def _closed(schema: dict[str, Any]) -> bool:
    theme = schema["$defs"]["Theme"]
    return (
        schema["additionalProperties"] is False
        and schema["required"] == ["themes"]
        and theme["additionalProperties"] is False
        and sorted(theme["required"]) == ["paper_ids", "title"]
    )


def test_json_schema_dialect(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Reply(GOOD, cached_tokens=3))
    [answer] = run(make_model(srv, ft, dialect="json_schema"), request())
    assert Grouping.model_validate_json(answer.text) == Grouping.model_validate(GOOD)
    assert (answer.finish_reason, answer.model, answer.cached) == ("stop", "gpt-4o-mini", False)
    assert answer.usage.calls == 1 and answer.usage.input_tokens > 0
    assert answer.usage.output_tokens > 0 and answer.usage.cached_tokens == 3
    assert answer.usage.cost_usd > 0
    body = srv.chat_requests[0].body
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "grouping" and fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert _closed(schema)
    title = schema["$defs"]["Theme"]["properties"]["title"]
    assert "maxLength" not in title and "80" in title["description"]  # strict-mode friendly
    assert body["max_tokens"] == 300 and body["model"] == "gpt-4o-mini"
    assert body["messages"][-1] == {"role": "user", "content": "Group P1 and P2."}
    assert "tools" not in body


def test_json_object_schema_dialect(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Reply(GOOD))
    [answer] = run(make_model(srv, ft, dialect="json_object_schema"), request())
    assert Grouping.model_validate_json(answer.text).themes[0].title == "Vision"
    fmt = srv.chat_requests[0].body["response_format"]
    assert fmt["type"] == "json_object" and _closed(fmt["schema"])
    assert fmt["schema"]["$defs"]["Theme"]["properties"]["title"]["maxLength"] == 80


def test_json_object_dialect_puts_schema_in_last_user_message(
    srv: FakeOpenAIServer, ft: FakeTime
) -> None:
    srv.queue(Reply(GOOD))
    [answer] = run(make_model(srv, ft, dialect="json_object"), request())
    assert Grouping.model_validate_json(answer.text)
    body = srv.chat_requests[0].body
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert system == {"role": "system", "content": "You group papers."}
    assert user["content"].startswith("Group P1 and P2.")
    assert "JSON Schema" in user["content"] and '"paper_ids"' in user["content"]


def test_tools_dialect_forces_one_tool_and_returns_its_arguments(
    srv: FakeOpenAIServer, ft: FakeTime
) -> None:
    srv.queue(Reply(GOOD, tool_call=True))
    [answer] = run(make_model(srv, ft, dialect="tools"), request())
    assert Grouping.model_validate_json(answer.text) == Grouping.model_validate(GOOD)
    assert answer.finish_reason == "stop"
    body = srv.chat_requests[0].body
    [tool] = body["tools"]
    assert tool["type"] == "function" and tool["function"]["name"] == "grouping"
    assert _closed(tool["function"]["parameters"])
    assert body["tool_choice"] == {"type": "function", "function": {"name": "grouping"}}
    assert "response_format" not in body


def test_key_goes_only_in_the_authorization_header(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Reply(GOOD))
    run(make_model(srv, ft), request())
    record = srv.chat_requests[0]
    assert record.headers["authorization"] == f"Bearer {KEY}"
    assert KEY.encode() not in record.raw_body


def test_local_server_without_key_gets_a_dummy_key(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Reply(GOOD))
    run(make_model(srv, ft, api_key=None), request())
    assert srv.chat_requests[0].headers["authorization"] == f"Bearer {LOCAL_SERVER_KEY}"


def test_openai_proper_uses_max_completion_tokens(ft: FakeTime) -> None:
    model = OpenAIChatModel(LLMSettings(api_key=SecretStr(KEY)))
    params, _ = model._params(request(), "json_schema")
    assert "max_tokens" not in params  # added per call: max_completion_tokens without base_url
    assert model.base_url is None


# -- transport retries ---------------------------------------------------------------------------


def test_429_with_retry_after_seconds_is_honoured(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Fault.http(429, headers={"Retry-After": "2"}), Reply(GOOD))
    [answer] = run(make_model(srv, ft), request())
    assert answer.text
    assert len(srv.chat_requests) == 2
    assert ft.sleeps == [pytest.approx(2.0)]


def test_retry_after_ms_is_honoured(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Fault.http(429, headers={"retry-after-ms": "1500"}), Reply(GOOD))
    run(make_model(srv, ft), request())
    assert ft.sleeps == [pytest.approx(1.5)]


def test_retry_after_http_date_is_honoured(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    when = email.utils.formatdate(time.time() + 6, usegmt=True)
    srv.queue(Fault.http(503, headers={"Retry-After": when}), Reply(GOOD))
    run(make_model(srv, ft), request())
    [wait] = ft.sleeps
    assert 3.0 <= wait <= 6.5


def test_retry_after_is_capped(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Fault.http(429, headers={"Retry-After": "120"}), Reply(GOOD))
    run(make_model(srv, ft, max_retry_wait_seconds=7), request())
    assert ft.sleeps == [7]


def test_5xx_then_success_backs_off_with_jitter(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Fault.http(500), Fault.http(503), Reply(GOOD))
    [answer] = run(make_model(srv, ft), request())
    assert answer.text and len(srv.chat_requests) == 3
    first, second = ft.sleeps
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 1.5  # 0.5 * 2**n + jitter in [0, 0.5]


@pytest.mark.parametrize("status", [408, 409])
def test_408_and_409_are_retried(srv: FakeOpenAIServer, ft: FakeTime, status: int) -> None:
    srv.queue(Fault.http(status), Reply(GOOD))
    run(make_model(srv, ft), request())
    assert len(srv.chat_requests) == 2


@pytest.mark.timeout(10)  # two 0.3 s timeouts, not two 10 s answers
def test_slow_answers_time_out_and_give_up_fast(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Fault.slow(10), Fault.slow(10))
    model = make_model(srv, ft, timeout_seconds=0.3, max_attempts=2)
    error = fails(model, ModelUnavailable)
    assert "timed out" in str(error) and error.attempts == 2
    assert len(srv.chat_requests) == 2


def test_slow_answer_then_success(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Fault.slow(10), Reply(GOOD))
    [answer] = run(make_model(srv, ft, timeout_seconds=0.3), request())
    assert answer.text and len(srv.chat_requests) == 2


def test_dropped_connection_is_retried(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Fault.drop(), Reply(GOOD))
    [answer] = run(make_model(srv, ft), request())
    assert answer.text and len(srv.chat_requests) == 2


def test_attempts_are_bounded(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(*[Fault.http(500)] * 6)
    error = fails(make_model(srv, ft, max_attempts=3), ModelUnavailable)
    assert len(srv.chat_requests) == 3
    assert error.attempts == 3 and "HTTP 500" in str(error) and "3 attempts" in str(error)
    assert len(ft.sleeps) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(srv: FakeOpenAIServer, ft: FakeTime, status: int) -> None:
    srv.queue(Fault.http(status), Reply(GOOD))
    error = fails(make_model(srv, ft), ModelUnavailable)
    assert len(srv.chat_requests) == 1 and ft.sleeps == []
    assert f"HTTP {status}" in str(error) and "\n" not in str(error)
    assert error.status_code == status


def test_401_message_never_shows_the_key(
    srv: FakeOpenAIServer, ft: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"error": {"message": f"Incorrect API key provided: {KEY}.", "type": "invalid"}}
    srv.queue(Fault.http(429, headers={"Retry-After": "0"}), Fault.http(401, body=body))
    model = make_model(srv, ft)
    error = fails(model, ModelUnavailable)
    assert "HTTP 401" in str(error) and "Incorrect API key" in str(error)
    for text in (str(error), repr(error), caplog.text, repr(model), repr(model.transport)):
        assert KEY not in text
        assert "SECRET-0123" not in text
    assert error.__cause__ is None and error.__suppress_context__


def test_secret_is_not_in_settings_repr(srv: FakeOpenAIServer) -> None:
    llm = settings_for(srv)
    assert KEY not in repr(llm) and KEY not in str(llm.model_dump())


# -- circuit breaker and run budget ---------------------------------------------------------------


def test_circuit_opens_after_k_failed_calls(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(*[Fault.http(503)] * 3, Reply(GOOD))
    model = make_model(srv, ft, max_attempts=1, circuit_breaker_failures=3)

    async def go() -> list[str]:
        outcomes = []
        for _ in range(4):
            try:
                await model.complete(request())
                outcomes.append("ok")
            except ModelUnavailable as exc:
                outcomes.append(str(exc))
        await model.aclose()
        return outcomes

    outcomes = asyncio.run(go())
    assert all("HTTP 503" in o for o in outcomes[:3])
    assert "circuit open" in outcomes[3]
    assert len(srv.chat_requests) == 3  # the 4th call made no request
    assert srv.pending == 1


def test_success_resets_the_breaker(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Fault.http(500), Fault.http(500), Reply(GOOD), Fault.http(500), Fault.http(500))
    srv.queue(Reply(GOOD))
    model = make_model(srv, ft, max_attempts=1, circuit_breaker_failures=3)

    async def go() -> list[bool]:
        results = []
        for _ in range(6):
            try:
                await model.complete(request())
                results.append(True)
            except ModelUnavailable:
                results.append(False)
        await model.aclose()
        return results

    assert asyncio.run(go()) == [False, False, True, False, False, True]
    assert not model.transport.breaker.is_open


def test_calls_after_the_run_budget_fail_at_once(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    model = make_model(srv, ft, run_budget_seconds=60)
    ft.now += 61
    error = fails(model, ModelUnavailable)
    assert "budget" in str(error)
    assert srv.chat_requests == []


def test_no_retry_wait_past_the_run_budget(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Fault.http(429, headers={"Retry-After": "30"}), Reply(GOOD))
    model = make_model(srv, ft, run_budget_seconds=20, max_retry_wait_seconds=60)
    error = fails(model, ModelUnavailable)
    assert ft.sleeps == [] and len(srv.chat_requests) == 1
    assert "budget" in str(error)


def test_shared_run_clock_spans_models(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    budget = Budget(Limits(seconds=30), clock=ft.clock)
    llm = settings_for(srv)
    first = OpenAIChatModel(llm, transport=timed(ft, llm, budget))
    other = llm.model_copy(update={"model": "other"})
    second = OpenAIChatModel(other, transport=timed(ft, other, budget))
    ft.now += 31
    fails(first, ModelUnavailable)
    fails(second, ModelUnavailable)
    assert srv.chat_requests == []


# -- answers that are not answers -------------------------------------------------------------------


def test_length_retries_once_with_more_tokens_then_truncated(
    srv: FakeOpenAIServer, ft: FakeTime
) -> None:
    srv.queue(Fault.length('{"themes": ['), Fault.length('{"themes": [{"title": "'))
    error = fails(make_model(srv, ft), AnswerTruncated, request(max_out=300))
    first, second = (r.body["max_tokens"] for r in srv.chat_requests)
    assert (first, second) == (300, 600)
    assert error.attempts == 2 and error.last_raw == '{"themes": [{"title": "'
    # the evidence: both calls were paid for, and each cut-off answer is kept with its number
    assert error.usage is not None and error.usage.calls == 2
    assert [(a.number, a.raw) for a in error.failed] == [
        (1, '{"themes": ['),
        (2, '{"themes": [{"title": "'),
    ]
    assert error.failed[0].error == "cut off at 300 output tokens"


def test_a_transport_failure_after_a_cut_off_answer_carries_what_that_answer_cost(
    srv: FakeOpenAIServer, ft: FakeTime
) -> None:
    srv.queue(Fault.length('{"themes": ['), *[Fault.http(500)] * 4)
    error = fails(make_model(srv, ft), ModelUnavailable, request(max_out=300))
    assert error.usage is not None and error.usage.calls == 1  # the cut-off answer, paid for
    assert [a.number for a in error.failed] == [1, 2]
    assert error.failed[0].raw == '{"themes": [' and "HTTP 500" in error.failed[1].error


def test_length_then_complete_answer(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Fault.length('{"themes": ['), Reply(GOOD))
    [answer] = run(make_model(srv, ft), request())
    assert answer.finish_reason == "stop" and answer.usage.calls == 2


def test_larger_max_tokens_is_capped_by_the_context_window(
    srv: FakeOpenAIServer, ft: FakeTime
) -> None:
    srv.queue(Fault.length("{"), Reply(GOOD))
    llm = settings_for(srv, context_window=2048)
    run(make_model(srv, ft, context_window=2048), request(max_out=1500), llm=llm)
    second = srv.chat_requests[1].body["max_tokens"]
    assert 1500 < second < 2048


def test_refusal_raises_model_refused(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Reply(refusal="I can't help with that."))
    error = fails(make_model(srv, ft), ModelRefused)
    assert "I can't help" in str(error) and len(srv.chat_requests) == 1


def test_content_filter_raises_model_refused(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Reply("", finish_reason="content_filter"))
    fails(make_model(srv, ft), ModelRefused)


def test_empty_answer_is_asked_once_more(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Reply(""), Reply(GOOD))
    [answer] = run(make_model(srv, ft), request())
    assert answer.text and answer.usage.calls == 2


def test_empty_answer_twice_is_unavailable(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Reply(""), Reply(""), Reply(GOOD))
    error = fails(make_model(srv, ft), ModelUnavailable)
    assert "empty" in str(error) and len(srv.chat_requests) == 2


# -- cost -----------------------------------------------------------------------------------------


def test_cost_cap_stops_before_the_call(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Reply(GOOD))
    error = fails(make_model(srv, ft, max_cost_usd=0.00001), CostCapReached)
    assert "cost cap" in str(error)
    assert srv.chat_requests == []


def test_usage_is_metered(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.queue(Reply(GOOD, usage={"prompt_tokens": 1000, "completion_tokens": 100}))
    srv.queue(
        Fault.length("{"), Reply(GOOD, usage={"prompt_tokens": 1000, "completion_tokens": 100})
    )
    model = make_model(srv, ft)
    run(model, request(), request(user="again"))
    total = model.meter.total()
    assert total.calls == 3
    assert total.cost_usd > 2 * (1000 * 0.15 + 100 * 0.60) / 1e6 - 1e-9


def test_chaos_gives_answers_or_typed_model_errors(srv: FakeOpenAIServer, ft: FakeTime) -> None:
    srv.handler = lambda body: Reply(GOOD)
    srv.chaos(0.5, seed=7)
    model = make_model(srv, ft, max_attempts=4, circuit_breaker_failures=100)

    asker = Asker(PROMPTS, LLMSettings())

    async def go() -> list[Any]:
        try:
            return await asyncio.gather(
                *(asker.answer(model, request(user=f"call {i}")) for i in range(24)),
                return_exceptions=True,
            )
        finally:
            await model.aclose()

    outcomes = asyncio.run(go())
    kinds = {type(o).__name__ for o in outcomes}
    assert kinds <= {"ChatAnswer", "ModelRefused", "AnswerTruncated", "ModelUnavailable"}
    assert "ChatAnswer" in kinds
    assert srv.errors == []


# -- factory --------------------------------------------------------------------------------------


def test_factory_builds_primary_and_fallback(
    srv: FakeOpenAIServer, ft: FakeTime, tmp_path: Any
) -> None:
    from agent.store import Store

    settings = load_settings(
        None,
        home=tmp_path,
        llm={
            "model": "gpt-4o-mini",
            "base_url": srv.base_url,
            "api_key": KEY,
            "fallback_model": "small-local",
            "max_attempts": 1,
            "circuit_breaker_failures": 1,
            "dialect": "json_schema",
        },
    )
    meter = UsageMeter(settings.llm.prices, None)
    with Store.open(tmp_path) as store:
        primary, fallback = build_chat_models(
            settings.llm, store, Shared(meter, sleep=ft.sleep), use_cache=True
        )
        assert isinstance(primary, CachedChatModel) and isinstance(fallback, CachedChatModel)
        assert (primary.name, fallback.name) == ("gpt-4o-mini", "small-local")
        srv.queue(Fault.http(500), Reply(GOOD))

        async def go() -> ChatAnswer:
            try:
                with pytest.raises(ModelUnavailable):
                    await primary.complete(request())
                with pytest.raises(ModelUnavailable, match="circuit open"):
                    await primary.complete(request())
                return await fallback.complete(request())
            finally:
                await primary.aclose()
                await fallback.aclose()

        answer = asyncio.run(go())
    assert answer.text and [r.body["model"] for r in srv.chat_requests] == [
        "gpt-4o-mini",
        "small-local",
    ]
    assert srv.chat_requests[1].headers["authorization"] == f"Bearer {KEY}"  # same endpoint


def test_factory_fallback_base_url_gets_no_key(srv: FakeOpenAIServer) -> None:
    settings = load_settings(
        None,
        llm={
            "api_key": KEY,
            "fallback_model": "llama",
            "fallback_base_url": srv.base_url,
        },
    )
    primary, fallback = build_chat_models(
        settings.llm, None, Shared(UsageMeter({}, None)), use_cache=True
    )
    assert isinstance(primary, OpenAIChatModel) and isinstance(fallback, OpenAIChatModel)
    assert fallback.base_url == srv.base_url and fallback._api_key() == LOCAL_SERVER_KEY
    assert primary.transport.budget is fallback.transport.budget
    assert primary.transport.breaker is not fallback.transport.breaker


def test_factory_without_model_config_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    shared = Shared(UsageMeter({}, None))
    assert build_chat_models(load_settings(None).llm, None, shared, use_cache=True) == []


def test_factory_without_cache(srv: FakeOpenAIServer, tmp_path: Any) -> None:
    from agent.store import Store

    settings = load_settings(None, llm={"base_url": srv.base_url})
    with Store.open(tmp_path) as store:
        [model] = build_chat_models(
            settings.llm, store, Shared(UsageMeter({}, None)), use_cache=False
        )
    assert isinstance(model, OpenAIChatModel)


# -- LangChain chat models ------------------------------------------------------------------------

FAKE_LIST = "langchain_core.language_models.fake_chat_models:FakeListChatModel"
GENERIC_FAKE = "langchain_core.language_models.fake_chat_models:GenericFakeChatModel"


def langchain_model(
    path: str, kwargs: dict[str, Any], ft: FakeTime, **overrides: Any
) -> LangChainChatModel:
    llm = LLMSettings(chat_model=path, chat_model_kwargs=kwargs, **overrides)
    budget = Budget(Limits(seconds=600), clock=ft.clock)
    return LangChainChatModel(llm, transport=timed(ft, llm, budget))


def test_langchain_fake_list_model_by_import_path(ft: FakeTime) -> None:
    fenced = '```json\n{"themes": [{"title": "Vision", "paper_ids": ["P1"]}]}\n```'
    model = langchain_model(FAKE_LIST, {"responses": [fenced]}, ft)
    assert model.name == "FakeListChatModel"
    [answer] = run(model, request())
    assert Grouping.model_validate_json(answer.text).themes[0].paper_ids == ["P1"]
    assert answer.usage.calls == 1 and not answer.cached


def test_langchain_plain_mode_puts_schema_in_prompt(ft: FakeTime) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    seen: list[Any] = []

    class Recording(FakeListChatModel):
        async def ainvoke(self, messages: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            seen.append(messages)
            return await super().ainvoke(messages, *args, **kwargs)

    globals()["Recording"] = Recording
    model = langchain_model(f"{__name__}:Recording", {"responses": ['{"themes": []}']}, ft)
    run(model, request())
    last = seen[0][-1]
    assert last.type == "human" and "JSON Schema" in last.content and "paper_ids" in last.content


def test_langchain_usage_from_usage_metadata(ft: FakeTime) -> None:
    from langchain_core.messages import AIMessage

    message = AIMessage(
        content='{"themes": []}',
        usage_metadata={
            "input_tokens": 120,
            "output_tokens": 8,
            "total_tokens": 128,
            "input_token_details": {"cache_read": 100},
        },
        response_metadata={"finish_reason": "stop", "model_name": "fake-lc"},
    )
    model = langchain_model(GENERIC_FAKE, {"messages": iter([message])}, ft)
    [answer] = run(model, request())
    assert answer.model == "fake-lc"
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (120, 8)
    assert answer.usage.cached_tokens == 100


def test_langchain_length_and_refusal(ft: FakeTime) -> None:
    from langchain_core.messages import AIMessage

    cut = AIMessage(content='{"themes": [', response_metadata={"finish_reason": "length"})
    model = langchain_model(GENERIC_FAKE, {"messages": iter([cut])}, ft)
    with pytest.raises(AnswerTruncated):
        run(model, request())
    refused = AIMessage(content="", additional_kwargs={"refusal": "no"})
    model = langchain_model(GENERIC_FAKE, {"messages": iter([refused])}, ft)
    with pytest.raises(ModelRefused):
        run(model, request())


def test_langchain_errors_are_retried_then_unavailable(ft: FakeTime) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    calls: list[int] = []

    class Flaky(FakeListChatModel):
        async def ainvoke(self, messages: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            calls.append(1)
            raise ConnectionError("down")

    globals()["Flaky"] = Flaky
    model = langchain_model(f"{__name__}:Flaky", {"responses": ["{}"]}, ft, max_attempts=3)
    with pytest.raises(ModelUnavailable):
        run(model, request())
    assert len(calls) == 3 and len(ft.sleeps) == 2


def test_langchain_bad_import_path_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        LangChainChatModel(LLMSettings(chat_model="no_such_module:Nope"))
    with pytest.raises(ConfigError):
        LangChainChatModel(LLMSettings(chat_model="not-a-path"))


# -- helpers --------------------------------------------------------------------------------------


class _Resp:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers
        self.status_code = 429


class _Err(Exception):
    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("rate limited")
        self.response = _Resp(headers)
        self.status_code = 429


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "3"}, 3.0),
        ({"Retry-After": "0.5"}, 0.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-4"}, None),
    ],
)
def test_retry_after_parsing(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(_Err(headers)) == expected


def test_retry_after_http_date_in_the_past_is_zero() -> None:
    past = email.utils.formatdate(time.time() - 100, usegmt=True)
    assert retry_after_seconds(_Err({"Retry-After": past})) == 0.0


def test_describe_masks_key_like_tokens() -> None:
    error = _Err({})
    error.body = {"message": "bad key sk-proj-abcdefghijklmnop given"}  # type: ignore[attr-defined]
    text = describe_transport_error(error)
    assert "abcdefghijkl" not in text and "HTTP 429" in text
