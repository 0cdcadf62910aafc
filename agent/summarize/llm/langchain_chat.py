"""Any LangChain chat model, plugged in by import path (settings.llm.chat_model "module:Class").

Structured output goes through the model's own ``with_structured_output(schema,
include_raw=True)`` when it has one; the raw answer (tool call arguments or content) is returned
and validated by the steps side like any other. A model without it (e.g. LangChain's fake chat
models) is asked in plain text with the JSON schema at the end of the last user message.

Transport retries, the time budget, the circuit breaker and the cost cap are the same as for
`OpenAIChatModel`. There is no "larger max_tokens" retry here (LangChain models do not share one
name for the limit): a cut-off answer raises `AnswerTruncated` at once.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from agent.config import LLMSettings
from agent.errors import ConfigError
from agent.models import Usage
from agent.one_line import one_line
from agent.summarize.llm.chat import (
    ChatAnswer,
    ChatRequest,
    closed_json_schema,
    with_schema_in_prompt,
)
from agent.summarize.llm.completion import MeteredChatModel, Turn
from agent.summarize.llm.errors import ModelUnavailable
from agent.summarize.llm.meter import UsageMeter
from agent.summarize.llm.retry import RunClock, Sleep, TransportPolicy
from agent.summarize.llm.tokens import estimate_input_tokens

logger = logging.getLogger(__name__)

_LENGTH_REASONS = frozenset({"length", "max_tokens", "MAX_TOKENS"})
_REFUSAL_REASONS = frozenset({"content_filter", "refusal", "SAFETY"})


def load_chat_model(path: str, kwargs: Mapping[str, Any]) -> BaseChatModel:
    """Import "module:Class" and build it with `kwargs`; ConfigError when that fails."""
    module_name, _, class_name = path.partition(":")
    if not module_name or not class_name:
        raise ConfigError(f'llm.chat_model must look like "module:Class", got {path!r}')
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot import llm.chat_model {path!r}: {type(exc).__name__}") from None
    try:
        model = cls(**dict(kwargs))
    except Exception as exc:  # noqa: BLE001 (a bad kwarg: the user must fix the config)
        raise ConfigError(
            f"cannot build llm.chat_model {path!r} from llm.chat_model_kwargs: {type(exc).__name__}"
        ) from None
    if not isinstance(model, BaseChatModel):
        raise ConfigError(f"llm.chat_model {path!r} is not a LangChain chat model")
    return model


def _name_of(model: BaseChatModel, kwargs: Mapping[str, Any]) -> str:
    for key in ("model", "model_name", "model_id"):
        value = kwargs.get(key) or getattr(model, key, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def to_langchain_messages(messages: Any) -> list[BaseMessage]:
    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [
        kinds.get(m.get("role", "user"), HumanMessage)(content=m.get("content", ""))
        for m in messages
    ]


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type") in (None, "text"):
                parts.append(str(block.get("text", "")))
        return "".join(parts)
    return "" if content is None else str(content)


def _strip_fence(text: str) -> str:
    """Drop a Markdown code fence around the whole answer (plain-text mode only)."""
    stripped = text.strip()
    if not stripped.startswith("```") or not stripped.endswith("```") or len(stripped) < 6:
        return text
    body = stripped[3:-3]
    first_line, newline, rest = body.partition("\n")
    language = first_line.strip()
    if newline and (not language or language.isalnum()):  # ```json\n{...}\n```
        return rest.strip()
    return body.strip()


def _usage_of(message: BaseMessage) -> Usage:
    meta = getattr(message, "usage_metadata", None) or {}
    details = meta.get("input_token_details") or {}
    return Usage(
        calls=1,
        input_tokens=int(meta.get("input_tokens") or 0),
        output_tokens=int(meta.get("output_tokens") or 0),
        cached_tokens=int(details.get("cache_read") or 0),
    )


class LangChainChatModel(MeteredChatModel):
    """`ChatModel` over any LangChain `BaseChatModel`."""

    def __init__(
        self,
        llm: LLMSettings,
        *,
        meter: UsageMeter | None = None,
        policy: TransportPolicy | None = None,
        clock: RunClock | None = None,
        sleep: Sleep | None = None,
        chat_model: str | None = None,
        chat_model_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        path = chat_model or llm.chat_model
        if not path:
            raise ConfigError("llm.chat_model is not set")
        kwargs = dict(llm.chat_model_kwargs if chat_model_kwargs is None else chat_model_kwargs)
        self.path = path
        self.model = load_chat_model(path, kwargs)
        self.name = _name_of(self.model, kwargs)
        self._llm = llm
        self.meter = meter if meter is not None else UsageMeter(llm.prices, llm.max_cost_usd)
        self.policy = policy or TransportPolicy.from_settings(llm, clock=clock, sleep=sleep)
        self._structured: bool | None = None  # None: not tried yet

    def __repr__(self) -> str:
        return f"LangChainChatModel(name={self.name!r}, chat_model={self.path!r})"

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        async with self.policy.call(self.name):
            return await self._complete(request)

    def _runnable(self, request: ChatRequest) -> tuple[Any, list[BaseMessage], bool]:
        """(runnable, messages, structured): structured output when the model has it."""
        if self._structured is not False:
            try:
                runnable = self.model.with_structured_output(request.schema, include_raw=True)
            except (NotImplementedError, ValueError, TypeError) as exc:
                logger.info(
                    "%s: no structured output (%s); asking for JSON in the prompt",
                    self.name,
                    type(exc).__name__,
                )
                self._structured = False
            else:
                self._structured = True
                return runnable, to_langchain_messages(request.messages), True
        schema = closed_json_schema(request.schema, strict=False)
        messages = with_schema_in_prompt(request.messages, schema)
        return self.model, to_langchain_messages(messages), False

    async def _complete(self, request: ChatRequest) -> ChatAnswer:
        runnable, messages, structured = self._runnable(request)
        plain = [{"content": _text_of(m.content)} for m in messages]
        extra = json.dumps(closed_json_schema(request.schema, strict=False)) if structured else ""
        input_estimate = estimate_input_tokens(plain, self.name, extra=extra)

        async def take_turn(_max_tokens: int, turns_before: int) -> Turn:
            result = await self.policy.send(self.name, lambda: self._invoke(runnable, messages))
            raw, parsed = (
                (result.get("raw"), result.get("parsed")) if structured else (result, None)
            )
            if not isinstance(raw, BaseMessage):
                raise ModelUnavailable(
                    f"{self.name}: the chat model returned no message", attempts=turns_before + 1
                )
            return self._turn_of(raw, parsed, structured)

        return await self.answer_in_turns(request, input_estimate, take_turn)

    def _turn_of(self, raw: BaseMessage, parsed: Any, structured: bool) -> Turn:
        meta = raw.response_metadata or {}
        finish = str(meta.get("finish_reason") or meta.get("stop_reason") or "stop")
        refusal = (raw.additional_kwargs or {}).get("refusal")
        refused = one_line(refusal) if refusal else None
        if finish in _REFUSAL_REASONS and not refused:
            refused = finish
        return Turn(
            text=self._answer_text(raw, parsed, structured),
            finish_reason="stop",
            model=str(meta.get("model_name") or meta.get("model") or self.name),
            priced_as=self.name,
            usage=_usage_of(raw),
            cut_off=finish in _LENGTH_REASONS,
            refusal=refused,
            refusal_text=str(refusal) if refusal else None,
        )

    async def _invoke(self, runnable: Any, messages: list[BaseMessage]) -> Any:
        return await self.policy.bounded(runnable.ainvoke(messages), self._llm.timeout_seconds)

    @staticmethod
    def _answer_text(raw: BaseMessage, parsed: Any, structured: bool) -> str:
        tool_calls = getattr(raw, "tool_calls", None) or []
        if tool_calls:
            return json.dumps(tool_calls[0].get("args", {}), ensure_ascii=False)
        text = _text_of(raw.content)
        if text.strip():
            return text if structured else _strip_fence(text)
        if isinstance(parsed, BaseModel):
            return parsed.model_dump_json()
        if isinstance(parsed, dict):
            return json.dumps(parsed, ensure_ascii=False)
        return ""


__all__ = ["LangChainChatModel", "load_chat_model", "to_langchain_messages"]
