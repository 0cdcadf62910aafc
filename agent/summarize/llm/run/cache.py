"""The model answer cache: a re-run of the same day, or a repeated eval, costs no tokens.

Keyed by sha256 over (model, dialect, step, prompt version, the answer schema, the messages).
Nothing secret goes in: no key, no base URL. Only complete answers (finish_reason "stop") that
the caller validated are stored (`ChatAnswer.validated`), so an invalid, cut-off or salvaged
answer is never served again; one that validated but that its step could not use
(`Reply.unusable`: no whole sentence, no usable query) is dropped again (`ChatAnswer.forget`).
What the cache keeps is capped: answers over MAX_ANSWER_CHARS are not stored, and beyond
MAX_ANSWERS rows the oldest are dropped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sqlite3
from typing import Any

import pydantic

from agent.models import Usage
from agent.store import AnswerCache, CachedAnswer
from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest
from agent.summarize.llm.run.meter import UsageMeter

logger = logging.getLogger(__name__)

CACHE_KEY_VERSION = 1  # bump when the key material changes shape
MAX_ANSWER_CHARS = 200_000  # a bigger answer is not kept (no schema of ours needs one)
MAX_ANSWERS = 20_000  # rows kept; the oldest go first
TRIM_EVERY = 100  # saves between two trims


def schema_key(schema: type[pydantic.BaseModel]) -> str:
    """The Pydantic JSON schema as canonical JSON (sorted keys): a cache-key part."""
    return json.dumps(schema.model_json_schema(), sort_keys=True, ensure_ascii=False)


def cache_key(model: str, dialect: str, request: ChatRequest) -> str:
    """sha256 hex of the request's identity (max_output_tokens is left out: only complete
    answers are cached, and a complete answer does not depend on the limit)."""
    material = {
        "v": CACHE_KEY_VERSION,
        "model": model,
        "dialect": dialect,
        "step": request.step,
        "prompt_version": request.prompt_version,
        "schema_name": request.schema_name,
        "schema": schema_key(request.schema),
        "messages": [
            {"role": m.get("role", ""), "content": m.get("content", "")} for m in request.messages
        ],
    }
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def answer_from_cache(hit: CachedAnswer, name: str, meter: UsageMeter | None) -> ChatAnswer:
    """A kept answer as model `name`'s answer: a cache hit on `meter`, with the model and
    dialect it was asked in, and (an eval keeps them) its finish reason and output limit."""
    usage = Usage(cache_hits=1)
    if meter is not None:
        meter.add(name, usage)
    kept: dict[str, Any] = hit.usage if isinstance(hit.usage, dict) else {}
    limit, dialect = kept.get("output_limit"), kept.get("dialect")
    return ChatAnswer(
        text=hit.answer,
        finish_reason=str(kept.get("finish_reason") or "stop"),
        model=str(kept.get("answer_model") or name),
        usage=usage,
        cached=True,
        output_limit=limit if isinstance(limit, int) else None,
        dialect=dialect if isinstance(dialect, str) else None,
    )


class CachedChatModel(ChatModel):
    """Wraps a model with the SQLite answer cache. A hit makes no model call, does not touch the
    inner model's circuit breaker, and reports ``Usage(cache_hits=1)``."""

    def __init__(
        self,
        inner: ChatModel,
        store: AnswerCache,
        dialect: str,
        *,
        meter: UsageMeter | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.base_url = inner.base_url
        self.dialect = dialect
        self.store = store
        self.meter = meter
        self._saves = 0

    def __repr__(self) -> str:
        return f"CachedChatModel({self.inner!r}, dialect={self.dialect!r})"

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        key = cache_key(self.name, self.dialect, request)
        hit = self._lookup(key)
        if hit is not None:
            logger.debug("%s: %s answer from the cache", self.name, request.step)
            served = answer_from_cache(hit, self.name, self.meter)
            return dataclasses.replace(served, forget=lambda: self._forget(key))
        answer = await self.inner.complete(request)
        if answer.complete and not answer.cached and len(answer.text) <= MAX_ANSWER_CHARS:
            return dataclasses.replace(
                answer, keep=lambda: self._save(key, answer), forget=lambda: self._forget(key)
            )
        return answer

    def _lookup(self, key: str) -> CachedAnswer | None:
        try:
            return self.store.cached_answer(key)
        except (sqlite3.Error, ValueError) as exc:
            logger.warning("model cache unreadable (%s); asking the model", type(exc).__name__)
            return None

    def _forget(self, key: str) -> None:
        try:
            self.store.forget_answer(key)
        except sqlite3.Error as exc:
            logger.warning("model cache: an unusable answer not dropped (%s)", type(exc).__name__)

    def _save(self, key: str, answer: ChatAnswer) -> None:
        usage = {
            "answer_model": answer.model,
            "dialect": answer.dialect,
            "input_tokens": answer.usage.input_tokens,
            "output_tokens": answer.usage.output_tokens,
            "cached_tokens": answer.usage.cached_tokens,
            "cost_usd": answer.usage.cost_usd,
        }
        try:
            self.store.cache_answer(key, self.name, answer.text, usage)
            self._saves += 1
            if self._saves % TRIM_EVERY == 1:
                dropped = self.store.trim_cache(MAX_ANSWERS)
                if dropped:
                    logger.info("model cache: dropped the %d oldest answers", dropped)
        except sqlite3.Error as exc:
            logger.warning("model cache not written (%s)", type(exc).__name__)


__all__ = [
    "CACHE_KEY_VERSION",
    "MAX_ANSWERS",
    "MAX_ANSWER_CHARS",
    "CachedChatModel",
    "answer_from_cache",
    "cache_key",
    "schema_key",
]
