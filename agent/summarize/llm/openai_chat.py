"""Any OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp) through the SDK.

The SDK's own retries are off; `retry.TransportPolicy` owns retries, the run's time budget and
the circuit breaker. This module builds the request for the configured dialect, reads the answer,
handles truncation, refusals and empty answers, and meters usage and cost.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import Any

import openai

from agent.config import LLMSettings
from agent.core.http import sdk_http_client
from agent.models import Usage
from agent.one_line import one_line
from agent.summarize.llm import dialects
from agent.summarize.llm.chat import ChatAnswer, ChatRequest
from agent.summarize.llm.completion import MeteredChatModel, Turn
from agent.summarize.llm.concurrency import keeping_slot
from agent.summarize.llm.dialects import ORDER, DialectMemory
from agent.summarize.llm.errors import ModelUnavailable
from agent.summarize.llm.meter import UsageMeter
from agent.summarize.llm.retry import RunClock, Sleep, TransportPolicy, describe_transport_error
from agent.summarize.llm.tokens import estimate_input_tokens

logger = logging.getLogger(__name__)

LOCAL_SERVER_KEY = "not-needed"  # local servers (llama.cpp, vLLM, Ollama) ignore the key


class OpenAIChatModel(MeteredChatModel):
    """`ChatModel` over `openai.AsyncOpenAI`, in one of four structured-output dialects, or
    ``auto``: the first of them the server takes (see `dialects`), remembered in `memory`.

    - ``json_schema``: ``response_format={"type": "json_schema", "json_schema": {strict}}``
    - ``json_object_schema``: llama.cpp's ``{"type": "json_object", "schema": ...}``
    - ``json_object``: ``{"type": "json_object"}``, the schema appended to the last user message
    - ``tools``: one function tool with the schema as parameters, forced by ``tool_choice``
    """

    sends_output_limit = True

    def __init__(
        self,
        llm: LLMSettings,
        *,
        meter: UsageMeter | None = None,
        policy: TransportPolicy | None = None,
        clock: RunClock | None = None,
        sleep: Sleep | None = None,
        memory: DialectMemory | None = None,
    ) -> None:
        self.name = llm.model
        self.configured_dialect = llm.dialect
        # The dialect in use: the configured one, or for "auto" the one a call settled on.
        self.dialect: str = llm.dialect
        self._settled: str | None = None if llm.dialect == dialects.AUTO else llm.dialect
        self._exhausted: str | None = None  # every dialect was rejected: not asked again
        self._memory = memory
        self._endpoint = dialects.endpoint_of(llm.base_url)
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self.base_url = llm.base_url
        self._llm = llm
        if self._settled is None:  # say the remembered one until a call settles it
            self.dialect = self._remembered() or dialects.AUTO
        self.meter = meter if meter is not None else UsageMeter(llm.prices, llm.max_cost_usd)
        self.policy = policy or TransportPolicy.from_settings(llm, clock=clock, sleep=sleep)
        self._client: openai.AsyncOpenAI | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

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
        """The SDK client of the running event loop (a new loop gets a new client).

        Call `aclose()` before the loop ends. A client left behind by an ended loop is dropped
        quietly: it is built on `openai.DefaultAsyncHttpxClient`, which, unlike the SDK's
        default wrapper, does not schedule a close on the next loop (that would fail noisily
        with "Event loop is closed").
        """
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = self.new_client(self._llm.max_answer_bytes)
            self._client_loop = loop
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
        client, self._client, self._client_loop = self._client, None, None
        if client is not None:
            await client.close()

    # -- one call ----------------------------------------------------------------------------------

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        async with self.policy.call(self.name):
            if self._settled is not None:
                return await self._complete(request, self._settled, probing=False)
            async with self._probe_lock():
                if self._settled is None:
                    with keeping_slot():
                        return await self._probe(request)
            return await self._complete(request, self._settled, probing=False)

    async def _probe(self, request: ChatRequest) -> ChatAnswer:
        """Try the candidate dialects in turn until one is not rejected (see `dialects`)."""
        if self._exhausted is not None:
            raise ModelUnavailable(self._exhausted)
        remembered = self._remembered()
        rejected: list[_Rejected] = []
        for dialect in dialects.candidates(self.configured_dialect, remembered):
            # OpenAI itself takes json_schema: a 500 there is an outage, not a rejection.
            proven = dialect == remembered or (self.base_url is None and dialect == ORDER[0])
            try:
                return await self._settled_after(request, dialect, proven, remembered)
            except _Rejected as exc:
                rejected.append(exc)
                logger.info("%s: the server rejected dialect %s (%s)", self.name, dialect, exc)
        message = (
            f"{self.name}: the server rejected every structured-output dialect tried: "
            + "; ".join(f"{e.dialect} ({e})" for e in rejected)
            + " (not retried)"
        )
        if any(e.status != 500 for e in rejected):  # a 500 may pass: the next call tries again
            self._exhausted = message
        raise ModelUnavailable(message, attempts=len(rejected))

    async def _settled_after(
        self, request: ChatRequest, dialect: str, proven: bool, remembered: str | None
    ) -> ChatAnswer:
        try:
            answer = await self._complete(request, dialect, probing=True, proven=proven)
        except _Rejected as exc:
            exc.dialect = dialect
            raise
        self._settle(dialect, remembered)
        return answer

    def _probe_lock(self) -> asyncio.Lock:
        """One probe at a time per event loop: the other calls wait for its dialect."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

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

    async def _send(
        self, params: dict[str, Any], max_tokens: int, probing: bool, proven: bool = False
    ) -> Any:
        """One request with the transport's retries. While `probing`, the first attempt goes
        out alone: a rejection of the format raises `_Rejected` (never retried); any other
        failure counts as the first attempt of the usual retries."""
        if not probing:
            return await self.policy.send(self.name, lambda: self._create(params, max_tokens))
        self.policy.guard(self.name)
        try:
            return await self._create(params, max_tokens)
        except openai.APIStatusError as exc:
            if dialects.is_rejection(exc.status_code, proven=proven):
                raise _Rejected(describe_transport_error(exc), exc.status_code) from None
            failed: list[Exception] = [exc]
        except Exception as exc:  # noqa: BLE001 (classified by the retries below)
            failed = [exc]

        async def again() -> Any:
            if failed:
                raise failed.pop()
            return await self._create(params, max_tokens)

        return await self.policy.send(self.name, again)

    async def _complete(
        self, request: ChatRequest, dialect: str, *, probing: bool, proven: bool = True
    ) -> ChatAnswer:
        params, schema_text = self._params(request, dialect)
        input_estimate = estimate_input_tokens(params["messages"], self.name, extra=schema_text)

        async def take_turn(max_tokens: int, turns_before: int) -> Turn:
            first = probing and turns_before == 0
            completion = await self._send(params, max_tokens, first, proven)
            return turn_of(completion, dialect, self.name)

        return await self.answer_in_turns(request, input_estimate, take_turn)

    def larger_output_limit(self, max_tokens: int, input_estimate: int) -> int | None:
        return min(2 * max_tokens, self._llm.context_window - input_estimate)

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

    async def _create(self, params: dict[str, Any], max_tokens: int) -> Any:
        per_call = self._llm.timeout_seconds
        limit: dict[str, Any] = {self._limit_name(): max_tokens}
        request = self.client().chat.completions.create(
            **params,
            **limit,
            timeout=self.policy.timeout_for(per_call),
        )
        return await self.policy.bounded(request, per_call)  # the whole call, body included

    # -- the dialects --------------------------------------------------------------------------

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


