"""Every answer an eval got, kept, so that a repeated eval is free and says the same thing.

The run's answer cache keeps only answers that validated; an eval must also replay the ones
that did not (a small local model's junk, re-asked with the error), or a repeated eval asks
the model again and, against a model that is not deterministic, gets other answers and other
scores. `KeptAnswers` keeps each whole answer of an eval (valid or not, and cut-off ones with
their finish reason) in the state database under a key of its own: a run never reads them.
They share the answer table with the run's cache, and so its cap (the oldest answers of
either kind go first past `MAX_ANSWERS`).

`twice_asked` asks one case's first request twice, through the same keeping, and says whether
the two answers were the same: a model that is not deterministic at temperature 0 with a seed
(llama.cpp is not) gets a verdict on repeats, not on one sample.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.store import Store
from agent.summarize.llm import (
    MAX_ANSWER_CHARS,
    ChatAnswer,
    ChatModel,
    ChatRequest,
    ModelUnavailable,
    UsageMeter,
    answer_from_cache,
    cache_key,
)

logger = logging.getLogger(__name__)

EVAL_KEY_PREFIX = "eval:"


def kept_key(model: str, dialect: str, request: ChatRequest, tag: str) -> str:
    """The key of an eval's answer: the run cache's key material, the output limit (an answer
    cut off at one limit is not the answer to a request with another) and a tag (the repeat,
    the probe's ask)."""
    material = f"{cache_key(model, dialect, request)}|{request.max_output_tokens}|{tag}"
    return EVAL_KEY_PREFIX + hashlib.sha256(material.encode("utf-8")).hexdigest()


class KeptAnswers(ChatModel):
    """A model whose every whole answer is kept for the eval's next run (see the module)."""

    def __init__(
        self,
        inner: ChatModel,
        store: Store | None,
        dialect: str,
        *,
        tag: str = "",
        meter: UsageMeter | None = None,
    ) -> None:
        self.inner, self.store, self.dialect, self.tag, self.meter = (
            inner,
            store,
            dialect,
            tag,
            meter,
        )
        self.name = inner.name
        self.base_url = inner.base_url

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        key = kept_key(self.name, self.dialect, request, self.tag)
        found = self._lookup(key)
        if found is not None:
            return found
        answer = await self.inner.complete(request)
        keep = answer.refusal is None and answer.text.strip() and not answer.cached
        if keep and len(answer.text) <= MAX_ANSWER_CHARS:  # the run cache's cap
            self._keep(key, answer)
        return answer

    def _lookup(self, key: str) -> ChatAnswer | None:
        if self.store is None:
            return None
        try:
            hit = self.store.cached_answer(key)
        except (sqlite3.Error, ValueError) as exc:
            logger.warning("eval answers unreadable (%s); asking the model", type(exc).__name__)
            return None
        if hit is None:
            return None
        return answer_from_cache(hit, self.name, self.meter)

    def _keep(self, key: str, answer: ChatAnswer) -> None:
        if self.store is None:
            return
        kept = {
            "answer_model": answer.model,
            "finish_reason": answer.finish_reason,
            "output_limit": answer.output_limit,
            "dialect": answer.dialect,
        }
        try:
            self.store.cache_answer(key, self.name, answer.text, kept)
        except sqlite3.Error as exc:
            logger.warning("eval answer not kept (%s)", type(exc).__name__)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class _TwiceAsked(ChatModel):
    """Asks its first request twice (each ask kept apart) and answers nothing else: the rest
    of the case goes to the offline engine at once, costing no call."""

    first: KeptAnswers
    second: KeptAnswers
    answers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = self.first.name
        self.base_url = self.first.base_url

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        if self.answers:
            raise ModelUnavailable("the determinism probe asks one request only", attempts=0)
        one = await self.first.complete(request)
        two = await self.second.complete(request)
        self.answers = [one.text, two.text]
        return one

    async def aclose(self) -> None:
        await self.first.aclose()


def twice_asked(
    model: ChatModel, store: Store | None, dialect: str, meter: UsageMeter | None = None
) -> _TwiceAsked:
    """`model` wrapped to ask its first request twice (see the module docstring). The first ask is
    kept as the first repeat's answer would be: the eval's own run of that case uses it."""
    return _TwiceAsked(
        KeptAnswers(model, store, dialect, tag="", meter=meter),
        KeptAnswers(model, store, dialect, tag="probe-2", meter=meter),
    )


def same_answers(probe: _TwiceAsked) -> bool | None:
    """Whether the probe's two answers were the same; None when it got none."""
    if len(probe.answers) < 2:
        return None
    return probe.answers[0] == probe.answers[1]


def smallest_case(cases: Sequence[Any]) -> Any | None:
    """The case with the fewest papers (at least two: one grouping call), for the probe."""
    grouped = [c for c in cases if len(c.papers) >= 2] or list(cases)
    return min(grouped, key=lambda c: len(c.papers)) if grouped else None


__all__ = [
    "EVAL_KEY_PREFIX",
    "KeptAnswers",
    "kept_key",
    "same_answers",
    "smallest_case",
    "twice_asked",
]
