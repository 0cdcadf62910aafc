"""Layer 2 of the model path: one structured question, asked of one model, in one loop.

Every step (grouping, merge, blurbs, headline, overview, queries, rerank) asks through
`Asker.ask`, and every decision to ask the model again is taken here::

    render the messages (system prompt, the data rule, the step's user message)
    call the model (layer 1 below retries the transport: 429, 5xx, timeouts)
      a refusal                 -> ModelRefused
      an answer cut off         -> once more with a larger output limit (when the model takes
                                   one), else AnswerTruncated
      an empty answer           -> once more, then ModelUnavailable
    parse the JSON leniently (`lenient_json`), validate it under the call's strict schema and
    the junk checks (`validate.check`)  -> done; the answer may be cached (ChatAnswer.validated)
    else, while re-asks are left (llm.max_reasks): append the raw answer and a user message
    rendered from reask.j2 with the validation error (instructor's "reask"), ask again
    still invalid -> the last answer through the lenient twin schema, for the step's
    deterministic repair (Reply.valid is False); InvalidAnswer when not even that parses.

Every ModelError out of here carries the evidence, as instructor's retry exception does: what
the question spent (`usage`), the answers that were not used (`failed`: call number, reason,
raw answer), `attempts` and the `last_raw` answer. A step that cannot use a reply raises
`reply.unusable(...)`. The fallback chain (layer 3, `fallback`) takes over on any of them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from agent.config import LLMSettings
from agent.errors import FailedAttempt, ModelError
from agent.models import Usage
from agent.summarize.llm.asking import lenient_json
from agent.summarize.llm.asking.junk import JunkContext, shingles
from agent.summarize.llm.asking.prompts import PromptSet
from agent.summarize.llm.asking.sizing import SCHEMA_TOKENS
from agent.summarize.llm.asking.validate import check
from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest
from agent.summarize.llm.errors import (
    AnswerTruncated,
    ContextExceeded,
    InvalidAnswer,
    ModelRefused,
    ModelUnavailable,
)
from agent.summarize.llm.run import tokens
from agent.summarize.llm.run.window import ContextWindow

logger = logging.getLogger(__name__)

MAX_RAW_CHARS = 2_000  # of a raw answer kept as evidence


@dataclass(frozen=True)
class Question:
    """One step's question: the rendered user message and what the answer must look like."""

    step: str  # "grouping", "merge", "blurbs", ...
    prompt: str  # the step's prompt file name (its version goes into the cache key)
    user: str  # the rendered user message
    schema: type[BaseModel]  # strict, per call; sent to the model and validated
    lenient: type[BaseModel] | None  # salvage twin, parsed only when the re-asks ran out
    max_output_tokens: int
    titles: Mapping[str, str] = field(default_factory=dict)  # short id -> title (junk checks)
    topic: str | None = None  # the topic, for the query-expansion junk check
    texts: Mapping[str, str] = field(default_factory=dict)  # short id -> abstract (junk checks)
    facts: str | None = None  # what the answer may name (the headline and overview checks)
    follow_up: bool = False  # asked to repair an earlier answer (the Batch API sends it direct)


@dataclass(frozen=True)
class Reply:
    """What a question got: a strictly valid value, or (valid=False) a salvaged lenient one."""

    value: Any
    valid: bool
    error: str | None  # the last validation error, when there was one
    reasks: int
    model: str
    raw: str
    spent: Usage = field(default_factory=Usage)  # every answer to the question, re-asks included
    failed: tuple[FailedAttempt, ...] = ()  # the answers before this one that failed validation
    forget: Callable[[], None] | None = field(default=None, compare=False, repr=False)

    def unusable(self, message: str) -> InvalidAnswer:
        """The error for a step that cannot use this reply, with the evidence. The answer leaves
        the cache (it validated, so it was kept): a later run asks the model again."""
        if self.forget is not None:
            self.forget()
        calls = max(answers_in(self.spent), self.reasks + 1)
        return InvalidAnswer(
            message,
            attempts=self.reasks + 1,
            last_raw=self.raw[:MAX_RAW_CHARS],
            usage=self.spent,
            failed=(*self.failed, FailedAttempt(calls, message, self.raw[:MAX_RAW_CHARS])),
        )


def _why(answer: ChatAnswer) -> str:
    """': why the answer is empty' when the model said why (it spent its output thinking)."""
    return f": {answer.why_empty}" if answer.why_empty else ""


