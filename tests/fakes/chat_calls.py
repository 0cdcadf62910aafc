"""Driving a chat model adapter (`OpenAIChatModel`) against a fake server, one request after
another in one event loop, as a run would: each answer, or the model error it raised; and the
settings of a local server at the fake's address."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from agent.config import LLMSettings
from agent.errors import ModelError
from agent.summarize.llm.chat import ChatRequest


def local_settings(base_url: str, **over: Any) -> LLMSettings:
    """A local server's settings for the fake at `base_url`: two attempts, no waits between
    them, a 5 s timeout, no local defaults probed; `over` replaces any of them."""
    values: dict[str, Any] = {
        "model": "local-model",
        "base_url": base_url,
        "max_attempts": 2,
        "max_retry_wait_seconds": 0.0,
        "timeout_seconds": 5.0,
        "local_defaults": False,
    }
    return LLMSettings(**{**values, **over})


def answers_or_errors(
    model: Any, requests: Sequence[ChatRequest], caught: type[ModelError] = ModelError
) -> list[Any]:
    """`model.complete` of each request in turn (the `caught` errors in place of answers); the
    model is closed afterwards."""

    async def go() -> list[Any]:
        out: list[Any] = []
        try:
            for r in requests:
                try:
                    out.append(await model.complete(r))
                except caught as exc:
                    out.append(exc)
        finally:
            await model.aclose()
        return out

    return asyncio.run(go())
