"""Build the run's chat models from settings: [primary, fallback?], ready to use.

Layers, inside out: the run's `Transport` (retries, deadline, rate limit, circuit breaker) under
each adapter (the openai SDK, or a LangChain model), the Batch API model over the primary when
the run may batch, then the answer cache outside, so that a cache hit costs no call and never
counts for or against the breaker. Primary and fallback share the run's budget (one time
budget, one cost cap) and rate limit, but each has its own breaker (a primary outage does not
close the fallback).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from agent.config import LLMSettings
from agent.store import ModelStore
from agent.summarize.llm.chat import ChatModel
from agent.summarize.llm.models.batch import BatchChatModel, BatchStats
from agent.summarize.llm.models.batch.deadline import seconds_left
from agent.summarize.llm.models.langchain_chat import LangChainChatModel
from agent.summarize.llm.models.local import local_llm
from agent.summarize.llm.models.openai_chat import OpenAIChatModel
from agent.summarize.llm.models.transport import Sleep, Transport
from agent.summarize.llm.run.budget import Budget, Clock
from agent.summarize.llm.run.cache import CachedChatModel
from agent.summarize.llm.run.limit import AdaptiveLimit
from agent.summarize.llm.run.meter import UsageMeter
from agent.summarize.llm.run.window import ContextWindow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shared:
    """What the models of one engine run share, beside the settings and the store."""

    meter: UsageMeter  # usage and cost, charged to the run's budget (`meter.budget`)
    limit: AdaptiveLimit | None = None  # the rate limit; default: one of llm.concurrency
    sleep: Sleep | None = None  # the retry waits (tests move a fake clock)
    # Given: the primary answers through the Batch API (when `[llm] batch`) and counts here.
    batch: BatchStats | None = None
    report: Callable[[str], None] | None = None  # hears "waiting for batch ..."


def run_budget(llm: LLMSettings, *, clock: Clock = time.monotonic) -> Budget:
    """A run's budget from `[llm]` (the local-server defaults applied: a local server gets
    more time): create one per run and give it to every engine of the run. Its seconds count
    from now, on `clock`."""
    return Budget.from_settings(local_llm(llm), clock=clock)


def run_limit(llm: LLMSettings) -> AdaptiveLimit:
    """A run's rate limit from `[llm] concurrency` (the local-server defaults applied: one
    call at a time): create one per run and give it to every engine of the run, so that a
    429 met by one stage holds for the next."""
    return AdaptiveLimit(local_llm(llm).concurrency)


def run_window(llm: LLMSettings) -> ContextWindow:
    """A run's context window from `[llm] context_window` (the local-server defaults applied:
    the window the server reports): create one per run and give it to every engine of the
    run, so that a window a server showed smaller holds for the run's later calls."""
    return ContextWindow(local_llm(llm).context_window)


def batches(llm: LLMSettings, allowed: bool) -> bool:
    """Whether a run that may batch (`allowed`) sends its primary's requests through the
    Batch API: `[llm] batch`, on an OpenAI-compatible endpoint."""
    if not (allowed and llm.batch):
        return False
    if llm.chat_model:
        logger.warning("batch mode needs an OpenAI-compatible endpoint; direct calls instead")
        return False
    return True


def build_chat_models(
    llm: LLMSettings, store: ModelStore | None, shared: Shared, *, use_cache: bool
) -> list[ChatModel]:
    """[primary, fallback?]; empty when no model is configured (no key, base URL or chat_model).

    A local base URL gets the local-server defaults (`models.local.local_llm`). The cache
    wraps each model when `use_cache`, `llm.cache` and a `store` are all there.
    With `shared.batch`, the time spent waiting for batches, up to the batch deadline, does not
    count against the run's time budget for direct calls.
    """
    if not llm.configured:
        return []
    llm = local_llm(llm)
    wiring = _Wiring(
        shared, shared.limit or AdaptiveLimit(llm.concurrency), _grace(llm, shared), store
    )
    primary = wiring.adapter(llm)
    if shared.batch is not None and isinstance(primary, OpenAIChatModel):
        report = shared.report
        primary = BatchChatModel(primary, llm, store=store, stats=shared.batch, report=report)
    fallback = fallback_settings(llm)
    models = [primary] if fallback is None else [primary, wiring.adapter(fallback)]
    if not (use_cache and llm.cache and store is not None):
        return models
    return [CachedChatModel(m, store, llm.dialect, meter=shared.meter) for m in models]


def _grace(llm: LLMSettings, shared: Shared) -> float:
    """The time batch waits may take beyond the run's time budget: up to the batch deadline."""
    if shared.batch is None or llm.chat_model:
        return 0.0
    return max(0.0, seconds_left(llm.batch_deadline))


@dataclass(frozen=True)
class _Wiring:
    """What each adapter of the run is built with (the rate limit is one for the run)."""

    shared: Shared
    limit: AdaptiveLimit
    grace: float
    store: ModelStore | None

    def adapter(self, llm: LLMSettings) -> ChatModel:
        """The adapter of `llm` (LangChain or the openai SDK) on its own transport."""
        meter = self.shared.meter
        transport = Transport(
            llm,
            budget=meter.budget,
            limit=self.limit,
            sleep=self.shared.sleep,
            grace_seconds=self.grace,
        )
        if llm.chat_model:
            return LangChainChatModel(llm, transport=transport, meter=meter)
        return OpenAIChatModel(llm, transport=transport, meter=meter, memory=self.store)


def fallback_settings(llm: LLMSettings) -> LLMSettings | None:
    """The fallback model's settings, or None when there is no (distinct) fallback.

    With `fallback_base_url` (a different endpoint) the primary's API key is NOT sent there:
    the fallback gets no key (local servers take any). Otherwise it shares base URL and key.
    A LangChain primary gets a LangChain fallback with ``model=fallback_model`` in its kwargs,
    unless `fallback_base_url` points at an OpenAI-compatible server.
    """
    if not llm.fallback_model:
        return None
    other_endpoint = bool(llm.fallback_base_url) and llm.fallback_base_url != llm.base_url
    if llm.fallback_model == llm.model and not other_endpoint and not llm.chat_model:
        return None
    update: dict[str, object] = {"model": llm.fallback_model}
    if other_endpoint:
        update.update(base_url=llm.fallback_base_url, api_key=None, chat_model=None)
    elif llm.chat_model:
        if llm.chat_model_kwargs.get("model") == llm.fallback_model:
            return None
        update["chat_model_kwargs"] = {**llm.chat_model_kwargs, "model": llm.fallback_model}
    return llm.model_copy(update=update)


__all__ = [
    "Shared",
    "batches",
    "build_chat_models",
    "fallback_settings",
    "run_budget",
    "run_limit",
    "run_window",
]
