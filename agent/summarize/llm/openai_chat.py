"""Any OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp) through the SDK.

The SDK's own retries are off; `retry.TransportPolicy` owns retries, the run's time budget and
the circuit breaker. This module builds the request for the configured dialect, reads the answer,
handles truncation, refusals and empty answers, and meters usage and cost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import openai

from agent.config import LLMSettings
from agent.models import Usage
from agent.summarize.llm.chat import (
    ChatAnswer,
    ChatModel,
    ChatRequest,
    closed_json_schema,
    schema_name,
    with_schema_in_prompt,
)
from agent.summarize.llm.errors import (
    AnswerTruncated,
    ModelRefused,
    ModelUnavailable,
)
from agent.summarize.llm.meter import UsageMeter
from agent.summarize.llm.retry import RunClock, Sleep, TransportPolicy
from agent.summarize.llm.tokens import estimate_input_tokens
from agent.summarize.llm.transport import CappedTransport

logger = logging.getLogger(__name__)

LOCAL_SERVER_KEY = "not-needed"  # local servers (llama.cpp, vLLM, Ollama) ignore the key


class OpenAIChatModel(ChatModel):
    """`ChatModel` over `openai.AsyncOpenAI`, in one of four structured-output dialects.

    - ``json_schema``: ``response_format={"type": "json_schema", "json_schema": {strict}}``
    - ``json_object_schema``: llama.cpp's ``{"type": "json_object", "schema": ...}``
    - ``json_object``: ``{"type": "json_object"}``, the schema appended to the last user message
    - ``tools``: one function tool with the schema as parameters, forced by ``tool_choice``
    """

    def __init__(
        self,
        llm: LLMSettings,
        *,
        meter: UsageMeter | None = None,
        policy: TransportPolicy | None = None,
        clock: RunClock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.name = llm.model
        self.dialect = llm.dialect
        self.base_url = llm.base_url
        self._llm = llm
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
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key(),
                base_url=self._llm.base_url,
                max_retries=0,
                timeout=self._llm.timeout_seconds,
                http_client=openai.DefaultAsyncHttpxClient(
                    timeout=self._llm.timeout_seconds,
                    transport=CappedTransport(self._llm.max_answer_bytes),
                ),
            )
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        client, self._client, self._client_loop = self._client, None, None
        if client is not None:
            await client.close()

    # -- one call ----------------------------------------------------------------------------------

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        async with self.policy.call(self.name):
            return await self._complete(request)

    async def _complete(self, request: ChatRequest) -> ChatAnswer:
        started = time.monotonic()
        params, schema_text = self._params(request)
        input_estimate = estimate_input_tokens(params["messages"], self.name, extra=schema_text)
        max_tokens = request.max_output_tokens
        usage = Usage()
        calls = 0
        length_retried = empty_retried = False
        last_raw: str | None = None
        while True:
            self.meter.check(self.name, input_estimate, max_tokens)
            completion = await self.policy.send(
                self.name, lambda n=max_tokens: self._create(params, n)
            )
            calls += 1
            call_usage = _usage_of(completion)
            self.meter.add(self.name, call_usage)
            usage = usage + self.meter.priced(self.name, call_usage)
            choice = completion.choices[0] if completion.choices else None
            message = choice.message if choice is not None else None
            finish = (choice.finish_reason if choice is not None else None) or "stop"
            refusal = getattr(message, "refusal", None) if message is not None else None
            if refusal or finish == "content_filter":
                reason = _one_line(refusal) if refusal else "content filter"
                raise ModelRefused(
                    f"{self.name} refused the {request.step} request: {reason}",
                    attempts=calls,
                    last_raw=refusal,
                )
            text = self._text_of(message)
            last_raw = text or last_raw
            if finish == "length":
                bigger = min(2 * max_tokens, self._llm.context_window - input_estimate)
                if not length_retried and bigger > max_tokens:
                    length_retried = True
                    logger.info(
                        "%s: %s answer cut at %d tokens; asking again with %d",
                        self.name,
                        request.step,
                        max_tokens,
                        bigger,
                    )
                    max_tokens = bigger
                    continue
                raise AnswerTruncated(
                    f"{self.name}: the {request.step} answer was cut off at {max_tokens} "
                    "output tokens",
                    attempts=calls,
                    last_raw=last_raw,
                )
            if not text.strip():
                if not empty_retried:
                    empty_retried = True
                    logger.info("%s: empty %s answer; asking once more", self.name, request.step)
                    continue
                raise ModelUnavailable(
                    f"{self.name}: empty answer to the {request.step} request twice",
                    attempts=calls,
                )
            usage = usage.model_copy(update={"wall_seconds": round(time.monotonic() - started, 3)})
            return ChatAnswer(
                text=text,
                finish_reason="stop" if finish == "tool_calls" else finish,
                model=completion.model or self.name,
                usage=usage,
                cached=False,
            )

    async def _create(self, params: dict[str, Any], max_tokens: int) -> Any:
        limit = "max_tokens" if self.base_url else "max_completion_tokens"
        per_call = self._llm.timeout_seconds
        request = self.client().chat.completions.create(
            **params,
            **{limit: max_tokens},
            timeout=self.policy.timeout_for(per_call),
        )
        return await self.policy.bounded(request, per_call)  # the whole call, body included

    # -- the dialects --------------------------------------------------------------------------

    def _params(self, request: ChatRequest) -> tuple[dict[str, Any], str]:
        """The request parameters (without max tokens) and the schema text sent out of band."""
        name = schema_name(request.schema_name)
        params: dict[str, Any] = {
            "model": self.name,
            "messages": [dict(message) for message in request.messages],
            "temperature": self._llm.temperature,
        }
        if self.dialect == "json_schema":
            schema = closed_json_schema(request.schema, strict=True)
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": name, "strict": True, "schema": schema},
            }
        elif self.dialect == "json_object_schema":
            schema = closed_json_schema(request.schema, strict=False)
            params["response_format"] = {"type": "json_object", "schema": schema}
        elif self.dialect == "json_object":
            schema = closed_json_schema(request.schema, strict=False)
            params["messages"] = with_schema_in_prompt(request.messages, schema)
            params["response_format"] = {"type": "json_object"}
            return params, ""  # the schema is in the messages already
        elif self.dialect == "tools":
            schema = closed_json_schema(request.schema, strict=True)
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": name,
                        "description": f"Record the {request.step} answer.",
                        "parameters": schema,
                        "strict": True,
                    },
                }
            ]
            params["tool_choice"] = {"type": "function", "function": {"name": name}}
            params["parallel_tool_calls"] = False
        else:  # pragma: no cover (LLMSettings.dialect is a Literal)
            raise ModelUnavailable(f"{self.name}: unknown dialect {self.dialect!r}")
        return params, json.dumps(schema)

    def _text_of(self, message: Any) -> str:
        if message is None:
            return ""
        calls = getattr(message, "tool_calls", None) or []
        if self.dialect == "tools" and calls:
            function = getattr(calls[0], "function", None)
            return str(getattr(function, "arguments", "") or "")
        return str(message.content or "")


def _usage_of(completion: Any) -> Usage:
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


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = ["LOCAL_SERVER_KEY", "OpenAIChatModel"]
