"""Structured-output dialects: how a request asks for JSON, and which one a server takes.

``auto`` (the default) tries the strongest form first and moves down the list when the server
rejects the request format: OpenAI's strict ``json_schema``, llama.cpp's ``json_object`` with a
``schema``, tool calling, then plain ``json_object`` with the schema in the prompt. A rejection
is an HTTP 400/415/422/501, or a 500 while the dialect is still unproven (llama-cpp-python's
server answers 500 to ``json_schema``); it is never retried. What is no rejection ends the
probe at once, whatever its status: a 404 (an unknown model, a base URL without /v1: no dialect
would find it) and a request over the server's context window (`transport.is_over_context`:
the same request is as long in every dialect). The dialect that worked is remembered per base
URL and model in the state database (`DialectMemory`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from agent.core.urls import without_secrets
from agent.store import DialectMemory
from agent.summarize.llm.chat import ChatRequest
from agent.summarize.llm.models.json_schema import (
    closed_json_schema,
    schema_name,
    with_schema_in_prompt,
)

logger = logging.getLogger(__name__)

AUTO = "auto"
ORDER: tuple[str, ...] = ("json_schema", "json_object_schema", "tools", "json_object")
REJECTED_STATUS = frozenset({400, 415, 422, 501})  # not 404: a wrong model or path
UNPROVEN_REJECTED_STATUS = frozenset({500})  # only while no structured call has worked yet


def rejections(proven: bool) -> frozenset[int]:
    """The HTTP statuses that reject a dialect's request format (move on, do not retry)."""
    return REJECTED_STATUS if proven else REJECTED_STATUS | UNPROVEN_REJECTED_STATUS


def candidates(configured: str, remembered: str | None) -> list[str]:
    """The dialects to try, in order: an explicit one alone; for auto, the remembered one first."""
    if configured != AUTO:
        return [configured]
    if remembered in ORDER:
        return [remembered, *(d for d in ORDER if d != remembered)]
    return list(ORDER)


def params(
    dialect: str, request: ChatRequest, *, model: str, temperature: float, seed: int | None
) -> tuple[dict[str, Any], str]:
    """The request parameters (without max tokens) in `dialect`, and the schema text sent out
    of band (for the input-token estimate; empty when the schema is in the messages)."""
    name = schema_name(request.schema_name)
    out: dict[str, Any] = {
        "model": model,
        "messages": [dict(message) for message in request.messages],
        "temperature": temperature,
    }
    if seed is not None:
        out["seed"] = seed
    if dialect == "json_schema":
        schema = closed_json_schema(request.schema, strict=True)
        out["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": name, "strict": True, "schema": schema},
        }
    elif dialect == "json_object_schema":
        schema = closed_json_schema(request.schema, strict=False)
        out["response_format"] = {"type": "json_object", "schema": schema}
    elif dialect == "json_object":
        schema = closed_json_schema(request.schema, strict=False)
        out["messages"] = with_schema_in_prompt(request.messages, schema)
        out["response_format"] = {"type": "json_object"}
        return out, ""  # the schema is in the messages already
    elif dialect == "tools":
        schema = closed_json_schema(request.schema, strict=True)
        out["tools"] = [
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
        out["tool_choice"] = {"type": "function", "function": {"name": name}}
        out["parallel_tool_calls"] = False
    else:
        raise ValueError(f"unknown dialect {dialect!r}")
    return out, json.dumps(schema)


def endpoint_of(base_url: str | None) -> str:
    """The memory key of an endpoint: its base URL without a trailing slash ("" for OpenAI),
    and without what may be a secret (a user:password@ or a query): the key is stored."""
    return without_secrets(base_url or "").rstrip("/")


__all__ = [
    "AUTO",
    "ORDER",
    "DialectMemory",
    "candidates",
    "endpoint_of",
    "params",
    "rejections",
]
