"""The model engine and what the rest of the agent may use of it.

Import from here, not from the modules: `LLMEngine` (summarize, rerank, expand a topic into
search queries), the run's `Budget`, rate limit and context window (`run_budget(settings)`,
`run_limit(settings)`, `run_window(settings)`: one of each per run, given to every engine of
the run), the chat-model
boundary (`ChatModel`, `ChatRequest`, `ChatAnswer`), the factory that builds the configured
models (`build_chat_models`, with what they `Shared`), usage metering, prompts, token counts
and the answer cache key. Names load on first use (PEP 562),
so importing one light name does not pull in the engine's LangChain and OpenAI imports. (A
name here never equals a module's name: importing the module would replace it.)

The layers (README.interface.md): `models/` (1: transport and adapters), `asking/` (2: the
structured ask), `fallback` (3: the chain per step and part), `steps/` on top, and `run/` (the
run-scoped budget, meter, rate limit, caches, token counts, progress) under them all.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.summarize.llm.asking.prompts import PromptSet, untrusted
    from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest
    from agent.summarize.llm.engine import LLMEngine
    from agent.summarize.llm.errors import InvalidAnswer, ModelUnavailable
    from agent.summarize.llm.factory import (
        Shared,
        build_chat_models,
        run_budget,
        run_limit,
        run_window,
    )
    from agent.summarize.llm.models.local import (
        NoChatModel,
        configured_model,
        is_local,
        local_llm,
        model_label,
        probe_local,
        served_models,
        with_local_defaults,
    )
    from agent.summarize.llm.run.budget import Budget, Limits
    from agent.summarize.llm.run.cache import MAX_ANSWER_CHARS, answer_from_cache, cache_key
    from agent.summarize.llm.run.limit import AdaptiveLimit
    from agent.summarize.llm.run.meter import UsageMeter
    from agent.summarize.llm.run.tokens import count_message_tokens, count_tokens
    from agent.summarize.llm.run.window import ContextWindow
    from agent.summarize.llm.steps.ping import Pong, ping_model
    from agent.summarize.llm.steps.rerank import RerankInput

_HOME = {
    "AdaptiveLimit": "run.limit",
    "Budget": "run.budget",
    "ChatAnswer": "chat",
    "ChatModel": "chat",
    "ChatRequest": "chat",
    "ContextWindow": "run.window",
    "InvalidAnswer": "errors",
    "LLMEngine": "engine",
    "Limits": "run.budget",
    "ModelUnavailable": "errors",
    "NoChatModel": "models.local",
    "Pong": "steps.ping",
    "PromptSet": "asking.prompts",
    "RerankInput": "steps.rerank",
    "Shared": "factory",
    "UsageMeter": "run.meter",
    "build_chat_models": "factory",
    "MAX_ANSWER_CHARS": "run.cache",
    "answer_from_cache": "run.cache",
    "cache_key": "run.cache",
    "configured_model": "models.local",
    "count_message_tokens": "run.tokens",
    "count_tokens": "run.tokens",
    "is_local": "models.local",
    "local_llm": "models.local",
    "model_label": "models.local",
    "ping_model": "steps.ping",
    "probe_local": "models.local",
    "run_budget": "factory",
    "run_limit": "factory",
    "run_window": "factory",
    "served_models": "models.local",
    "untrusted": "asking.prompts",
    "with_local_defaults": "models.local",
}

__all__ = [
    "MAX_ANSWER_CHARS",
    "AdaptiveLimit",
    "Budget",
    "ChatAnswer",
    "ChatModel",
    "ChatRequest",
    "ContextWindow",
    "InvalidAnswer",
    "LLMEngine",
    "Limits",
    "ModelUnavailable",
    "NoChatModel",
    "Pong",
    "PromptSet",
    "RerankInput",
    "Shared",
    "UsageMeter",
    "answer_from_cache",
    "build_chat_models",
    "cache_key",
    "configured_model",
    "count_message_tokens",
    "count_tokens",
    "is_local",
    "local_llm",
    "model_label",
    "ping_model",
    "probe_local",
    "run_budget",
    "run_limit",
    "run_window",
    "served_models",
    "untrusted",
    "with_local_defaults",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
