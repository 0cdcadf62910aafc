"""The completion loop every model adapter shares, around one adapter hook: a turn.

A turn is one request to the model (with the transport's retries below it), read into a
`Turn`: the text, the finish, the usage. The loop around it is the same for every adapter:

    check the cost cap, take a turn, meter and price its usage;
    a refusal (or a content-filter finish) -> ModelRefused;
    a cut-off answer -> once more with a larger output limit when the adapter has one,
        else AnswerTruncated;
    an empty answer -> once more, then ModelUnavailable;
    else the ChatAnswer, with the usage of every turn it took.

A failure carries the evidence (`ModelError.usage` and `.failed`): what the turns before it
spent, and each unused turn's number, reason and raw answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

from agent.errors import FailedAttempt, ModelError
from agent.models import Usage
from agent.one_line import one_line
from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest
from agent.summarize.llm.errors import AnswerTruncated, ModelRefused, ModelUnavailable
from agent.summarize.llm.meter import UsageMeter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    """What one request brought back, as the adapter read it."""

    text: str  # the raw answer (message content, or the tool call's arguments)
    finish_reason: str  # as the answer reports it ("stop", "eos", ...)
    model: str  # the model that answered
    priced_as: str  # the name the meter counts and prices this turn under
    usage: Usage  # this turn only, unpriced
    cut_off: bool = False  # the answer hit the output limit
    refusal: str | None = None  # why the model refused (its text, or e.g. "content filter")
    refusal_text: str | None = None  # the model's own refusal text, kept as evidence


TakeTurn = Callable[[int, int], Awaitable[Turn]]
"""`take_turn(max_output_tokens, turns_before)`: one request, read into a `Turn`."""


class MeteredChatModel(ChatModel):
    """A `ChatModel` that calls a real model: the adapters (OpenAI SDK, LangChain) subclass it
    and call `answer_in_turns` with their one hook."""

    meter: UsageMeter
    # Whether the adapter sends an output limit it can raise (the SDK's max_tokens); without one a
    # cut-off answer is final and the message does not name a limit.
    sends_output_limit: ClassVar[bool] = False

    def larger_output_limit(self, max_tokens: int, input_estimate: int) -> int | None:
        """The output limit to ask again with after a cut-off answer; None: do not ask again."""
        return None

    async def answer_in_turns(
        self, request: ChatRequest, input_estimate: int, take_turn: TakeTurn
    ) -> ChatAnswer:
        """The completion loop (see the module docstring). Raises a `ModelError` subclass."""
        started = time.monotonic()
        max_tokens = request.max_output_tokens
        usage = Usage()
        turns = 0
        asked_larger = asked_again = False
        last_raw: str | None = None
        failed: list[FailedAttempt] = []
        while True:
            try:
                self.meter.check(self.name, input_estimate, max_tokens)
                turn = await take_turn(max_tokens, turns)
            except ModelError as exc:
                if turns:  # the turns before it were answered: say what they cost
                    if not exc.failed:
                        exc.failed = (FailedAttempt(1, one_line(exc) or type(exc).__name__),)
                    exc.add_earlier(usage, failed, calls_before=turns)
                raise
            turns += 1
            self.meter.add(turn.priced_as, turn.usage)
            usage = usage + self.meter.priced(turn.priced_as, turn.usage)
            if turn.refusal:
                raise ModelRefused(
                    f"{self.name} refused the {request.step} request: {turn.refusal}",
                    attempts=turns,
                    last_raw=turn.refusal_text,
                    usage=usage,
                    failed=(*failed, FailedAttempt(turns, "refused", turn.refusal_text)),
                )
            last_raw = turn.text or last_raw
            if turn.cut_off:
                larger = self.larger_output_limit(max_tokens, input_estimate)
                limit = f" at {max_tokens} output tokens" if self.sends_output_limit else ""
                cut = f"cut off{limit}"
                failed.append(FailedAttempt(turns, cut, turn.text or None))
                if not asked_larger and larger is not None and larger > max_tokens:
                    asked_larger = True
                    logger.info(
                        "%s: %s answer cut at %d tokens; asking again with %d",
                        self.name,
                        request.step,
                        max_tokens,
                        larger,
                    )
                    max_tokens = larger
                    continue
                raise AnswerTruncated(
                    f"{self.name}: the {request.step} answer was {cut}",
                    attempts=turns,
                    last_raw=last_raw,
                    usage=usage,
                    failed=failed,
                )
            if not turn.text.strip():
                failed.append(FailedAttempt(turns, "empty answer", turn.text or None))
                if not asked_again:
                    asked_again = True
                    logger.info("%s: empty %s answer; asking once more", self.name, request.step)
                    continue
                raise ModelUnavailable(
                    f"{self.name}: empty answer to the {request.step} request twice",
                    attempts=turns,
                    usage=usage,
                    failed=failed,
                )
            wall = round(time.monotonic() - started, 3)
            return ChatAnswer(
                text=turn.text,
                finish_reason=turn.finish_reason,
                model=turn.model,
                usage=usage.model_copy(update={"wall_seconds": wall}),
                cached=False,
            )


__all__ = ["MeteredChatModel", "TakeTurn", "Turn"]
