"""The smallest structured call: does this model answer in its dialect, and at what cost?"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.summarize.llm.asking.prompts import PromptSet
from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest
from agent.summarize.llm.errors import ModelRefused

PING_MAX_OUTPUT_TOKENS = 64


class PingAnswer(BaseModel):
    """What a ping must come back as."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok"]
    word: str = Field(max_length=20)


@dataclass(frozen=True)
class Pong:
    answer: ChatAnswer
    seconds: float


def ping_request(prompts: PromptSet) -> ChatRequest:
    return ChatRequest(
        step="ping",
        messages=({"role": "user", "content": prompts.render("ping")},),
        schema=PingAnswer,
        schema_name="ping",
        max_output_tokens=PING_MAX_OUTPUT_TOKENS,
        prompt_version=prompts.version_of("ping"),
    )


async def ping_model(model: ChatModel, prompts: PromptSet) -> Pong:
    """One call; raises ModelError (transport, refusal) or pydantic.ValidationError (wrong
    shape, cut off or empty)."""
    started = time.monotonic()
    answer = await model.complete(ping_request(prompts))
    if answer.refusal is not None:
        raise ModelRefused(f"{model.name} refused the ping: {answer.refusal}", attempts=1)
    PingAnswer.model_validate_json(answer.text)
    return Pong(answer, time.monotonic() - started)


__all__ = ["PingAnswer", "Pong", "ping_model", "ping_request"]
