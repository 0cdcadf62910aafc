"""Asking a model one structured question: the token budget, validation, and re-asks.

The one loop every step uses (grouping, merge, blurbs, headline, overview, queries)::

    answer = model.complete(request)
    parse the JSON leniently (lenient_json), then validate it under the call's strict schema
    and the junk checks (`junk`, given the call's JunkContext)?  -> done, and the answer may
    be cached (ChatAnswer.validated)
    else, while re-asks are left (settings.llm.max_reasks):
        append the assistant's raw answer and a user message rendered from reask.j2 that
        carries the validation error, ask again
    still invalid -> parse the last answer with the lenient twin schema and hand it to the
        step's deterministic repair (Reply.valid is False), or raise InvalidAnswer (a
        ModelError, so the fallback chain takes over) when not even that parses.

Every ModelError out of here carries what the question spent (`usage`) and each answer that
was not used (`failed`: call number, validation error, raw answer), as instructor's
retry exception does; a step that cannot use a reply raises `reply.unusable(...)`.

Transport retries (429, 5xx, timeouts) happen below this, inside `ChatModel.complete`.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from agent.config import LLMSettings
from agent.errors import FailedAttempt, ModelError
from agent.models import Usage
from agent.summarize.llm import lenient_json, tokens
from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest
from agent.summarize.llm.junk import JunkContext, shingles
from agent.summarize.llm.prompts import PromptSet
from agent.summarize.llm.repair import clip

logger = logging.getLogger(__name__)

MAX_ERRORS_SHOWN = 8
MAX_ERROR_CHARS = 1_500
MAX_RAW_CHARS = 2_000  # of a raw answer kept as evidence
SCHEMA_TOKENS = 300  # the answer schema sent with every call, without its id enum
ID_TOKENS = 5  # each short id in the schema's enum ("P123", ...)


class InvalidAnswer(ModelError):
    """The answer failed validation after every re-ask and nothing usable could be salvaged."""


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

    def unusable(self, message: str) -> InvalidAnswer:
        """The error for a step that cannot use this reply, with the evidence."""
        calls = max(answers_in(self.spent), self.reasks + 1)
        return InvalidAnswer(
            message,
            attempts=self.reasks + 1,
            last_raw=self.raw[:MAX_RAW_CHARS],
            usage=self.spent,
            failed=(*self.failed, FailedAttempt(calls, message, self.raw[:MAX_RAW_CHARS])),
        )


def answers_in(usage: Usage) -> int:
    """How many answers a usage paid for: the calls made and the answers served from the cache."""
    return usage.calls + usage.cache_hits


def even_parts(count: int, parts: int) -> list[range]:
    """`range(count)` cut into `parts` contiguous ranges whose sizes differ by at most one."""
    parts = max(1, min(parts, count))
    base, extra = divmod(count, parts)
    out, start = [], 0
    for i in range(parts):
        size = base + (1 if i < extra else 0)
        out.append(range(start, start + size))
        start += size
    return out


def plan_calls(costs: Sequence[int], room: int, per_call: int) -> list[range]:
    """The fewest balanced contiguous calls such that each holds at most `per_call` items and
    their costs fit `room` (an item too big alone still gets a call of its own)."""
    parts = max(1, math.ceil(len(costs) / max(per_call, 1)), math.ceil(sum(costs) / max(room, 1)))
    while True:
        ranges = even_parts(len(costs), parts)
        if parts >= len(costs) or all(sum(costs[i] for i in r) <= room for r in ranges):
            return ranges
        parts += 1


def validation_feedback(error: ValidationError) -> str:
    """A validation error as a short message a model can act on (and a reader can follow)."""
    lines = []
    for item in error.errors(include_url=False)[:MAX_ERRORS_SHOWN]:
        where = _location(item["loc"])
        kind = item["type"]
        ctx = item.get("ctx") or {}
        if kind == "literal_error":
            text = f"unknown id {item['input']!r}: use only the ids given"
        elif kind == "string_too_long":
            text = (
                f"too long ({len(str(item['input']))} characters; at most {ctx.get('max_length')})"
            )
        elif kind == "too_long":
            text = f"too many items (at most {ctx.get('max_length')})"
        elif kind == "too_short":
            text = f"needs at least {ctx.get('min_length')} item(s); no empty lists"
        elif kind == "json_invalid":
            text = f"not valid JSON ({ctx.get('error', 'parse error')})"
        elif kind == "missing":
            text = "required field missing"
        elif kind == "extra_forbidden":
            text = "field not allowed"
        else:
            text = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"- {where}: {text}" if where else f"- {text}")
    hidden = error.error_count() - len(lines)
    if hidden > 0:
        lines.append(f"- and {hidden} more")
    return "\n".join(lines)[:MAX_ERROR_CHARS]


def _validate(schema: type[BaseModel], data: Any, context: JunkContext) -> BaseModel:
    """Validate strictly, except that strings over their length bound are clipped at a word
    boundary rather than re-asked (strict mode cannot enforce lengths; the bounds are only said
    to the model in the schema's descriptions)."""
    try:
        return schema.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if not errors or any(e["type"] != "string_too_long" for e in errors):
            raise
        data = copy.deepcopy(data)
        for error in errors:
            _clip_at(data, error["loc"], int((error.get("ctx") or {}).get("max_length", 0)))
        logger.info("clipped %d over-long string(s) in a %s answer", len(errors), schema.__name__)
        return schema.model_validate(data, context=context)


def check(schema: type[BaseModel], text: str, context: JunkContext) -> tuple[Any, str | None]:
    """(value, None) when `text` is a valid answer, else (None, the error for the re-ask)."""
    try:
        data = lenient_json.parse(text)
    except lenient_json.NotJson as exc:
        return None, f"- {exc}"
    try:
        return _validate(schema, data, context), None
    except ValidationError as exc:
        return None, validation_feedback(exc)


def _clip_at(data: Any, loc: tuple[Any, ...], max_chars: int) -> None:
    *path, last = loc
    node = data
    for part in path:
        node = node[part]
    node[last] = clip(node[last], max_chars)


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class Asker:
    """Asks questions of chat models within the token budget of `settings`."""

    def __init__(
        self,
        prompts: PromptSet,
        settings: LLMSettings,
        *,
        count_model: str | None = None,
        on_answer: Callable[[ChatModel, ChatAnswer], None] | None = None,
    ) -> None:
        self.prompts = prompts
        self.settings = settings
        self.count_model = count_model or settings.model
        self.on_answer = on_answer
        self.system = prompts.render("system")
        # Said again at the top of each user message: some chat formats drop the system one.
        self.data_rule = prompts.render("data_rule") if "data_rule" in prompts.versions else ""
        self._instructions: dict[str, frozenset[tuple[str, ...]]] = {}

    # -- budget -----------------------------------------------------------------------------------

    def input_limit(self, max_output_tokens: int) -> int:
        """Input tokens one call may use: the input budget, within the context window."""
        return min(
            self.settings.input_budget_tokens, self.settings.context_window - max_output_tokens
        )

    def output_tokens(self, wanted: int) -> int:
        """A step's output estimate, bounded by settings.llm.max_output_tokens."""
        return max(256, min(wanted, self.settings.max_output_tokens))

    def count(self, text: str) -> int:
        return tokens.count_tokens(text, self.count_model)

    def trim(self, text: str, max_tokens: int) -> str:
        return tokens.trim_to_tokens(text, max_tokens, self.count_model)

    def messages(self, user: str) -> tuple[dict[str, str], ...]:
        content = f"{self.data_rule}\n\n{user}" if self.data_rule else user
        return ({"role": "system", "content": self.system}, {"role": "user", "content": content})

    def junk_context(self, q: Question) -> JunkContext:
        """What the junk checks compare an answer to: the call's own instructions (word runs
        of its prompt files), the titles by short id, and the topic."""
        found = self._instructions.get(q.prompt)
        if found is None:
            names = ("system", q.prompt, "data_rule")
            found = self._instructions[q.prompt] = shingles(self.prompts.instruction_text(*names))
        return JunkContext(instructions=found, titles=dict(q.titles), topic=q.topic)

    def estimate(self, messages: tuple[dict[str, str], ...]) -> int:
        return tokens.estimate_input_tokens(messages, self.count_model)

    def room(self, empty_user: str, max_output_tokens: int) -> int:
        """Tokens left for the items of one call (papers, themes) once the fixed prompt (the
        step's message rendered with no items) and the schema are in, with the safety margin.
        Each item's cost should include ID_TOKENS for its id in the schema."""
        fixed = self.estimate(self.messages(empty_user)) + SCHEMA_TOKENS
        return int((self.input_limit(max_output_tokens) - fixed) / tokens.SAFETY_MARGIN)

    def fits(self, user: str, max_output_tokens: int) -> bool:
        """Whether a call with this user message fits the budget (with the safety margin)."""
        return self.estimate(self.messages(user)) <= self.input_limit(max_output_tokens)

    # -- asking -----------------------------------------------------------------------------------

    def _request(self, q: Question, messages: tuple[dict[str, str], ...]) -> ChatRequest:
        return ChatRequest(
            step=q.step,
            messages=messages,
            schema=q.schema,
            schema_name=q.step,
            max_output_tokens=q.max_output_tokens,
            prompt_version=self.prompt_version(q.prompt),
        )

    def prompt_version(self, prompt: str) -> str:
        """The version of the prompt files a call of `prompt` uses (a cache key part)."""
        return self.prompts.version_of(*self._prompt_names(prompt))

    def _prompt_names(self, prompt: str) -> tuple[str, ...]:
        names = ("system", prompt, "reask")
        return (*names, "data_rule") if self.data_rule else names

    async def ask(self, model: ChatModel, q: Question) -> Reply:
        """Ask, validate, re-ask with the error; see the module docstring. Raises ModelError."""
        messages = self.messages(q.user)
        context = self.junk_context(q)
        reasks = 0
        spent = Usage()
        failed: list[FailedAttempt] = []
        while True:
            try:
                answer = await model.complete(self._request(q, messages))
            except ModelError as exc:
                exc.add_earlier(spent, failed, calls_before=answers_in(spent))
                raise
            spent = spent + answer.usage
            if self.on_answer is not None:
                self.on_answer(model, answer)
            value, error = check(q.schema, answer.text, context)
            if error is None:
                answer.validated()
                return Reply(
                    value, True, None, reasks, answer.model, answer.text, spent, tuple(failed)
                )
            failed.append(
                FailedAttempt(answers_in(spent), error.splitlines()[0], answer.text[:MAX_RAW_CHARS])
            )
            logger.info(
                "%s: answer from %s invalid (%d re-asks so far)", q.step, model.name, reasks
            )
            retry = messages + (
                {"role": "assistant", "content": answer.text},
                {"role": "user", "content": self.prompts.render("reask", error=error)},
            )
            room = self.settings.context_window - q.max_output_tokens
            if reasks >= self.settings.max_reasks or self.estimate(retry) > room:
                return self._salvage(q, answer, error, context, spent, failed)
            messages, reasks = retry, reasks + 1

    def _salvage(
        self,
        q: Question,
        answer: ChatAnswer,
        error: str,
        context: JunkContext,
        spent: Usage,
        failed: list[FailedAttempt],
    ) -> Reply:
        reasks = len(failed) - 1
        if q.lenient is not None:
            try:
                value = q.lenient.model_validate(lenient_json.parse(answer.text), context=context)
            except (ValidationError, lenient_json.NotJson):
                pass
            else:
                earlier = tuple(failed[:-1])
                return Reply(value, False, error, reasks, answer.model, answer.text, spent, earlier)
        raise InvalidAnswer(
            f"{q.step}: answer invalid after {reasks} re-ask(s): {error.splitlines()[0]}",
            attempts=reasks + 1,
            last_raw=answer.text[:MAX_RAW_CHARS],
            usage=spent,
            failed=failed,
        )


__all__ = [
    "ID_TOKENS",
    "SCHEMA_TOKENS",
    "Asker",
    "InvalidAnswer",
    "Question",
    "Reply",
    "check",
    "even_parts",
    "plan_calls",
    "validation_feedback",
]
