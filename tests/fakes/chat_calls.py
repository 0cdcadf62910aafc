"""Driving a chat model adapter (`OpenAIChatModel`) against a fake server, one request after
another in one event loop, as a run would: each answer, or the model error it raised."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from agent.errors import ModelError
from agent.summarize.llm.chat import ChatRequest


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
