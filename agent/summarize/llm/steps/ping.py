"""The smallest structured question: does this model answer in its dialect, and at what cost?

`digest doctor` asks it through the same `Asker` a run uses (the same messages, the lenient
JSON reading, the validation and the re-asks), so the doctor's verdict is the run's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.config import LLMSettings
from agent.models import Usage
from agent.summarize.llm.asking.ask import Asker, Question
from agent.summarize.llm.asking.prompts import PromptSet
from agent.summarize.llm.chat import ChatAnswer, ChatModel

PING_MAX_OUTPUT_TOKENS = 64


class PingAnswer(BaseModel):
    """What a ping must come back as."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok"]
    word: str = Field(max_length=20)


@dataclass(frozen=True)
class Pong:
    """A ping's answer: the model its answer named, the dialect it was asked in, what the
    question spent (re-asks included), how many re-asks it took and how long."""

    model: str
    dialect: str | None
    spent: Usage
    reasks: int
    seconds: float


async def ping_model(model: ChatModel, prompts: PromptSet, settings: LLMSettings) -> Pong:
    """One question, asked as a run asks; raises ModelError (transport, refusal, an answer
    still invalid after the re-asks)."""
    answers: list[ChatAnswer] = []
    asker = Asker(prompts, settings, on_answer=lambda _model, answer: answers.append(answer))
    question = Question(
        step="ping",
        prompt="ping",
        user=prompts.render("ping"),
        schema=PingAnswer,
        lenient=None,
        max_output_tokens=PING_MAX_OUTPUT_TOKENS,
    )
    started = time.monotonic()
    reply = await asker.ask(model, question)
    dialect = next((a.dialect for a in reversed(answers) if a.dialect), None)
    return Pong(reply.model, dialect, reply.spent, reply.reasks, time.monotonic() - started)


__all__ = ["PingAnswer", "Pong", "ping_model"]
