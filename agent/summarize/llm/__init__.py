"""The model engine and what the rest of the agent may use of it.

Import from here, not from the modules: `LLMEngine` (summarize, rerank, expand a topic into
search queries), the chat-model boundary (`ChatModel`, `ChatRequest`, `ChatAnswer`), the
factory that builds the configured models, usage metering, prompts, token counts and the
answer cache key. Names load on first use (PEP 562), so importing one light name does not
pull in the engine's LangChain and OpenAI imports. (A name here never equals a module's name:
importing the module would replace it.)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.summarize.llm.cache import cache_key
    from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest
    from agent.summarize.llm.engine import LLMEngine
    from agent.summarize.llm.errors import ModelUnavailable
    from agent.summarize.llm.factory import build_chat_models
    from agent.summarize.llm.local import served_models, with_local_defaults
    from agent.summarize.llm.meter import UsageMeter
    from agent.summarize.llm.ping import Pong, ping_model
    from agent.summarize.llm.prompts import PromptSet, untrusted
    from agent.summarize.llm.rerank import RerankInput
    from agent.summarize.llm.tokens import count_message_tokens, count_tokens

_HOME = {
    "ChatAnswer": "chat",
    "ChatModel": "chat",
    "ChatRequest": "chat",
    "LLMEngine": "engine",
    "ModelUnavailable": "errors",
    "Pong": "ping",
    "PromptSet": "prompts",
    "RerankInput": "rerank",
    "UsageMeter": "meter",
    "build_chat_models": "factory",
    "cache_key": "cache",
    "count_message_tokens": "tokens",
    "count_tokens": "tokens",
    "ping_model": "ping",
    "served_models": "local",
    "untrusted": "prompts",
    "with_local_defaults": "local",
}

__all__ = [
    "ChatAnswer",
    "ChatModel",
    "ChatRequest",
    "LLMEngine",
    "ModelUnavailable",
    "Pong",
    "PromptSet",
    "RerankInput",
    "UsageMeter",
    "build_chat_models",
    "cache_key",
    "count_message_tokens",
    "count_tokens",
    "ping_model",
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
