"""What an HTTP 200 from a chat completions endpoint holds: a completion, an error, or neither.

Local servers and the proxies in front of them answer 200 with bodies the SDK makes no
completion of: an SSE stream although ``stream`` was false (read here by joining its deltas),
an ``{"error": ...}`` object (the server's own status in ``error.code``), an HTML page from a
wrong ``base_url`` or a web UI. `completion_of` returns the completion as a JSON object, or
raises `NotACompletion`, which carries a status and a body as an SDK status error does, so
the transport retries it as that status would be (``error.code`` 429 or 5xx; HTTP 200 is
never retried) and describes it in one key-free line. The body is already capped at
``llm.max_answer_bytes`` by the HTTP client.
"""

from __future__ import annotations

from typing import Any

from agent.core import parsing
from agent.core.one_line import one_line

FIRST_CHARS = 80  # of a body that is not a completion, shown in the error
SERVER_MESSAGE_CHARS = 100  # of the server's own error message
_SSE_DATA = "data:"
_SSE_DONE = "[DONE]"


class NotACompletion(Exception):
    """An HTTP 200 that holds no chat completion. `status_code` and `body` are what an SDK
    status error has: the error's own code (else 200) and its one-line message."""

    def __init__(self, message: str, status_code: int = 200) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = {"message": message}


def completion_of(text: str, content_type: str) -> dict[str, Any]:
    """The chat completion in an HTTP 200 body of `content_type`; NotACompletion otherwise."""
    if content_type.startswith("text/event-stream") or text.lstrip().startswith(_SSE_DATA):
        joined = _joined_stream(text)
        if joined is None:
            raise NotACompletion(_not_one(text, content_type))
        return joined
    try:
        data = parsing.loads(text, what="the answer")
    except parsing.JsonError:
        raise NotACompletion(_not_one(text, content_type)) from None
    if not isinstance(data, dict):
        raise NotACompletion(_not_one(text, content_type))
    choices = data.get("choices")
    if not choices and data.get("error"):
        raise _error_in(data["error"])
    if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
        raise NotACompletion(_not_one(text, content_type))
    return data


def _not_one(text: str, content_type: str) -> str:
    kind = content_type.split(";", 1)[0].strip() or "no content type"
    start = one_line(text.strip()[: FIRST_CHARS * 2], FIRST_CHARS) or "an empty body"
    return f"not a chat completion ({kind}): {start}"


def _error_in(error: Any) -> NotACompletion:
    """The error object of an HTTP 200 body, with its status when its code is one."""
    fields = error if isinstance(error, dict) else {"message": error}
    said = one_line(
        fields.get("message") or fields.get("type") or "no message", SERVER_MESSAGE_CHARS
    )
    status = _status(fields.get("code"))
    return NotACompletion(f"{said} (an error sent with HTTP 200)", status or 200)


def _status(code: Any) -> int | None:
    """An HTTP status in an error's ``code`` (503 or "503"); None for "rate_limit_exceeded"."""
    text = str(code).strip() if isinstance(code, int | str) and not isinstance(code, bool) else ""
    value = int(text) if text.isdigit() and len(text) == 3 else None
    return value if value is not None and 400 <= value <= 599 else None


def _joined_stream(text: str) -> dict[str, Any] | None:
    """The chat.completion.chunk events of an SSE body as one completion (content deltas
    joined); None when there is no chunk with a choice in it."""
    pieces: list[str] = []
    reasoning: list[str] = []
    finish: str | None = None
    model, usage, seen = "", None, False
    for line in text.splitlines():
        if not line.startswith(_SSE_DATA):
            continue
        payload = line[len(_SSE_DATA) :].strip()
        if payload == _SSE_DONE:
            break
        try:
            chunk = parsing.loads(payload, what="an event")
        except parsing.JsonError:
            return None
        if not isinstance(chunk, dict):
            return None
        if chunk.get("error"):
            raise _error_in(chunk["error"])
        model = str(chunk.get("model") or model)
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            seen = True
            delta = choice.get("delta") or {}
            if isinstance(delta, dict):
                pieces.append(str(delta.get("content") or ""))
                reasoning.append(
                    str(delta.get("reasoning_content") or delta.get("reasoning") or "")
                )
            finish = choice.get("finish_reason") or finish
    if not seen:
        return None
    message = {"role": "assistant", "content": "".join(pieces)}
    if any(reasoning):
        message["reasoning_content"] = "".join(reasoning)
    return {
        "id": "chatcmpl-joined-stream",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish or "stop"}],
        "usage": usage if isinstance(usage, dict) else None,
    }


__all__ = ["NotACompletion", "completion_of"]
