"""The fake server as a small local model behind llama-cpp-python's server behaves.

``llama_cpp_python(...)`` is the server as `python -m llama_cpp.server --model PATH` runs it
(``FakeOpenAIServer(handler=SmallLocalModel(...), single_slot=True, models=(GGUF_PATH,))``):

- one request at a time (``single_slot``);
- GET /v1/models lists the GGUF path it was started with (no ``--model_alias``), and every
  answer names whatever model the request asked for (the server echoes it);
- HTTP 500 for ``response_format: json_schema`` (llama-cpp-python's server does that);
- raw newlines inside JSON strings (grammar-constrained output does that);
- blurbs written from the abstracts in the prompt (`blurb_writers.plain_blurb`), other texts
  from a few fixed sentences;
- not deterministic: the same request asked twice gets different words (llama.cpp is not, at
  temperature 0 with a seed); ``deterministic=True`` answers a request by its text alone;
- with ``junk``, answers that fit the schema but say nothing, one kind per name in
  ``JUNK_KINDS``; ``stubborn=False`` answers a re-ask (a message carrying the validation
  error) properly, ``stubborn=True`` repeats the junk whatever it is told.

Junk goes into the first item of an answer (the first blurb, the first theme), so a run with
stubborn junk has one offline blurb per blurbs call.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.blurb_writers import papers_in, plain_blurb
from tests.fakes.openai_server import (
    Answer,
    FakeOpenAIServer,
    Fault,
    RecordedRequest,
    Reply,
    request_schema,
)
from tests.fakes.schema_instance import schema_instance

LOCAL_MODEL = "smollm2-135m-instruct-q8_0.gguf"
GGUF_PATH = f"/srv/models/{LOCAL_MODEL}"  # what llama-cpp-python lists without --model_alias
JUNK_KINDS = (
    "instructions",  # a blurb that repeats the prompt's instructions
    "title",  # a blurb equal to its paper's title
    "brackets",  # a field with no letters: the theme summary of a blurbs answer is "]["
    "id_title",  # a theme titled "P1"
    "paper_title_theme",  # a theme of several papers titled with one paper's title
    "bare_headline",  # a headline that is only "Today at a glance"
    "empty_blurbs",  # an empty blurb list
    "foreign_queries",  # query expansions in another language, no word of the topic
)
COPIED_INSTRUCTIONS = "what they did and what they found, at most 60 words, jargon glossed"
REASK_MARK = "did not pass validation"
_SENTENCES = (
    "The authors test a simple idea on a public benchmark.",
    "It works better than the usual baseline.",
    "A small model learns the task with fewer examples.",
    "The method is cheap to run on one machine.",
)


@dataclass
class SmallLocalModel:
    """A handler for `FakeOpenAIServer`: see the module docstring."""

    junk: frozenset[str] = frozenset()
    stubborn: bool = False
    raw_newlines: bool = True
    rejects_json_schema: bool = True  # False: a server that takes it (llama-server, Ollama, vLLM)
    deterministic: bool = False  # True: the same request always gets the same answer
    _turn: itertools.count = field(default_factory=itertools.count, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.junk) - set(JUNK_KINDS)
        if unknown:
            raise ValueError(f"unknown junk kinds: {sorted(unknown)}")

    def __call__(self, body: Mapping[str, Any]) -> Answer:
        fmt = body.get("response_format") or {}
        if fmt.get("type") == "json_schema" and self.rejects_json_schema:
            return Fault.http(500, {"detail": "Internal Server Error (json_schema not supported)"})
        schema, as_tool = request_schema(body)
        if schema is None:
            return Reply("The fake local model says hello.")
        if self.deterministic:  # the words follow from the request, not from the call count
            digest = hashlib.sha256(RecordedRequest.text_of(body).encode()).digest()
            self._turn = itertools.count(digest[0])
        value = schema_instance(schema, text=self._words)
        if isinstance(value, dict) and value.get("blurbs"):  # each about its own paper
            prompt = RecordedRequest.text_of(body)
            shown = {sid: plain_blurb(t, a) for sid, t, a in papers_in(prompt)}
            for entry in value["blurbs"]:
                entry["blurb"] = shown.get(entry["paper_id"], entry["blurb"])
        reasked = REASK_MARK in _last_user(body)
        if self.junk and (self.stubborn or not reasked):
            value = self._spoil(value, RecordedRequest.text_of(body))
        text = json.dumps(value, ensure_ascii=False)
        if self.raw_newlines:
            text = text.replace("\\n", "\n")  # a raw newline inside a JSON string
        return Reply(text, tool_call=as_tool)

    def _words(self, name: str, min_length: int, max_length: int | None) -> str:
        start = next(self._turn)
        text = f"{_SENTENCES[start % 4]}\n{_SENTENCES[(start + 1) % 4]}"
        if name in ("title", "queries"):
            text = "Learning with fewer examples" if name == "title" else "sparse attention"
        while len(text) < min_length:
            text += " More words."
        return text if max_length is None else text[:max_length].rstrip()

    def _spoil(self, value: Any, prompt: str) -> Any:
        if not isinstance(value, dict):
            return value
        if "blurbs" in value:
            if "brackets" in self.junk:
                value["summary"] = "]["
            if "empty_blurbs" in self.junk:
                value["blurbs"] = []
            elif value["blurbs"]:
                first = value["blurbs"][0]
                if "instructions" in self.junk:
                    first["blurb"] = COPIED_INSTRUCTIONS
                elif "title" in self.junk:
                    first["blurb"] = _title_of(prompt, first["paper_id"]) or first["blurb"]
        if "themes" in value and "id_title" in self.junk and value["themes"]:
            value["themes"][0]["title"] = "P1"
        if "themes" in value and "paper_title_theme" in self.junk and value["themes"]:
            themes = value["themes"]
            if len(themes) > 1 and len(themes[0].get("paper_ids", [])) < 2:  # give it two papers
                themes[0]["paper_ids"] += themes.pop(1)["paper_ids"]
            first = themes[0].get("paper_ids") or [""]
            themes[0]["title"] = _grouped_title_of(prompt, first[0]) or themes[0]["title"]
        if "headline" in value and "bare_headline" in self.junk:
            value["headline"] = "Today at a glance"
        if "queries" in value and "foreign_queries" in self.junk:
            value["queries"] = ["注意力机制", "稀疏注意力模型"]
        return value


def llama_cpp_python(*, models: tuple[str, ...] = (GGUF_PATH,), **model: Any) -> FakeOpenAIServer:
    """The fake server as llama-cpp-python's serves one GGUF file (see the module docstring);
    `model` goes to `SmallLocalModel`."""
    return FakeOpenAIServer(handler=SmallLocalModel(**model), single_slot=True, models=models)


def _last_user(body: Mapping[str, Any]) -> str:
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    return RecordedRequest.text_of({"messages": users[-1:]})


def _title_of(prompt: str, sid: str) -> str | None:
    start = prompt.find(f'<paper id="{sid}">')
    if start == -1:
        return None
    start += len(f'<paper id="{sid}">')
    end = prompt.find("\n", start)
    return prompt[start : end if end != -1 else None].strip()


def _grouped_title_of(prompt: str, sid: str) -> str | None:
    """The title on a grouping prompt's line ``P3: Title. Key sentence``."""
    for line in prompt.splitlines():
        if line.startswith(f"{sid}: "):
            return line.removeprefix(f"{sid}: ").split(". ", 1)[0].strip()
    return None


__all__ = [
    "COPIED_INSTRUCTIONS",
    "GGUF_PATH",
    "JUNK_KINDS",
    "LOCAL_MODEL",
    "SmallLocalModel",
    "llama_cpp_python",
]