class _Rejected(Exception):
    """The server rejected the request format of a dialect (see `dialects.is_rejection`)."""

    def __init__(self, what: str, status: int) -> None:
        super().__init__(what)
        self.status = status
        self.dialect = ""


def turn_of(completion: Any, dialect: str, name: str) -> Turn:
    """A chat completion read as one `Turn` (`name` when it does not say which model answered);
    shared by the direct calls and the Batch API's result lines."""
    answered_by = str(getattr(completion, "model", None) or name)
    choice = completion.choices[0] if completion.choices else None
    message = choice.message if choice is not None else None
    finish = (choice.finish_reason if choice is not None else None) or "stop"
    refusal = getattr(message, "refusal", None) if message is not None else None
    refused = one_line(refusal) if refusal else None
    if finish == "content_filter" and not refused:
        refused = "content filter"
    return Turn(
        text=text_of(message, dialect),
        finish_reason="stop" if finish == "tool_calls" else finish,
        model=answered_by,
        priced_as=answered_by,
        usage=usage_of(completion),
        cut_off=finish == "length",
        refusal=refused,
        refusal_text=refusal,
    )


def text_of(message: Any, dialect: str) -> str:
    """The answer text of a completion's message: the content, or the tool call's arguments."""
    if message is None:
        return ""
    calls = getattr(message, "tool_calls", None) or []
    if dialect == "tools" and calls:
        function = getattr(calls[0], "function", None)
        return str(getattr(function, "arguments", "") or "")
    return str(message.content or "")


def usage_of(completion: Any) -> Usage:
    """One call's token usage as the completion reports it."""
    usage = getattr(completion, "usage", None)
    if usage is None:
        return Usage(calls=1)
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) if details is not None else None
    return Usage(
        calls=1,
        input_tokens=usage.prompt_tokens or 0,
        output_tokens=usage.completion_tokens or 0,
        cached_tokens=cached or 0,
    )


__all__ = ["LOCAL_SERVER_KEY", "OpenAIChatModel", "text_of", "turn_of", "usage_of"]
