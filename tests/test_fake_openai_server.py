"""The fake OpenAI server, driven through the real ``openai`` SDK."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any, Literal

import httpx
import openai
import pytest
from pydantic import BaseModel, Field, create_model

from tests.fakes.openai_server import (
    CHAOS_FAULTS,
    FakeOpenAIServer,
    Fault,
    Reply,
    default_digest_handler,
    request_schema,
)
from tests.fakes.schema_instance import schema_instance

MESSAGES: list[Any] = [
    {"role": "system", "content": "Group the papers into themes."},
    {"role": "user", "content": "P1: Sparse attention.\nP2: Protein folding."},
]
THEMES = {"themes": [{"title": "Attention", "paper_ids": ["P1"]}]}
TOOL = {
    "type": "function",
    "function": {
        "name": "submit_themes",
        "parameters": {"type": "object", "properties": {"themes": {"type": "array"}}},
    },
}


def client(server: FakeOpenAIServer, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=server.base_url, api_key="test-key", max_retries=0, timeout=timeout
    )


def ask(server: FakeOpenAIServer, **kwargs: Any) -> Any:
    kwargs.setdefault("messages", MESSAGES)
    with client(server, kwargs.pop("timeout", 5.0)) as c:
        return c.chat.completions.create(model="gpt-test", **kwargs)


def test_scripted_json_answer_is_parsed_back_and_the_request_recorded(
    srv: FakeOpenAIServer,
) -> None:
    srv.queue(Reply(THEMES))
    fmt = {"type": "json_schema", "json_schema": {"name": "themes", "schema": {"type": "object"}}}

    completion = ask(srv, response_format=fmt)

    assert completion.object == "chat.completion"
    assert completion.model == "gpt-test"
    assert completion.choices[0].finish_reason == "stop"
    assert json.loads(completion.choices[0].message.content) == THEMES
    [request] = srv.requests
    assert request.path == "/v1/chat/completions"
    assert request.body["response_format"] == fmt
    assert request.headers["authorization"] == "Bearer test-key"
    assert "P2: Protein folding." in request.prompt_text
    assert request.outcome == "reply"
    assert srv.pending == 0


def test_tool_call_answer_uses_the_requested_tool(srv: FakeOpenAIServer) -> None:
    srv.queue(Reply(THEMES, tool_call=True), Reply(THEMES, tool_call=True))

    auto = ask(srv, tools=[TOOL])
    forced = ask(
        srv, tools=[TOOL], tool_choice={"type": "function", "function": {"name": "submit_themes"}}
    )

    [call] = auto.choices[0].message.tool_calls
    assert call.type == "function" and call.function.name == "submit_themes"
    assert json.loads(call.function.arguments) == THEMES
    assert auto.choices[0].message.content is None
    assert auto.choices[0].finish_reason == "tool_calls"
    assert forced.choices[0].finish_reason == "stop"  # what OpenAI says for a forced tool
    assert forced.choices[0].message.tool_calls[0].id != call.id


def test_refusal_has_the_structured_output_shape(srv: FakeOpenAIServer) -> None:
    srv.queue(Reply(refusal="I can't help with that."))

    message = ask(srv).choices[0].message

    assert message.refusal == "I can't help with that."
    assert message.content is None
    assert srv.requests[0].outcome == "refusal"


def test_sdk_parse_helper_gets_parsed_output_and_refusal(srv: FakeOpenAIServer) -> None:
    srv.queue(Reply({"themes": [{"title": "T", "papers": [{"paper_id": "P2", "blurb": "b"}]}]}))
    srv.queue(Reply(refusal="No."))

    with client(srv) as c:
        parsed = c.chat.completions.parse(model="m", messages=MESSAGES, response_format=Themes)
        refused = c.chat.completions.parse(model="m", messages=MESSAGES, response_format=Themes)

    assert parsed.choices[0].message.parsed == Themes(
        themes=[Theme(title="T", papers=[Blurb(paper_id="P2", blurb="b")])]
    )
    assert refused.choices[0].message.parsed is None
    assert refused.choices[0].message.refusal == "No."
    assert srv.requests[0].body["response_format"]["json_schema"]["strict"] is True


@pytest.mark.parametrize(("header", "value"), [("Retry-After", "1"), ("retry-after-ms", "50")])
def test_429_surfaces_as_rate_limit_error_with_the_retry_header(
    srv: FakeOpenAIServer, header: str, value: str
) -> None:
    srv.queue(Fault.http(429, headers={header: value}))

    with pytest.raises(openai.RateLimitError) as caught:
        ask(srv)

    assert caught.value.status_code == 429
    assert caught.value.response.headers[header] == value
    assert caught.value.code == "rate_limit_exceeded"


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_surface_as_internal_server_error(srv: FakeOpenAIServer, status: int) -> None:
    srv.queue(Fault.http(status))

    with pytest.raises(openai.InternalServerError) as caught:
        ask(srv)

    assert caught.value.status_code == status


def test_custom_error_body_and_408(srv: FakeOpenAIServer) -> None:
    srv.queue(Fault.http(408, body={"error": {"message": "took too long", "type": "timeout"}}))

    with pytest.raises(openai.APIStatusError) as caught:
        ask(srv)

    assert caught.value.status_code == 408
    assert caught.value.message.endswith("took too long")
    assert caught.value.type == "timeout"


def test_dropped_connection_is_a_connection_error_not_a_timeout(srv: FakeOpenAIServer) -> None:
    srv.queue(Fault.drop(), Reply("after the drop"))

    with pytest.raises(openai.APIConnectionError) as caught:
        ask(srv)
    assert not isinstance(caught.value, openai.APITimeoutError)

    assert ask(srv).choices[0].message.content == "after the drop"
    assert [r.outcome for r in srv.requests] == ["drop", "reply"]


@pytest.mark.timeout(10)  # the server's stop does not wait out the 30 s answer
def test_slow_answer_times_out_the_client_and_shutdown_does_not_wait_for_it() -> None:
    with FakeOpenAIServer() as server:
        server.queue(Fault.slow(30), Reply("next"))
        with pytest.raises(openai.APITimeoutError):
            ask(server, timeout=0.5)
        # the slow answer does not consume the queue: a retry gets the next answer
        assert ask(server).choices[0].message.content == "next"


@pytest.mark.timeout(15)  # stop() aborts the 30 s answer instead of waiting for it
def test_slow_answer_does_not_block_others_and_is_aborted_on_stop() -> None:
    server = FakeOpenAIServer(
        handler=lambda body: Fault.slow(30) if body["model"] == "slow" else Reply("quick")
    ).start()
    outcome: list[BaseException] = []

    def slow_call() -> None:
        try:
            with client(server, timeout=30) as c:
                c.chat.completions.create(model="slow", messages=MESSAGES)
        except openai.APIError as exc:
            outcome.append(exc)

    idle = client(server)  # an open keep-alive connection that nobody closes before stop
    caller = threading.Thread(target=slow_call)
    try:
        idle.models.list()
        caller.start()
        deadline = time.monotonic() + 5
        while not server.chat_requests and time.monotonic() < deadline:
            time.sleep(0.01)

        assert ask(server).choices[0].message.content == "quick"
        assert server.max_in_flight == 2
    finally:
        server.stop()
        caller.join(timeout=5)
        idle.close()

    assert not caller.is_alive()
    assert isinstance(outcome[0], openai.APIConnectionError)
    assert not [t for t in threading.enumerate() if t.name.startswith("fake-openai")]


def test_invalid_json_content_arrives_verbatim(srv: FakeOpenAIServer) -> None:
    srv.queue(Fault.invalid_json())

    completion = ask(srv, response_format={"type": "json_object"})

    content = completion.choices[0].message.content
    assert content == '{"themes": ['
    with pytest.raises(json.JSONDecodeError):
        json.loads(content)


def test_length_finish_reason_with_truncated_content(srv: FakeOpenAIServer) -> None:
    srv.queue(Fault.length('{"themes": [{"title": "Atten'))

    choice = ask(srv).choices[0]

    assert choice.finish_reason == "length"
    assert choice.message.content == '{"themes": [{"title": "Atten'


def test_handler_answers_from_the_request_and_the_queue_goes_first(srv: FakeOpenAIServer) -> None:
    def by_ids(body: dict[str, Any]) -> Reply:
        prompt = body["messages"][-1]["content"]
        ids = [line.split(":")[0] for line in prompt.splitlines()]
        return Reply({"themes": [{"title": "All", "paper_ids": ids}]})

    srv.handler = by_ids
    srv.queue("queued first")
    user = {"role": "user", "content": "P7: x\nP9: y"}

    first = ask(srv, messages=[user]).choices[0].message.content
    second = ask(srv, messages=[user]).choices[0].message.content

    assert first == "queued first"
    assert json.loads(second) == {"themes": [{"title": "All", "paper_ids": ["P7", "P9"]}]}


def test_handler_error_and_missing_answer_are_loud_500s(srv: FakeOpenAIServer) -> None:
    with pytest.raises(openai.InternalServerError, match="no scripted answer"):
        ask(srv)
    srv.handler = lambda body: 1 / 0
    with pytest.raises(openai.InternalServerError, match="ZeroDivisionError"):
        ask(srv)

    assert [r.outcome for r in srv.requests] == ["no_answer", "handler_error"]
    assert len(srv.errors) == 2


def test_bare_paths_models_streaming_and_unknown_paths(srv: FakeOpenAIServer) -> None:
    srv.queue("bare path works")
    body = {"model": "m", "messages": MESSAGES}
    with client(srv) as c:
        assert [m.id for m in c.models.list()] == ["fake-model"]
        with pytest.raises(openai.BadRequestError, match="Streaming"):
            c.chat.completions.create(model="m", messages=MESSAGES, stream=True)

    root = srv.base_url.removesuffix("/v1")
    bare = httpx.post(f"{root}/chat/completions", json=body)
    unknown = httpx.post(f"{root}/v1/embeddings", json=body)

    assert bare.json()["choices"][0]["message"]["content"] == "bare path works"
    assert unknown.status_code == 404
    assert [r.outcome for r in srv.requests] == ["models", "bad_request", "reply", "http 404"]
    assert len(srv.chat_requests) == 2


def test_required_api_key_is_checked() -> None:
    with FakeOpenAIServer(require_api_key="right-key", handler=lambda body: Reply("ok")) as server:
        with pytest.raises(openai.AuthenticationError):
            ask(server)  # sends "test-key"
        with openai.OpenAI(base_url=server.base_url, api_key="right-key", max_retries=0) as c:
            reply = c.chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == "ok"


def test_usage_is_estimated_and_can_be_overridden(srv: FakeOpenAIServer) -> None:
    content = "x" * 40
    srv.queue(Reply(content, cached_tokens=3), Reply(content, usage={"prompt_tokens": 1000}))
    prompt_chars = sum(len(m["content"]) for m in MESSAGES) + len(MESSAGES) - 1

    estimated = ask(srv).usage
    overridden = ask(srv).usage

    assert (estimated.prompt_tokens, estimated.completion_tokens) == (prompt_chars // 4, 10)
    assert estimated.total_tokens == prompt_chars // 4 + 10
    assert estimated.prompt_tokens_details.cached_tokens == 3
    assert (overridden.prompt_tokens, overridden.total_tokens) == (1000, 1010)
    assert overridden.prompt_tokens_details.cached_tokens == 0


def test_latency_model_delays_each_answer() -> None:
    with FakeOpenAIServer(latency_per_call=0.1, latency_per_output_token=0.01) as server:
        server.queue(Reply("y" * 40))  # 10 output tokens -> 0.1 s more
        waits: list[float] = []
        server._wait = lambda seconds: waits.append(seconds) or True  # type: ignore[method-assign]
        ask(server)
        assert waits == [pytest.approx(0.2)]


def test_concurrent_requests_are_served_in_parallel() -> None:
    all_arrived = threading.Barrier(8, timeout=5)  # breaks (-> 500s) if calls were serialised

    def together(body: dict[str, Any]) -> Reply:
        all_arrived.wait()
        return Reply("ok")

    async def burst(server: FakeOpenAIServer) -> list[str | None]:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0) as c:
            calls = [c.chat.completions.create(model="m", messages=MESSAGES) for _ in range(8)]
            return [r.choices[0].message.content for r in await asyncio.gather(*calls)]

    with FakeOpenAIServer(handler=together) as server:
        contents = asyncio.run(burst(server))

    assert contents == ["ok"] * 8
    assert server.max_in_flight == 8


def chaos_run(seed: int, calls: int = 24) -> list[str]:
    with FakeOpenAIServer(handler=lambda body: Reply(THEMES)) as server, client(server) as c:
        server.chaos(rate=0.5, seed=seed)
        for _ in range(calls):
            try:
                c.chat.completions.create(model="m", messages=MESSAGES)
            except openai.APIError:
                pass
        return [r.outcome for r in server.chat_requests]


def test_chaos_is_deterministic_given_the_seed() -> None:
    first, again, other = chaos_run(123), chaos_run(123), chaos_run(7)

    assert first == again
    assert first != other
    faults = [o for o in first if o.startswith("chaos:")]
    assert 0 < len(faults) < len(first)
    assert {o.removeprefix("chaos:") for o in faults} <= set(CHAOS_FAULTS)
    assert set(first) - set(faults) == {"reply"}


def grouping_schema(ids: list[str], nested: bool) -> dict[str, Any]:
    paper_id = Literal[tuple(ids)]  # type: ignore[valid-type]
    if nested:
        blurb = create_model(
            "Blurb", paper_id=(paper_id, ...), blurb=(str, Field(min_length=5, max_length=40))
        )
        theme = create_model("Theme", title=(str, ...), papers=(list[blurb], Field(min_length=1)))  # type: ignore[valid-type]
    else:
        theme = create_model(
            "Theme", title=(str, ...), paper_ids=(list[paper_id], Field(min_length=1, max_length=3))
        )  # type: ignore[valid-type]
    model = create_model(
        "Answer", themes=(list[theme], Field(min_length=1, max_length=8)), count=(int, Field(ge=2))
    )  # type: ignore[valid-type]
    return model.model_json_schema()


@pytest.mark.parametrize("nested", [False, True])
def test_schema_instance_assigns_every_enum_value_exactly_once(nested: bool) -> None:
    ids = [f"P{i}" for i in range(1, 8)]
    schema = grouping_schema(ids, nested)

    instance = schema_instance(schema)

    themes = instance["themes"]
    assigned = (
        [p["paper_id"] for t in themes for p in t["papers"]]
        if nested
        else [i for t in themes for i in t["paper_ids"]]
    )
    assert assigned == ids
    assert instance["count"] == 2
    if nested:
        assert all(5 <= len(p["blurb"]) <= 40 for t in themes for p in t["papers"])
    else:
        assert len(themes) == 3 and all(
            len(t["paper_ids"]) <= 3 for t in themes
        )  # 7 ids, at most 3 per theme


def test_schema_instance_basics() -> None:
    schema = {
        "type": "object",
        "properties": {
            "kind": {"enum": ["a", "b"]},
            "name": {"type": "string", "maxLength": 0},
            "note": {"anyOf": [{"type": "null"}, {"type": "string", "minLength": 12}]},
            "tags": {"type": "array", "items": {"enum": ["x", "y"]}, "minItems": 2},
            "score": {"type": "number", "exclusiveMinimum": 1},
        },
        "required": ["kind", "name", "note", "tags", "score"],
    }
    assert schema_instance(schema) == {
        "kind": "a",
        "name": "",
        "note": "lorem ipsum ",
        "tags": ["x", "y"],
        "score": 1.5,
    }


class Blurb(BaseModel):
    paper_id: Literal["P1", "P2", "P3"]
    blurb: str = Field(min_length=1, max_length=300)


class Theme(BaseModel):
    title: str = Field(max_length=80)
    papers: list[Blurb] = Field(min_length=1)


class Themes(BaseModel):
    themes: list[Theme] = Field(min_length=1, max_length=6)


@pytest.mark.parametrize(
    "dialect", ["json_schema", "json_object_schema", "json_object_prompt", "tools"]
)
@pytest.mark.parametrize("echo_mode", ["placeholder", "offline"])
def test_default_handler_answers_every_dialect_with_a_valid_instance(
    dialect: str, echo_mode: Any
) -> None:
    schema = Themes.model_json_schema()
    prompt = {"role": "user", "content": "Papers P1 P2 P3 about attention, proteins and graphs."}
    request: dict[str, Any] = {"model": "m", "messages": [prompt]}
    if dialect == "json_schema":
        request["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "t", "schema": schema},
        }
    elif dialect == "json_object_schema":
        request["response_format"] = {"type": "json_object", "schema": schema}
    elif dialect == "json_object_prompt":
        request["response_format"] = {"type": "json_object"}
        request["messages"] = [
            {"role": "system", "content": f"Answer with JSON for {json.dumps(schema)}"},
            prompt,
        ]
    else:
        request["tools"] = [
            {"type": "function", "function": {"name": "themes", "parameters": schema}}
        ]

    with FakeOpenAIServer(handler=lambda body: default_digest_handler(body, echo_mode)) as server:
        message = (
            ask(server, **{k: v for k, v in request.items() if k != "model"}).choices[0].message
        )

    raw = message.tool_calls[0].function.arguments if dialect == "tools" else message.content
    answer = Themes.model_validate_json(raw)
    assert [p.paper_id for t in answer.themes for p in t.papers] == ["P1", "P2", "P3"]
    assert request_schema(request)[1] is (dialect == "tools")
    if echo_mode == "offline":
        assert "attention" in raw
