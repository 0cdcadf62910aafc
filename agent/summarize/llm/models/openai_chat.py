"""Any OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp) through the SDK.

One `complete()` is one chat completion: the request in the configured structured-output
dialect (or, for ``auto``, the first one the server takes: see `dialects`), sent through the
`Transport` (the SDK's own retries are off), the answer read as it came and metered. Whether it
is usable (cut off, empty, a refusal, invalid) is for the asker to decide.

An HTTP 200 is read as local servers really send it (`completion_body`: an SSE stream, an
error object, a page that is no completion), and so is its message: content as a list of parts
(the text parts joined), a reasoning model's answer in ``reasoning_content`` (read when the
content is empty), or its thinking eating the output limit (said in `ChatAnswer.why_empty`).
A server that read clearly fewer prompt tokens than were sent cut the prompt to its context
length: said in `ChatAnswer.prompt_cut`. With `[llm] thinking = "off"` each request carries the
fields that ask a reasoning model not to think (`thinking_off`); one the server refuses is
dropped and the call asked again without it (the Batch API's lines carry none).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
import time
from typing import Any

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessage

from agent.config import LLMSettings
from agent.core.http import sdk_http_client
from agent.models import Usage
from agent.summarize.llm.chat import (
    CUT_OFF,
    ChatAnswer,
    ChatModel,
    ChatRequest,
    finish_of,
    refusal_of,
)
from agent.summarize.llm.errors import ModelUnavailable, Rejected
from agent.summarize.llm.models import dialects
from agent.summarize.llm.models.completion_body import completion_of
from agent.summarize.llm.models.dialects import ORDER, DialectMemory
from agent.summarize.llm.models.thinking_off import ThinkingOff
from agent.summarize.llm.models.transport import Transport
from agent.summarize.llm.run.budget import Budget
from agent.summarize.llm.run.meter import UsageMeter
from agent.summarize.llm.run.tokens import count_message_tokens, estimate_input_tokens
from agent.summarize.llm.thinking import only_thinking

logger = logging.getLogger(__name__)

LOCAL_SERVER_KEY = "not-needed"  # local servers (llama.cpp, vLLM, Ollama) ignore the key
THOUGHT_ONLY = (
    'the model spent its output on thinking and wrote no answer: set llm.thinking = "off" '
    "(asks the server not to think), or raise llm.max_output_tokens"
)
THOUGHT_ONLY_OFF = (
    'the model spent its output on thinking and wrote no answer, although llm.thinking = "off" '
    "asked the server not to think: raise llm.max_output_tokens, or turn thinking off in the "
    "server (docs/models.md, reasoning models)"
)
# A server that read fewer than this share of the prompt tokens sent (by our count) cut the
# prompt: tokenizers differ by less than that, and so does a prompt of this size whose shared
# start (system prompt, data rule: a few hundred tokens) a server left out of its count as
# cached (Ollama before 0.30). Any server's context holds a shorter prompt.
PROMPT_CUT_RATIO = 0.8
PROMPT_CUT_MIN_TOKENS = 2_000
_TEXT_PARTS = frozenset({"text", "output_text"})  # content parts that are the answer
_REASONING_FIELDS = ("reasoning_content", "reasoning")  # llama.cpp and vLLM; vLLM and Ollama


class OpenAIChatModel(ChatModel):
    """`ChatModel` over `openai.AsyncOpenAI`, in one of four structured-output dialects, or
    ``auto``: the first of them the server takes (see `dialects`), remembered in `memory`.

    - ``json_schema``: ``response_format={"type": "json_schema", "json_schema": {strict}}``
    - ``json_object_schema``: llama.cpp's ``{"type": "json_object", "schema": ...}``
    - ``json_object``: ``{"type": "json_object"}``, the schema appended to the last user message
    - ``tools``: one function tool with the schema as parameters, forced by ``tool_choice``

    Without a `meter`, usage is metered (and the budget kept) from `llm` alone; without a
    `transport`, one of its own on the meter's budget.
    """

    def __init__(
        self,
        llm: LLMSettings,
        *,
        transport: Transport | None = None,
        meter: UsageMeter | None = None,
        memory: DialectMemory | None = None,
    ) -> None:
        self.name = llm.model
        self.base_url = llm.base_url
        self._llm = llm
        self.meter = meter or UsageMeter(llm.prices, Budget.from_settings(llm))
        self.transport = transport or Transport(llm, budget=self.meter.budget)
        self.configured_dialect = llm.dialect
        self._memory = memory
        self._endpoint = dialects.endpoint_of(llm.base_url)
        self._settled: str | None = None if llm.dialect == dialects.AUTO else llm.dialect
        self._exhausted: str | None = None  # every dialect was rejected: not asked again
        # [llm] thinking = "off": the fields that ask the server not to think
        self.thinking = ThinkingOff(
            llm.thinking, endpoint=self._endpoint, model=self.name, hosted=llm.base_url is None
        )
        # The dialect in use: the configured one, or for "auto" the one a call settled on
        # (the remembered one until then).
        self.dialect: str = self._settled or self._remembered() or dialects.AUTO
        self._lock = asyncio.Lock()  # the other calls wait for the dialect probe's answer
        self._client: openai.AsyncOpenAI | None = None

    def __repr__(self) -> str:
        return (
            f"OpenAIChatModel(name={self.name!r}, dialect={self.dialect!r}, "
            f"base_url={self.base_url!r})"
        )

    # -- the client ------------------------------------------------------------------------------

    def _api_key(self) -> str:
        if self._llm.api_key is not None and self._llm.api_key.get_secret_value():
            return self._llm.api_key.get_secret_value()
        if self._llm.base_url:
            return LOCAL_SERVER_KEY
        raise ModelUnavailable(f"{self.name}: no API key and no base URL configured")

    def client(self) -> openai.AsyncOpenAI:
        """The one SDK client of this model, made at its first call and kept until `aclose()`
        (a command runs one event loop: `asyncio.run` in `agent.cli` only)."""
        if self._client is None:
            self._client = self.new_client(self._llm.max_answer_bytes)
        return self._client

    def new_client(self, max_answer_bytes: int) -> openai.AsyncOpenAI:
        """An SDK client of this endpoint and key whose answers may be `max_answer_bytes` long
        (the Batch API's result files are bigger than one answer); the caller closes it."""
        return openai.AsyncOpenAI(
            api_key=self._api_key(),
            base_url=self._llm.base_url,
            max_retries=0,
            timeout=self._llm.timeout_seconds,
            http_client=sdk_http_client(
                timeout=self._llm.timeout_seconds, max_bytes=max_answer_bytes
            ),
        )

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    # -- one call ----------------------------------------------------------------------------------

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        if self._settled is not None:
            return await self._complete(request, self._settled)
        async with self._lock:  # the other calls wait for the probe's dialect
            if self._settled is None:
                return await self._probe(request)
        return await self._complete(request, self._settled)

    async def _probe(self, request: ChatRequest) -> ChatAnswer:
        """Try the candidate dialects in turn until the server takes one (see `dialects`). Only
        a `Rejected` request moves on to the next; any other failure (a 404, a request over the
        context window, an outage) ends the probe as it is, nothing settled or ruled out, so
        the next call probes again."""
        if self._exhausted is not None:
            raise ModelUnavailable(self._exhausted)
        remembered = self._remembered()
        rejected: list[tuple[str, Rejected]] = []
        for dialect in dialects.candidates(self.configured_dialect, remembered):
            # OpenAI itself takes json_schema: a 500 there is an outage, not a rejection.
            proven = dialect == remembered or (self.base_url is None and dialect == ORDER[0])
            try:
                answer = await self._complete(request, dialect, dialects.rejections(proven))
            except Rejected as exc:
                rejected.append((dialect, exc))
                logger.info("%s: the server rejected dialect %s (%s)", self.name, dialect, exc.what)
                continue
            self._settle(dialect, remembered)
            return answer
        message = (
            f"{self.name}: the server rejected every structured-output dialect tried: "
            + "; ".join(f"{dialect} ({exc.what})" for dialect, exc in rejected)
            + " (not retried)"
        )
        if any(exc.status_code != 500 for _, exc in rejected):  # a 500 may pass: ask again
            self._exhausted = message
        self.transport.breaker.record_failure(self.name)  # no dialect works: a failed call
        raise ModelUnavailable(message, attempts=len(rejected))

    def _remembered(self) -> str | None:
        if self.configured_dialect != dialects.AUTO or self._memory is None:
            return None
        try:
            return self._memory.remembered_dialect(self._endpoint, self.name)
        except (sqlite3.Error, ValueError) as exc:
            logger.warning("dialect memory unreadable (%s)", type(exc).__name__)
            return None

    def _settle(self, dialect: str, remembered: str | None) -> None:
        self._settled = self.dialect = dialect
        if self.configured_dialect == dialects.AUTO:
            logger.info("%s: using the %s dialect", self.name, dialect)
            if self._memory is not None and dialect != remembered:
                try:
                    self._memory.remember_dialect(self._endpoint, self.name, dialect)
                except sqlite3.Error as exc:
                    logger.warning("dialect not remembered (%s)", type(exc).__name__)

    async def _complete(
        self, request: ChatRequest, dialect: str, rejections: frozenset[int] = frozenset()
    ) -> ChatAnswer:
        """One chat completion in `dialect`, checked against the budget first and metered."""
        started = time.monotonic()
        params, schema_text = self._params(request, dialect)
        max_tokens = request.max_output_tokens
        estimate = estimate_input_tokens(params["messages"], self.name, extra=schema_text)
        self.meter.check(self.name, estimate, max_tokens)
        client = self.client()
        extra = self.thinking.fields()
        body = {**params, self._limit_name(): max_tokens}
        if extra:  # fields the SDK does not know: sent as they are
            body["extra_body"] = extra
        try:
            completion = await self.transport.send(
                lambda timeout: _create(client, body, timeout),
                rejected=rejections | ({400} if extra else set()),
            )
        except Rejected as exc:
            field = self.thinking.refused_field(exc.said, extra)
            if field is not None:  # a field that asks not to think: asked again without it
                self.thinking.drop(field, exc.what)
                return await self._complete(request, dialect, rejections)
            if exc.status_code in rejections:
                raise
            raise self._failed(exc) from None
        answer = answer_of(completion, dialect, self.name, output_limit=max_tokens)
        if answer.why_empty == THOUGHT_ONLY and self.thinking.thinking == "off":
            answer = dataclasses.replace(answer, why_empty=THOUGHT_ONLY_OFF)
        # A re-ask repeats the conversation before it: a server may count that part as cached.
        read = answer.usage.input_tokens + answer.usage.cached_tokens
        if not request.follow_up and 0 < read < PROMPT_CUT_RATIO * estimate:
            sent = count_message_tokens(params["messages"], self.name)  # the schema aside
            answer = dataclasses.replace(answer, prompt_cut=prompt_cut(read, sent))
        self.meter.add(answer.model, answer.usage)
        usage = self.meter.priced(answer.model, answer.usage)
        wall = round(time.monotonic() - started, 3)
        return _with_usage(answer, usage.model_copy(update={"wall_seconds": wall}))

    def _failed(self, exc: Rejected) -> ModelUnavailable:
        """A 400 taken as a possible refusal of a thinking field that named none: the failure
        it is without them (not retried, a step toward the circuit breaker)."""
        logger.warning("%s", exc)
        self.transport.breaker.record_failure(self.name)
        return ModelUnavailable(str(exc), attempts=exc.attempts, status_code=exc.status_code)

    def body(self, request: ChatRequest) -> dict[str, Any]:
        """The request as a JSON body (a Batch API line): the settled dialect, else the
        remembered one, else the first of `dialects.ORDER`."""
        params, _ = self._params(request, self.body_dialect)
        return {**params, self._limit_name(): request.max_output_tokens}

    @property
    def body_dialect(self) -> str:
        """The dialect `body` writes requests in (and their answers are read in)."""
        return self._settled or self._remembered() or ORDER[0]

    def _limit_name(self) -> str:
        return "max_tokens" if self.base_url else "max_completion_tokens"

    def _params(self, request: ChatRequest, dialect: str) -> tuple[dict[str, Any], str]:
        """The request parameters (without max tokens) and the schema text sent out of band."""
        try:
            return dialects.params(
                dialect,
                request,
                model=self.name,
                temperature=self._llm.temperature,
                seed=self._llm.seed,
            )
        except ValueError as exc:  # pragma: no cover (LLMSettings.dialect is a Literal)
            raise ModelUnavailable(f"{self.name}: {exc}") from None


async def _create(
    client: openai.AsyncOpenAI, body: dict[str, Any], timeout: float
) -> ChatCompletion:
    """One chat completion call; an HTTP 200 that holds none raises `NotACompletion`, which
    the transport retries or reports as it does an HTTP error (see `completion_body`)."""
    raw = await client.chat.completions.with_raw_response.create(**body, timeout=timeout)
    data = completion_of(raw.text, raw.headers.get("content-type", ""))
    return ChatCompletion.construct(**data)  # unvalidated, as the SDK itself reads answers


def _with_usage(answer: ChatAnswer, usage: Usage) -> ChatAnswer:
    return dataclasses.replace(answer, usage=usage)


def answer_of(
    completion: ChatCompletion, dialect: str, name: str, *, output_limit: int | None
) -> ChatAnswer:
    """A chat completion read as a `ChatAnswer` (unpriced usage; `name` when it does not say
    which model answered); shared by the direct calls and the Batch API's result lines."""
    choices = completion.choices if isinstance(completion.choices, list) else []
    choice = choices[0] if choices else None
    message: ChatCompletionMessage | None = getattr(choice, "message", None)
    finish: str | None = getattr(choice, "finish_reason", None)
    text, why_empty = text_of(message, dialect), None
    thought = reasoning_of(message)
    cut = finish_of(finish) == CUT_OFF
    if not text.strip() and thought.strip():
        if cut:  # the thinking used up the output limit
            why_empty = THOUGHT_ONLY
        else:  # the server's reasoning parser took the whole answer
            text = thought
    elif cut and only_thinking(text):  # cut off inside its <think> block
        why_empty = THOUGHT_ONLY
    return ChatAnswer(
        text=text,
        finish_reason=finish_of(finish),
        model=str(completion.model or name),
        usage=usage_of(completion),
        refusal=refusal_of(getattr(message, "refusal", None), finish),
        output_limit=output_limit,
        dialect=dialect,
        why_empty=why_empty,
    )


def text_of(message: ChatCompletionMessage | None, dialect: str) -> str:
    """The answer text of a completion's message: the content (its text parts joined, when it
    is a list of parts), or the tool call's arguments."""
    if message is None:
        return ""
    calls = getattr(message, "tool_calls", None) or []
    if dialect == "tools" and calls:
        function = getattr(calls[0], "function", None)  # a custom tool call has none
        return str(getattr(function, "arguments", "") or "")
    content: Any = getattr(message, "content", None)
    if isinstance(content, list):
        return "".join(_part_text(part) for part in content)
    return content if isinstance(content, str) else ""


def _part_text(part: Any) -> str:
    """The text of one content part when it is answer text (not a reasoning part)."""
    fields = part if isinstance(part, dict) else vars(part) if hasattr(part, "__dict__") else {}
    text = fields.get("text")
    return text if fields.get("type") in _TEXT_PARTS and isinstance(text, str) else ""


def reasoning_of(message: ChatCompletionMessage | None) -> str:
    """What a reasoning model thought, where the server puts it apart from the content."""
    for field in _REASONING_FIELDS:
        value = getattr(message, field, None)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def prompt_cut(read: int, sent: int) -> tuple[int, int] | None:
    """(read, sent) when the server read clearly fewer prompt tokens than were `sent`."""
    if 0 < read < PROMPT_CUT_RATIO * sent and sent >= PROMPT_CUT_MIN_TOKENS:
        return read, sent
    return None


def usage_of(completion: ChatCompletion) -> Usage:
    """One call's token usage as the completion reports it (what is not a count: 0)."""
    usage = getattr(completion, "usage", None)
    if usage is None:
        return Usage(calls=1)
    details = getattr(usage, "prompt_tokens_details", None)
    return Usage(
        calls=1,
        input_tokens=_count(getattr(usage, "prompt_tokens", None)),
        output_tokens=_count(getattr(usage, "completion_tokens", None)),
        cached_tokens=_count(getattr(details, "cached_tokens", None)),
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


__all__ = [
    "LOCAL_SERVER_KEY",
    "THOUGHT_ONLY",
    "THOUGHT_ONLY_OFF",
    "OpenAIChatModel",
    "answer_of",
    "prompt_cut",
    "reasoning_of",
    "text_of",
    "usage_of",
]
