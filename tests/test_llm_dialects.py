"""Dialect detection, lenient JSON, junk checks and local-server defaults, piece by piece.

The CLI end-to-end tests are in test_local_server.py; these pin each rule on its own.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from agent.config import LLMSettings, Settings
from agent.store import Store
from agent.summarize.llm.asking import junk, lenient_json
from agent.summarize.llm.asking.schemas import (
    Headline,
    LenientGrouping,
    Queries,
    blurbs_schema,
    grouping_schema,
)
from agent.summarize.llm.chat import ChatRequest
from agent.summarize.llm.errors import ModelUnavailable
from agent.summarize.llm.models.local import _context_in, is_local, with_local_defaults
from agent.summarize.llm.models.openai_chat import OpenAIChatModel
from agent.summarize.llm.models.transport import Transport
from agent.summarize.llm.run.budget import Budget, Limits
from agent.summarize.llm.run.meter import UsageMeter
from tests.fakes.chat_calls import answers_or_errors
from tests.fakes.openai_server import FakeOpenAIServer, Fault, Reply


class Answer(BaseModel):
    ids: list[str]


def request() -> ChatRequest:
    return ChatRequest(
        "grouping", ({"role": "user", "content": "ids?"},), Answer, "grouping", 256, "v1"
    )


async def _no_sleep(_: float) -> None:
    return None


def model(srv: FakeOpenAIServer, store: Store | None, **overrides: Any) -> OpenAIChatModel:
    llm = LLMSettings(model="local", base_url=srv.base_url, max_attempts=3, **overrides)
    transport = Transport(llm, budget=Budget(Limits(seconds=60)), sleep=_no_sleep)
    return OpenAIChatModel(llm, transport=transport, meter=UsageMeter({}, None), memory=store)


def ask(m: OpenAIChatModel, times: int = 1) -> list[Any]:
    return answers_or_errors(m, [request() for _ in range(times)])


def only_tools(body: dict[str, Any]) -> Any:
    if body.get("tools"):
        return Reply({"ids": ["P1"]}, tool_call=True)
    return Fault.http(400, {"error": {"message": "response_format not supported"}})


def test_auto_moves_down_on_rejections_and_remembers_per_endpoint(tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=only_tools) as srv, Store.open(tmp_path) as store:
        first = model(srv, store)
        answers = ask(first, times=2)
        assert [a.text for a in answers] == ['{"ids": ["P1"]}'] * 2
        sent = [
            ("tools" if r.body.get("tools") else r.body["response_format"]["type"])
            for r in srv.chat_requests
        ]
        # json_schema and json_object(+schema) once each, never retried; then tools throughout
        assert sent == ["json_schema", "json_object", "tools", "tools"]
        assert first.dialect == "tools"
        assert store.remembered_dialect(srv.base_url.rstrip("/"), "local") == "tools"
        ask(model(srv, store))  # a new run starts with the remembered dialect
        assert srv.chat_requests[-1].body.get("tools") and len(srv.chat_requests) == 5


def test_every_dialect_rejected_is_one_clear_error_and_no_more_requests(tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=lambda body: Fault.http(422)) as srv:
        failed, again = ask(model(srv, None), times=2)
        assert isinstance(failed, ModelUnavailable) and isinstance(again, ModelUnavailable)
        assert "rejected every structured-output dialect" in str(failed)
        assert len(srv.chat_requests) == 4  # one per dialect; the second call asks nothing


def test_an_explicit_dialect_wins_and_its_500_is_retried_as_an_outage() -> None:
    with FakeOpenAIServer() as srv:
        srv.queue(Fault.http(500), Fault.http(500), Reply({"ids": ["P1"]}))
        [answer] = ask(model(srv, None, dialect="json_schema"))
        assert not isinstance(answer, Exception)
        formats = [r.body["response_format"]["type"] for r in srv.chat_requests]
        assert formats == ["json_schema"] * 3


def test_the_answer_names_the_model_the_server_ran() -> None:
    with FakeOpenAIServer(answer_model="qwen2.5-7b-instruct-q4_k_m.gguf") as srv:
        srv.queue(Reply({"ids": []}))
        [answer] = ask(model(srv, None))
        assert answer.model == "qwen2.5-7b-instruct-q4_k_m.gguf"


@pytest.mark.parametrize(
    "text",
    [
        '{"ids": ["P1"], "note": "two\nlines\tand a tab"}',
        '```json\n{"ids": ["P1"], "note": "x"}\n```',
        'Here is the JSON:\n{"ids": ["P1"], "note": "x"} Hope this helps!',
    ],
    ids=["control characters", "code fence", "words around"],
)
def test_lenient_parsing_reads_what_small_models_write(text: str) -> None:
    assert lenient_json.parse(text)["ids"] == ["P1"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [("I cannot answer that.", "no JSON object"), ('{"ids": ["P1"', "ends too early")],
)
def test_not_json_says_what_to_do(text: str, needle: str) -> None:
    with pytest.raises(lenient_json.NotJson, match=needle) as info:
        lenient_json.parse(text)
    assert "answer with" in str(info.value)


def test_junk_checks_give_errors_a_model_can_act_on() -> None:
    context = junk.JunkContext(
        instructions=junk.shingles("For each paper write blurb: what they did and what they found"),
        titles={"P1": "Sparse Attention at Scale"},
        topic="sparse attention",
    )
    schema = blurbs_schema(["P1"])

    def errors(data: dict[str, Any]) -> str:
        with pytest.raises(ValidationError) as info:
            schema.model_validate(data, context=context)
        return str(info.value)

    good = {"paper_id": "P1", "blurb": "They prune attention.", "why_it_matters": None}
    assert schema.model_validate({"summary": "Attention.", "blurbs": [good]}, context=context)
    copied = {**good, "blurb": "Write blurb: what they did and what they found here"}
    assert "repeats the instructions" in errors({"summary": "S.", "blurbs": [copied]})
    assert "only repeats its title" in errors(
        {"summary": "S.", "blurbs": [{**good, "blurb": "Sparse attention at scale."}]}
    )
    assert "no words in it" in errors({"summary": "S.", "blurbs": [{**good, "blurb": "]["}]})
    assert "blurbs is empty" in errors({"summary": "S.", "blurbs": []})
    with pytest.raises(ValidationError, match="says nothing"):
        Headline.model_validate({"headline": "Today at a glance"})
    echoed = Headline.model_validate(
        {"headline": "Today at a glance: three papers prune attention."}
    )
    assert echoed.headline == "Three papers prune attention."  # the label is the email's
    with pytest.raises(ValidationError, match="says nothing"):
        Headline.model_validate({"headline": "Today at a glance: pruning."})
    grouping = grouping_schema(["P1", "P2"])
    copied_title = {"themes": [{"title": "Sparse attention at scale", "summary": "Attention.",
                                "paper_ids": ["P1", "P2"]}]}  # fmt: skip
    with pytest.raises(ValidationError, match="is the title of P1, one of its 2 papers"):
        grouping.model_validate(copied_title, context=context)
    cut = {"themes": [{**copied_title["themes"][0], "title": "Sparse Attention at Sc…"}]}
    with pytest.raises(ValidationError, match="is the title of P1"):  # SmolLM2 cut it so
        grouping.model_validate(cut, context=context)
    shared = {"themes": [{**copied_title["themes"][0], "title": "Sparse attention methods"}]}
    assert grouping.model_validate(shared, context=context)  # shares words, is not a copy
    named = junk.JunkContext(
        titles={"P1": "InfiniGen: KV cache management", "P2": "LoRA for LLaMA", "P3": "QLoRA"},
        texts={"P1": "Offloading.", "P2": "Low-rank adapters.", "P3": "LoRA on a 4-bit LLaMA."},
    )
    grouping3 = grouping_schema(["P1", "P2", "P3"])
    one_name = {"themes": [{"title": "InfiniGen", "summary": "Memory.", "paper_ids": ["P1", "P2", "P3"]}]}  # fmt: skip
    with pytest.raises(ValidationError, match="names 'InfiniGen', which only one of its 3"):
        grouping3.model_validate(one_name, context=named)
    shared_name = {"themes": [{**one_name["themes"][0], "title": "LoRA and LLaMA adapters"}]}
    assert grouping3.model_validate(shared_name, context=named)  # two papers say each
    lenient = LenientGrouping.model_validate(one_name, context=named)
    assert lenient.themes[0].title == ""  # emptied: the repair titles it from its papers
    alone = {"themes": [{"title": "Sparse Attention at Scale", "summary": "Attention.", "paper_ids": ["P1"]},
                        {"title": "Other work", "summary": "More.", "paper_ids": ["P2"]}]}  # fmt: skip
    assert grouping.model_validate(alone, context=context)  # one paper may carry its own title
    with pytest.raises(ValidationError, match="not in the topic's language"):
        Queries.model_validate({"queries": ["注意力机制", "稀疏注意力"]}, context=context)
    assert Queries.model_validate(
        {"queries": ["sparse attention", "efficient transformers"]}, context=context
    )


def test_local_defaults_apply_to_private_addresses_and_yield_to_settings() -> None:
    assert is_local("http://127.0.0.1:8080/v1") and is_local("http://192.168.1.5:11434/v1")
    assert is_local("http://localhost:8000/v1") and not is_local("https://api.openai.com/v1")
    assert not is_local(None)
    # vLLM reports max_model_len per model; llama.cpp n_ctx in /props
    assert _context_in({"data": [{"id": "m", "max_model_len": 16384}]}, "m") == 16384
    assert _context_in({"default_generation_settings": {"n_ctx": 4096}}, "m") == 4096
    local = LLMSettings(base_url="http://127.0.0.1:9/v1", concurrency=2, context_window=4096)
    settings = with_local_defaults(Settings(llm=local)).llm
    assert settings.concurrency == 2 and settings.context_window == 4096  # set: kept
    assert settings.timeout_seconds == 300 and settings.max_output_tokens == 1024
    assert settings.input_budget_tokens == 3000  # within the 4096 window less the output cap
    assert settings.prices == {}  # a local model is not priced as a paid one
    remote = Settings(llm=LLMSettings(base_url="https://api.example.com/v1"))
    assert with_local_defaults(remote) is remote
    forced_off = Settings(llm=LLMSettings(base_url="http://127.0.0.1:9/v1", local_defaults=False))
    assert with_local_defaults(forced_off) is forced_off


def test_the_local_server_is_probed_once_by_the_command_and_never_by_the_sync_code() -> None:
    """`probe_local` asks GET /models (and /props only when /models names nothing); what it
    kept is all the sync `local_llm` reads: no request after the probe, none before it."""

    from agent.summarize.llm.models.local import local_llm, probe_local
    from tests.fakes.http_server import Reply, ScriptedHttpServer

    with ScriptedHttpServer() as server:
        server.add("/v1/models", Reply(200, b'{"data": [{"id": "a"}, {"id": "b"}]}'))
        server.add("/props", Reply(200, b'{"default_generation_settings": {"n_ctx": 4096}}'))
        llm = LLMSettings(base_url=f"{server.url}/v1")
        assert local_llm(llm).model == "local" and server.requests == []  # not probed: no I/O
        probed = asyncio.run(probe_local(Settings(llm=llm))).llm
        again = asyncio.run(probe_local(Settings(llm=llm))).llm
        after = local_llm(llm)
        asked = [r.path for r in server.requests]
    assert probed.model == again.model == after.model == "a"  # the first listed, never hosted
    # /models names a model but no window: /props is asked once for the window
    assert probed.context_window == after.context_window == 4096
    assert asked == ["/v1/models", "/props"]


def test_props_is_not_asked_when_models_names_the_model_and_its_window() -> None:
    """A server that hangs on /props must not delay a run whose /models said everything."""

    from agent.summarize.llm.models.local import probe_local
    from tests.fakes.http_server import Reply, ScriptedHttpServer

    with ScriptedHttpServer() as server:
        server.add("/v1/models", Reply(200, b'{"data": [{"id": "qwen", "max_model_len": 32768}]}'))
        server.add("/props", Reply(200, b'{"default_generation_settings": {"n_ctx": 4096}}'))
        probed = asyncio.run(probe_local(Settings(llm=LLMSettings(base_url=f"{server.url}/v1"))))
        asked = [r.path for r in server.requests]
    assert probed.llm.model == "qwen" and probed.llm.context_window == 32768
    assert asked == ["/v1/models"]


def test_a_model_name_a_server_reports_is_one_printable_line() -> None:
    """The name reaches the terminal (the first line of a run, init, doctor): an escape
    sequence or a line break a server puts in it is dropped, the name itself kept."""

    from agent.summarize.llm.models.local import model_label, probe_local
    from tests.fakes.http_server import Reply, ScriptedHttpServer

    hostile = '{"data": [{"id": "smol\\u001b[2J\\u001b]0;pwned\\u0007\\nnext.gguf"}]}'
    with ScriptedHttpServer() as server:
        server.add("/v1/models", Reply(200, hostile.encode()))
        server.add("/props", Reply(200, b"{}"))
        probed = asyncio.run(probe_local(Settings(llm=LLMSettings(base_url=f"{server.url}/v1"))))
    name = probed.llm.model
    assert name.isprintable() and "\x1b" not in name and "\n" not in name
    assert name.startswith("smol") and name.endswith("next.gguf")
    assert model_label("/models/m\x1b[31m.gguf") == "m[31m.gguf"
