"""Build the run's chat models from settings: [primary, fallback?], ready to use.

Layers, inside out: the transport (OpenAI-compatible SDK or a LangChain model) with its retries,
time budget and circuit breaker, then the answer cache outside, so that a cache hit costs no
call and never counts for or against the breaker. Primary and fallback share the run's clock
(one time budget) but each has its own breaker (a primary outage does not close the fallback).
"""

from __future__ import annotations

import logging

from agent.config import LLMSettings, Settings
from agent.store import Store
from agent.summarize.llm.batch import BatchChatModel
from agent.summarize.llm.batch.deadline import seconds_left
from agent.summarize.llm.cache import CachedChatModel
from agent.summarize.llm.chat import ChatModel
from agent.summarize.llm.langchain_chat import LangChainChatModel
from agent.summarize.llm.local import with_local_defaults
from agent.summarize.llm.meter import UsageMeter
from agent.summarize.llm.openai_chat import OpenAIChatModel
from agent.summarize.llm.retry import RunClock, Sleep, TransportPolicy

logger = logging.getLogger(__name__)


def build_chat_models(
    settings: Settings,
    store: Store | None,
    meter: UsageMeter,
    *,
    use_cache: bool,
    clock: RunClock | None = None,
    sleep: Sleep | None = None,
    batch: bool = False,
) -> list[ChatModel]:
    """[primary, fallback?]; empty when no model is configured (no key, base URL or chat_model).

    A local base URL gets the local-server defaults (`local.with_local_defaults`). The
    cache wraps each model when `use_cache`, `settings.llm.cache` and a `store` are all
    there. `clock` (default: a new `RunClock` of `run_budget_seconds`) and `sleep` are shared
    by the models; tests inject both.

    With `batch` (the caller allows it) and `llm.batch`, the primary answers through the
    Batch API (`batch.BatchChatModel`); the time spent waiting for batches, up to the batch
    deadline, does not count against the run's time budget for direct calls.
    """
    if not settings.llm_configured:
        return []
    llm = with_local_defaults(settings).llm
    batching = batch and llm.batch
    if batching and llm.chat_model:
        logger.warning("batch mode needs an OpenAI-compatible endpoint; direct calls instead")
        batching = False
    deadline = seconds_left(llm.batch_deadline) if batching else 0.0
    clock = clock or RunClock(llm.run_budget_seconds + max(0.0, deadline))
    models: list[ChatModel] = [_transport(llm, meter, clock, sleep, store)]
    if batching and isinstance(models[0], OpenAIChatModel):
        models[0] = BatchChatModel(
            models[0], llm, store=store, meter=meter, deadline_seconds=deadline
        )
    fallback = fallback_settings(llm)
    if fallback is not None:
        models.append(_transport(fallback, meter, clock, sleep, store))
    if use_cache and llm.cache and store is not None:
        models = [CachedChatModel(m, store, llm.dialect, meter=meter) for m in models]
    return models


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


def _transport(
    llm: LLMSettings, meter: UsageMeter, clock: RunClock, sleep: Sleep | None, store: Store | None
) -> ChatModel:
    policy = TransportPolicy.from_settings(llm, clock=clock, sleep=sleep)
    if llm.chat_model:
        return LangChainChatModel(llm, meter=meter, policy=policy)
    return OpenAIChatModel(llm, meter=meter, policy=policy, memory=store)


__all__ = ["build_chat_models", "fallback_settings"]
