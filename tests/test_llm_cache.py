"""The model answer cache: hits make no HTTP call, misses on any identity change, no secrets."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, SecretStr

from agent.config import LLMSettings
from agent.models import Usage
from agent.store import Store
from agent.summarize.llm.asking.ask import Asker
from agent.summarize.llm.asking.prompts import PromptSet
from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest
from agent.summarize.llm.errors import AnswerTruncated, ModelUnavailable
from agent.summarize.llm.models.openai_chat import OpenAIChatModel
from agent.summarize.llm.models.transport import Transport
from agent.summarize.llm.run.budget import Budget, Limits
from agent.summarize.llm.run.cache import CachedChatModel, cache_key
from agent.summarize.llm.run.meter import UsageMeter
from tests.fakes.openai_server import FakeOpenAIServer, Fault, Reply

KEY = "sk-cache-SECRET-9876543210zyxwvu"
GOOD = {"ids": ["P1"]}


class Answer(BaseModel):
    ids: list[Literal["P1", "P2"]] = Field(max_length=2)


class OtherAnswer(BaseModel):
    ids: list[Literal["P1", "P2", "P3"]]


def request(
    prompt_version: str = "v1",
    user: str = "Which ids?",
    schema: type[BaseModel] = Answer,
    max_out: int = 200,
) -> ChatRequest:
    return ChatRequest(
        step="grouping",
        messages=({"role": "system", "content": "sys"}, {"role": "user", "content": user}),
        schema=schema,
        schema_name="grouping",
        max_output_tokens=max_out,
        prompt_version=prompt_version,
    )


async def _no_sleep(_: float) -> None:
    return None


def cached_model(
    srv: FakeOpenAIServer, store: Store, meter: UsageMeter | None = None, **overrides: Any
) -> CachedChatModel:
    values: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "base_url": srv.base_url,
        "api_key": SecretStr(KEY),
        "max_attempts": 1,
        "local_defaults": False,  # the fake server stands for a remote endpoint
        "dialect": "json_schema",  # transport behaviour of one dialect; auto is tested apart
    }
    values.update(overrides)
    llm = LLMSettings(**values)
    meter = meter or UsageMeter(llm.prices, None)
    transport = Transport(llm, budget=Budget(Limits(seconds=600)), sleep=_no_sleep)
    inner = OpenAIChatModel(llm, transport=transport, meter=meter)
    return CachedChatModel(inner, store, llm.dialect, meter=meter)


def run_all(
    model: ChatModel, *requests: ChatRequest, validate: bool = True
) -> list[ChatAnswer | Exception]:
    asker = Asker(PromptSet.load(), LLMSettings())

    async def go() -> list[ChatAnswer | Exception]:
        out: list[ChatAnswer | Exception] = []
        try:
            for r in requests:
                try:
                    answer = await asker.answer(model, r)  # the whole answer, as the asker takes it
                except Exception as exc:  # noqa: BLE001
                    out.append(exc)
                    continue
                if validate:  # as the asker does: a valid answer may be kept
                    r.schema.model_validate_json(answer.text)
                    answer.validated()
                out.append(answer)
        finally:
            await model.aclose()
        return out

    return asyncio.run(go())


def test_second_identical_request_is_a_hit(srv: FakeOpenAIServer, store: Store) -> None:
    srv.queue(Reply(GOOD))
    meter = UsageMeter(LLMSettings().prices, None)
    model = cached_model(srv, store, meter)
    first, second = run_all(model, request(), request())
    assert isinstance(first, ChatAnswer) and isinstance(second, ChatAnswer)
    assert not first.cached and first.usage.calls == 1
    assert second.cached and second.text == first.text and second.finish_reason == "stop"
    assert second.usage == Usage(cache_hits=1)
    assert second.model == first.model
    assert len(srv.chat_requests) == 1
    total = meter.total()
    assert (total.calls, total.cache_hits) == (1, 1)


def test_hit_survives_a_new_model_object(srv: FakeOpenAIServer, store: Store) -> None:
    srv.queue(Reply(GOOD))
    run_all(cached_model(srv, store), request())
    [again] = run_all(cached_model(srv, store), request())
    assert isinstance(again, ChatAnswer) and again.cached
    assert len(srv.chat_requests) == 1


@pytest.mark.parametrize(
    "changed",
    [
        request(prompt_version="v2"),
        request(user="Which ids, please?"),
        request(schema=OtherAnswer),
    ],
    ids=["prompt_version", "messages", "schema"],
)
def test_any_identity_change_is_a_miss(
    srv: FakeOpenAIServer, store: Store, changed: ChatRequest
) -> None:
    srv.queue(Reply(GOOD), Reply(GOOD))
    _, second = run_all(cached_model(srv, store), request(), changed)
    assert isinstance(second, ChatAnswer) and not second.cached
    assert len(srv.chat_requests) == 2


def test_model_and_dialect_are_in_the_key() -> None:
    base = cache_key("gpt-4o-mini", "json_schema", request())
    assert cache_key("gpt-4o", "json_schema", request()) != base
    assert cache_key("gpt-4o-mini", "tools", request()) != base
    assert cache_key("gpt-4o-mini", "json_schema", request(max_out=999)) == base
    assert len(base) == 64


def test_failures_and_truncations_are_not_cached(srv: FakeOpenAIServer, store: Store) -> None:
    srv.queue(Fault.http(500), Fault.length("{"), Fault.length("{"), Reply(GOOD))
    model = cached_model(srv, store)
    failed, truncated, answer = run_all(model, request(), request(), request())
    assert isinstance(failed, ModelUnavailable)
    assert isinstance(truncated, AnswerTruncated)
    assert isinstance(answer, ChatAnswer) and not answer.cached
    assert store.cache_size() == 1


def test_an_answer_nobody_validated_is_not_kept(srv: FakeOpenAIServer, store: Store) -> None:
    """Only answers the caller validated are cached: an invalid or junk one is asked again."""
    srv.queue(Reply(GOOD), Reply(GOOD))
    first, second = run_all(cached_model(srv, store), request(), request(), validate=False)
    assert isinstance(second, ChatAnswer) and not second.cached
    assert store.cache_size() == 0 and len(srv.chat_requests) == 2
    assert isinstance(first, ChatAnswer)
    first.validated()
    assert store.cache_size() == 1


def test_the_cache_keeps_at_most_max_answers(store: Store) -> None:
    for i in range(12):
        store.cache_answer(f"k{i:02d}", "m", "{}", {})
    assert store.trim_cache(5) == 7
    assert store.cache_size() == 5
    assert store.cached_answer("k11") is not None and store.cached_answer("k00") is None


def test_a_hit_does_not_need_the_model(srv: FakeOpenAIServer, store: Store) -> None:
    """Cache outside, breaker inside: an open circuit still serves cached answers."""
    srv.queue(Reply(GOOD), Fault.http(500), Fault.http(500), Fault.http(500))
    model = cached_model(srv, store, circuit_breaker_failures=3)
    results = run_all(
        model,
        request(),
        request(user="a"),
        request(user="b"),
        request(user="c"),
        request(user="d"),
        request(),
    )
    assert "circuit open" in str(results[4])
    assert isinstance(results[5], ChatAnswer) and results[5].cached
    assert len(srv.chat_requests) == 4


def test_key_is_not_in_the_cache_file_or_logs(
    srv: FakeOpenAIServer, store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    srv.queue(Fault.http(429, headers={"Retry-After": "0"}), Reply(GOOD), Reply(GOOD))
    model = cached_model(srv, store, max_attempts=2)
    run_all(model, request(), request(), request(prompt_version="v2"))
    assert store.cache_size() == 2
    store.close()
    files = list((tmp_path / "home").iterdir())
    assert files
    for path in files:
        assert KEY.encode() not in path.read_bytes()
        assert b"SECRET" not in path.read_bytes()
    assert KEY not in caplog.text
    assert KEY not in repr(model)
