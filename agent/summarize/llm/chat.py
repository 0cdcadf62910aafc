"""The boundary every layer of the model path meets at: a request, an answer, a model.

A `ChatModel` answers one `ChatRequest` with one `ChatAnswer`, as the model gave it: the answer
may be cut off, empty or a refusal. Deciding what to do about that (ask again, re-ask with the
validation error, give up) is the asker's job (`asking.ask`); the adapters under it only carry
the request there and the answer back (`models/`).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field

import pydantic

from agent.models import Usage

CUT_OFF = "length"  # the finish reason of an answer that hit the output limit
# How providers say it (OpenAI, Anthropic, Gemini, through the SDK or LangChain).
_CUT_OFF_REASONS = frozenset({"length", "max_tokens", "MAX_TOKENS"})
_REFUSAL_REASONS = frozenset({"content_filter", "refusal", "SAFETY"})


def finish_of(reason: str | None) -> str:
    """A provider's finish reason in the boundary's words: CUT_OFF, else "stop" (a refusal is
    said apart, by `refusal_of`)."""
    return CUT_OFF if reason in _CUT_OFF_REASONS else "stop"


def refusal_of(words: str | None, reason: str | None) -> str | None:
    """Why the model refused: its own words (on one line), else "content filter" when the
    finish reason says it was refused or filtered; None when it answered."""
    if words:
        return " ".join(words.split())
    return "content filter" if reason in _REFUSAL_REASONS else None


@dataclass(frozen=True)
class ChatRequest:
    """One structured-output question to a chat model."""

    step: str  # "grouping", "blurbs", "headline", "overview", "expand_query", "judge"
    messages: tuple[dict[str, str], ...]  # {"role": "system"|"user"|"assistant", "content": str}
    schema: type[pydantic.BaseModel]  # the answer must validate against this
    schema_name: str  # tool / json_schema name, e.g. "grouping"
    max_output_tokens: int
    prompt_version: str  # content hash of the prompt files used (cache key part)
    # Asked again within one question (after a cut-off, empty or invalid answer): the Batch
    # API model sends these directly instead of waiting for another batch.
    follow_up: bool = False


@dataclass(frozen=True)
class ChatAnswer:
    """The raw answer; validation against `request.schema` is the caller's job."""

    text: str  # raw JSON text (message content, or the tool call's arguments)
    finish_reason: str  # "stop", CUT_OFF ("length") when the output limit cut it, ...
    model: str  # the model name that answered
    usage: Usage  # this call only (calls=1, or cache_hits=1 and zero tokens when cached)
    cached: bool = False
    refusal: str | None = None  # the model refused: its own words, or "content filter"
    output_limit: int | None = None  # the output-token limit sent (None: the adapter sends none)
    dialect: str | None = None  # how the request asked for JSON (None: no dialects, LangChain)
    # Why an answer has no text, when the adapter can tell (a reasoning model spent its
    # output thinking): said in the error when no answer comes.
    why_empty: str | None = None
    # (prompt tokens the server read, tokens sent) when it read clearly fewer: it cut the
    # prompt to its context length (Ollama does, silently).
    prompt_cut: tuple[int, int] | None = None
    # Set by the answer cache: the caller calls `keep` once the answer validated, so that only
    # valid answers are kept (an invalid or salvaged one is never served again), and `forget`
    # when its step then cannot use it, which drops it again (whether just kept or a hit).
    keep: Callable[[], None] | None = field(default=None, compare=False, repr=False)
    forget: Callable[[], None] | None = field(default=None, compare=False, repr=False)

    @property
    def cut_off(self) -> bool:
        return self.finish_reason == CUT_OFF

    @property
    def complete(self) -> bool:
        """A whole, non-empty answer that is not a refusal (what a cache may keep)."""
        return not self.cut_off and self.refusal is None and bool(self.text.strip())

    def validated(self) -> None:
        """Say that this answer passed validation (a cache may now keep it)."""
        if self.keep is not None:
            self.keep()


class ChatModel(abc.ABC):
    """A chat model that answers one `ChatRequest` with one `ChatAnswer`."""

    name: str
    base_url: str | None = None  # where the requests go (None: the provider's default or LangChain)

    @abc.abstractmethod
    async def complete(self, request: ChatRequest) -> ChatAnswer:
        """One request, one answer as the model gave it; raises a `ModelError` (`llm.errors`)
        when no answer came (the transport gave up, the budget is spent)."""

    async def aclose(self) -> None:  # optional hook: nothing to close by default
        """Release network resources (HTTP clients); safe to call more than once."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


__all__ = ["CUT_OFF", "ChatAnswer", "ChatModel", "ChatRequest", "finish_of", "refusal_of"]
