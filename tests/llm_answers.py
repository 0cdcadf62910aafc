"""Helpers for the LLM engine tests: sample papers, answers computed from a request's schema
(for in-test fake ChatModels and for the fake OpenAI server's handler), and the invariant check.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agent.core.resources import sample_corpus_path
from agent.models import Paper, Summary, Usage
from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest
from agent.summarize.llm.models.json_schema import closed_json_schema
from tests.fakes.openai_server import RecordedRequest, Reply, request_schema

Json = dict[str, Any]


def sample_papers(count: int | None = None) -> list[Paper]:
    """Papers of the bundled sample day; beyond its 207, copies under synthesised ids."""
    lines = sample_corpus_path().read_text(encoding="utf-8").splitlines()
    base = [Paper.model_validate(json.loads(line)) for line in lines if line.strip()]
    if count is None or count <= len(base):
        return base[: count or len(base)]
    out = list(base)
    for i in range(len(base), count):
        p = base[i % len(base)]
        out.append(p.model_copy(update={"id": f"syn-{i:05d}"}))
    return out


def _enum_values(schema: Any) -> list[str]:
    if isinstance(schema, dict):
        if "enum" in schema:
            return list(schema["enum"])
        if isinstance(schema.get("const"), str):  # a call of one paper: Literal["P1"]
            return [schema["const"]]
        for value in schema.values():
            found = _enum_values(value)
            if found:
                return found
    if isinstance(schema, list):
        for value in schema:
            found = _enum_values(value)
            if found:
                return found
    return []


def _has_key(schema: Any, key: str) -> bool:
    if isinstance(schema, dict):
        return key in schema or any(_has_key(v, key) for v in schema.values())
    if isinstance(schema, list):
        return any(_has_key(v, key) for v in schema)
    return False


def answer_from_schema(schema: Mapping[str, Any], *, themes: int = 3, prompt: str = "") -> Json:
    """A valid answer for any of the engine's schemas: ids split into `themes` groups, one
    blurb per id, short texts."""
    props = schema.get("properties", {})
    ids = _enum_values(schema)
    if "themes" in props:
        member = "theme_ids" if _has_key(schema, "theme_ids") else "paper_ids"
        k = max(1, min(themes, len(ids), props["themes"].get("maxItems", themes)))
        size = -(-len(ids) // k)
        chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
        return {
            "themes": [
                {
                    "title": f"Theme {chunk[0]}-{len(chunks)}",
                    "summary": "Papers on one subject.",
                    member: chunk,
                }
                for chunk in chunks
            ]
        }
    if "blurbs" in props:
        return {
            "summary": "These papers share one subject.",
            "blurbs": [
                {
                    "paper_id": i,
                    "blurb": f"They built a method and report a result ({i}).",
                    "why_it_matters": "It may help practitioners.",
                }
                for i in ids
            ],
        }
    if "headline" in props:
        return {"headline": "Today: several themes. Read on."}
    if "overview" in props:
        return {"overview": "These papers look at the topic from several sides."}
    if "queries" in props:
        return {"queries": ["sparse attention", "efficient attention mechanisms"]}
    raise AssertionError(f"unexpected schema: {sorted(props)}")


def request_answer(request: ChatRequest, *, themes: int = 3) -> Json:
    schema = closed_json_schema(request.schema, strict=True)
    return answer_from_schema(schema, themes=themes)


def handler(themes: int = 3) -> Callable[[Json], Reply]:
    """A fake-server handler that answers every request validly from its schema."""

    def answer(body: Json) -> Reply:
        schema, as_tool = request_schema(body)
        assert schema, "request without a schema"
        content = answer_from_schema(schema, themes=themes, prompt=RecordedRequest.text_of(body))
        return Reply(content, tool_call=as_tool)

    return answer


Script = Callable[[ChatRequest], "str | Json | BaseException"]


class ScriptedModel(ChatModel):
    """A fake ChatModel: answers from `script(request)` (a JSON-able dict, raw text, or an
    exception to raise), else valid answers from the schema; records every request."""

    def __init__(
        self,
        name: str = "fake-model",
        script: Script | None = None,
        *,
        themes: int = 3,
        delay: float = 0.0,
    ) -> None:
        self.name = name
        self.script = script
        self.themes = themes
        self.delay = delay
        self.requests: list[ChatRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            answer = self.script(request) if self.script else None
            if answer is None:
                answer = request_answer(request, themes=self.themes)
            if isinstance(answer, BaseException):
                raise answer
            text = answer if isinstance(answer, str) else json.dumps(answer)
            usage = Usage(calls=1, input_tokens=100, output_tokens=len(text) // 4)
            return ChatAnswer(text=text, finish_reason="stop", model=self.name, usage=usage)
        finally:
            self.in_flight -= 1

    def steps(self) -> list[str]:
        return [r.step for r in self.requests]


def user_text(request: ChatRequest) -> str:
    return "\n".join(m["content"] for m in request.messages if m["role"] == "user")


def assert_complete(summary: Summary, papers: Sequence[Paper]) -> None:
    """Every input paper exactly once across the themes, each with a non-empty blurb."""
    placed = [b.paper_id for t in summary.themes for b in t.papers]
    assert sorted(placed) == sorted({p.id for p in papers}), "papers lost or duplicated"
    assert all(b.blurb.strip() for t in summary.themes for b in t.papers)
    assert all(t.title.strip() for t in summary.themes)
    assert summary.headline.strip()