def answers_in(usage: Usage) -> int:
    """How many answers a usage paid for: the calls made and the answers served from the cache."""
    return usage.calls + usage.cache_hits


@dataclass
class Evidence:
    """What one question spent and which of its answers were not used."""

    spent: Usage = field(default_factory=Usage)
    failed: list[FailedAttempt] = field(default_factory=list)
    last_raw: str | None = None

    @property
    def answers(self) -> int:
        return answers_in(self.spent)

    def took(self, answer: ChatAnswer) -> None:
        self.spent = self.spent + answer.usage
        self.last_raw = answer.text or self.last_raw

    def unused(self, reason: str, raw: str | None) -> None:
        self.failed.append(
            FailedAttempt(self.answers, reason, raw[:MAX_RAW_CHARS] if raw else None)
        )

    def error(self, kind: type[ModelError], message: str) -> ModelError:
        last = self.last_raw[:MAX_RAW_CHARS] if self.last_raw else None
        return kind(
            message, attempts=self.answers, last_raw=last, usage=self.spent, failed=self.failed
        )

    def add_to(self, exc: ModelError) -> None:
        """Put what came before into an error of the model call that followed it."""
        exc.add_earlier(self.spent, self.failed, calls_before=self.answers)


class Asker:
    """Asks questions of chat models within the token budget of `settings` and the context
    `window` (the run's: `llm.context_window` until a server shows a smaller one)."""

    def __init__(
        self,
        prompts: PromptSet,
        settings: LLMSettings,
        *,
        count_model: str | None = None,
        on_answer: Callable[[ChatModel, ChatAnswer], None] | None = None,
        window: ContextWindow | None = None,
    ) -> None:
        self.prompts = prompts
        self.settings = settings
        self.window = window or ContextWindow(settings.context_window)
        self.count_model = count_model or settings.model
        self.on_answer = on_answer
        self.system = prompts.render("system")
        # Said again at the top of each user message: some chat formats drop the system one.
        self.data_rule = prompts.render("data_rule") if "data_rule" in prompts.versions else ""
        self._instructions: dict[str, frozenset[tuple[str, ...]]] = {}

    # -- budget -----------------------------------------------------------------------------------

    def input_limit(self, max_output_tokens: int) -> int:
        """Input tokens one call may use: the input budget, within the context window."""
        return min(self.settings.input_budget_tokens, self.window.planned - max_output_tokens)

    def max_output(self) -> int:
        """The output limit of one call: llm.max_output_tokens, and a third of the window when
        a server showed a smaller one than configured (so that input keeps room)."""
        if self.window.smaller:
            return max(256, min(self.settings.max_output_tokens, self.window.planned // 3))
        return self.settings.max_output_tokens

    def output_tokens(self, wanted: int) -> int:
        """A step's output estimate, bounded by `max_output`."""
        return max(256, min(wanted, self.max_output()))

    def count(self, text: str) -> int:
        return tokens.count_tokens(text, self.count_model)

    def trim(self, text: str, max_tokens: int) -> str:
        return tokens.trim_to_tokens(text, max_tokens, self.count_model)

    def messages(self, user: str) -> tuple[dict[str, str], ...]:
        content = f"{self.data_rule}\n\n{user}" if self.data_rule else user
        return ({"role": "system", "content": self.system}, {"role": "user", "content": content})

    def estimate(self, messages: tuple[dict[str, str], ...]) -> int:
        return tokens.estimate_input_tokens(messages, self.count_model)

    def room(self, empty_user: str, max_output_tokens: int) -> int:
        """Tokens left for the items of one call (papers, themes) once the fixed prompt (the
        step's message rendered with no items) and the schema are in, with the safety margin.
        Each item's cost should include sizing.ID_TOKENS for its id in the schema."""
        fixed = self.estimate(self.messages(empty_user)) + SCHEMA_TOKENS
        return int((self.input_limit(max_output_tokens) - fixed) / tokens.SAFETY_MARGIN)

    def fits(self, user: str, max_output_tokens: int) -> bool:
        """Whether a call with this user message fits the budget (with the safety margin)."""
        return self.estimate(self.messages(user)) <= self.input_limit(max_output_tokens)

    def size(self, q: Question) -> tuple[int, int]:
        """(input tokens, output limit) of the first call of `q`: what it costs to ask."""
        return self.estimate(self.messages(q.user)) + SCHEMA_TOKENS, q.max_output_tokens

    def junk_context(self, q: Question) -> JunkContext:
        """What the junk checks compare an answer to: the call's own instructions (word runs
        of its prompt files), the titles by short id, and the topic."""
        found = self._instructions.get(q.prompt)
        if found is None:
            names = ("system", q.prompt, "data_rule")
            found = self._instructions[q.prompt] = shingles(self.prompts.instruction_text(*names))
        return JunkContext(
            instructions=found,
            titles=dict(q.titles),
            topic=q.topic,
            texts=dict(q.texts),
            facts=q.facts,
        )

    def prompt_version(self, prompt: str) -> str:
        """The version of the prompt files a call of `prompt` uses (a cache key part)."""
        names = ("system", prompt, "reask")
        return self.prompts.version_of(*((*names, "data_rule") if self.data_rule else names))

    # -- asking -----------------------------------------------------------------------------------

    async def ask(
        self, model: ChatModel, q: Question, *, after: tuple[str, str] | None = None
    ) -> Reply:
        """Ask, validate, re-ask with the error; see the module docstring. Raises ModelError.

        `after` is (an earlier valid answer, what a step's own check found wrong in it): the
        question is then asked again after that answer, as a re-ask (the blurbs' right-paper
        and figures checks)."""
        messages = self.messages(q.user)
        if after is not None:
            messages = self._reasked(messages, *after)
        context = self.junk_context(q)
        evidence = Evidence()
        reasks = 0
        while True:
            answer = await self.answer(model, self._request(q, messages, evidence), evidence)
            value, error = check(q.schema, answer.text, context)
            if error is None:
                answer.validated()
                return Reply(
                    value,
                    True,
                    None,
                    reasks,
                    answer.model,
                    answer.text,
                    evidence.spent,
                    tuple(evidence.failed),
                    forget=answer.forget,
                )
            evidence.unused(error.splitlines()[0], answer.text)
            logger.info(
                "%s: answer from %s invalid (%d re-asks so far)", q.step, model.name, reasks
            )
            retry = self._reasked(messages, answer.text, error)
            room = self.window.tokens - q.max_output_tokens
            if reasks >= self.settings.max_reasks or self.estimate(retry) > room:
                return self._salvage(q, answer, (error, reasks), context, evidence)
            messages, reasks = retry, reasks + 1

    def _reasked(
        self, messages: tuple[dict[str, str], ...], answer: str, error: str
    ) -> tuple[dict[str, str], ...]:
        """The conversation asked again: the answer, then reask.j2 with what was wrong."""
        return messages + (
            {"role": "assistant", "content": answer},
            {"role": "user", "content": self.prompts.render("reask", error=error)},
        )

    async def answer(
        self, model: ChatModel, request: ChatRequest, evidence: Evidence | None = None
    ) -> ChatAnswer:
        """One whole answer to `request`, with the usage of every call it took: asked once
        more after an empty answer, and once more with a larger output limit after one that
        was cut off; ModelRefused, AnswerTruncated or ModelUnavailable (with the `evidence`,
        which `ask` keeps across its re-asks) when there is none."""
        evidence = evidence if evidence is not None else Evidence()
        used = Usage()
        tried: set[str] = set()  # "larger", "again": each at most once
        while True:
            answer = await self._call(model, request, evidence)
            used = used + answer.usage
            again = self._again(model, request, answer, evidence, tried)
            if again is None:
                return dataclasses.replace(answer, usage=used)
            request = again

    def _again(
        self,
        model: ChatModel,
        request: ChatRequest,
        answer: ChatAnswer,
        evidence: Evidence,
        tried: set[str],
    ) -> ChatRequest | None:
        """None for a whole answer; else the request to ask again with, or the error."""
        if answer.refusal is not None:
            evidence.unused("refused", answer.refusal)
            raise evidence.error(
                ModelRefused, f"{model.name} refused the {request.step} request: {answer.refusal}"
            )
        if answer.cut_off:
            limit = answer.output_limit
            cut = "cut off" if limit is None else f"cut off at {limit} output tokens"
            evidence.unused(cut, answer.text or None)
            larger = self._larger_limit(limit, request)
            if "larger" in tried or larger is None:
                raise evidence.error(
                    AnswerTruncated,
                    f"{model.name}: the {request.step} answer was {cut}" + _why(answer),
                )
            tried.add("larger")
            logger.info(
                "%s: %s answer %s; asking again with %d", model.name, request.step, cut, larger
            )
            return dataclasses.replace(request, max_output_tokens=larger, follow_up=True)
        if not answer.text.strip():
            evidence.unused("empty answer", answer.text or None)
            if "again" in tried:
                raise evidence.error(
                    ModelUnavailable,
                    f"{model.name}: empty answer to the {request.step} request twice"
                    + _why(answer),
                )
            tried.add("again")
            logger.info("%s: empty %s answer; asking once more", model.name, request.step)
            return dataclasses.replace(request, follow_up=True)
        return None

    async def _call(self, model: ChatModel, request: ChatRequest, evidence: Evidence) -> ChatAnswer:
        try:
            self._check_window(model, request)
            answer = await model.complete(request)
        except ContextExceeded as exc:
            if exc.attempts:  # the server refused it (not `_check_window`)
                inputs, sent = self._footprint(request)
                exc.replan = self.window.learn(
                    sent, input_tokens=inputs, window=exc.window, requested=exc.requested
                )
            evidence.add_to(exc)
            raise
        except ModelError as exc:
            evidence.add_to(exc)
            raise
        evidence.took(answer)
        if self.on_answer is not None:
            self.on_answer(model, answer)
        return answer

    def _footprint(self, request: ChatRequest) -> tuple[int, int]:
        """(input tokens, input and output limit) of a request, as the calls are planned."""
        inputs = tokens.estimate_input_tokens(request.messages, self.count_model) + SCHEMA_TOKENS
        return inputs, inputs + request.max_output_tokens

    def _check_window(self, model: ChatModel, request: ChatRequest) -> None:
        """ContextExceeded, with no call made, for a request over a window a server showed:
        it would be refused again (planned before the window shrank: `replan` plans again)."""
        window = self.window
        if not window.learned:
            return
        sent = self._footprint(request)[1]
        if sent > window.tokens:
            raise ContextExceeded(
                f"{model.name}: the {request.step} request (~{sent:,} tokens) does not fit the "
                f"server's context window (~{window.tokens:,} tokens); not sent",
                replan=not window.exhausted,
            )

    def _request(
        self, q: Question, messages: tuple[dict[str, str], ...], evidence: Evidence
    ) -> ChatRequest:
        return ChatRequest(
            step=q.step,
            messages=messages,
            schema=q.schema,
            schema_name=q.step,
            max_output_tokens=q.max_output_tokens,
            prompt_version=self.prompt_version(q.prompt),
            follow_up=q.follow_up or evidence.answers > 0 or len(messages) > 2,
        )

    def _larger_limit(self, sent: int | None, request: ChatRequest) -> int | None:
        """The output limit to ask again with after a cut-off answer: twice the one sent,
        within the context window; None when no limit was sent or there is no room."""
        if sent is None:
            return None
        schema = json.dumps(request.schema.model_json_schema())
        used = tokens.estimate_input_tokens(request.messages, self.count_model, extra=schema)
        larger = min(2 * sent, self.window.tokens - used)
        return larger if larger > sent else None

    def _salvage(
        self,
        q: Question,
        answer: ChatAnswer,
        last: tuple[str, int],
        context: JunkContext,
        evidence: Evidence,
    ) -> Reply:
        """The last answer read with the lenient twin schema, else InvalidAnswer; `last` is
        its validation error and the re-asks made."""
        error, reasks = last
        failed = evidence.failed
        if q.lenient is not None:
            try:
                value = q.lenient.model_validate(lenient_json.parse(answer.text), context=context)
            except (ValidationError, lenient_json.NotJson):
                pass
            else:
                earlier = tuple(failed[:-1])
                return Reply(
                    value, False, error, reasks, answer.model, answer.text, evidence.spent, earlier
                )
        raise InvalidAnswer(
            f"{q.step}: answer invalid after {reasks} re-ask(s): {error.splitlines()[0]}",
            attempts=reasks + 1,
            last_raw=answer.text[:MAX_RAW_CHARS],
            usage=evidence.spent,
            failed=failed,
        )


__all__ = ["Asker", "Evidence", "Question", "Reply", "answers_in"]
