"""Any LangChain chat model, plugged in by import path (settings.llm.chat_model "module:Class").

Structured output goes through the model's own ``with_structured_output(schema,
include_raw=True)`` when it has one; the raw answer (tool call arguments or content) is returned
and validated by the asker like any other. A model without it (e.g. LangChain's fake chat
models) is asked in plain text with the JSON schema at the end of the last user message.

The call goes through the same `Transport` as `OpenAIChatModel`'s (retries, deadline, rate
limit, circuit breaker) and is checked against the same budget. No output limit is sent
(LangChain models do not share one name for it), so a cut-off answer is not asked again with a
larger one (`ChatAnswer.output_limit` is None).
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from agent.config import LLMSettings
from agent.errors import ConfigError
from agent.models import Usage
from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest, finish_of, refusal_of
from agent.summarize.llm.errors import ModelUnavailable
from agent.summarize.llm.models.json_schema import closed_json_schema, with_schema_in_prompt
from agent.summarize.llm.models.transport import Transport
from agent.summarize.llm.run.budget import Budget
from agent.summarize.llm.run.meter import UsageMeter
from agent.summarize.llm.run.tokens import estimate_input_tokens

logger = logging.getLogger(__name__)


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
    meta: dict[str, Any] = dict(
        (message.usage_metadata if isinstance(message, AIMessage) else None) or {}
    )
    details = meta.get("input_token_details") or {}
    return Usage(
        calls=1,
        input_tokens=int(meta.get("input_tokens") or 0),
        output_tokens=int(meta.get("output_tokens") or 0),
        cached_tokens=int(details.get("cache_read") or 0),
    )


class LangChainChatModel(ChatModel):
    """`ChatModel` over any LangChain `BaseChatModel` (defaults as `OpenAIChatModel`'s)."""

    def __init__(
        self,
        llm: LLMSettings,
        *,
        transport: Transport | None = None,
        meter: UsageMeter | None = None,
    ) -> None:
        if not llm.chat_model:
            raise ConfigError("llm.chat_model is not set")
        self.path = llm.chat_model
        self.model = load_chat_model(self.path, llm.chat_model_kwargs)
        self.name = _name_of(self.model, llm.chat_model_kwargs)
        self.meter = meter or UsageMeter(llm.prices, Budget.from_settings(llm))
        self.transport = transport or Transport(llm, budget=self.meter.budget)
        self._structured: bool | None = None  # None: not tried yet

    def __repr__(self) -> str:
        return f"LangChainChatModel(name={self.name!r}, chat_model={self.path!r})"

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

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        """One call, checked against the budget first and metered."""
        started = time.monotonic()
        runnable, messages, structured = self._runnable(request)
        plain = [{"content": _text_of(m.content)} for m in messages]
        extra = json.dumps(closed_json_schema(request.schema, strict=False)) if structured else ""
        self.meter.check(
            self.name,
            estimate_input_tokens(plain, self.name, extra=extra),
            request.max_output_tokens,
        )
        result = await self.transport.send(lambda _timeout: runnable.ainvoke(messages))
        raw, parsed = (result.get("raw"), result.get("parsed")) if structured else (result, None)
        if not isinstance(raw, BaseMessage):
            raise ModelUnavailable(f"{self.name}: the chat model returned no message", attempts=1)
        usage = _usage_of(raw)
        self.meter.add(self.name, usage)
        wall = round(time.monotonic() - started, 3)
        priced = self.meter.priced(self.name, usage).model_copy(update={"wall_seconds": wall})
        return self._answer(raw, parsed, structured, priced)

    def _answer(self, raw: BaseMessage, parsed: Any, structured: bool, usage: Usage) -> ChatAnswer:
        meta = raw.response_metadata or {}
        finish = str(meta.get("finish_reason") or meta.get("stop_reason") or "stop")
        refusal = (raw.additional_kwargs or {}).get("refusal")
        return ChatAnswer(
            text=self._answer_text(raw, parsed, structured),
            finish_reason=finish_of(finish),
            model=str(meta.get("model_name") or meta.get("model") or self.name),
            usage=usage,
            refusal=refusal_of(str(refusal) if refusal else None, finish),
        )

    @staticmethod
    def _answer_text(raw: BaseMessage, parsed: Any, structured: bool) -> str:
        tool_calls = raw.tool_calls if isinstance(raw, AIMessage) else []
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
