"""Batch API files: the JSONL of requests, the hash that names a request set, and the results.

A request's ``custom_id`` is a hash of its body, so the same request always has the same id,
identical requests of one run share one line, and the set of ids names the request set: a run
that was stopped and started again builds the same set and finds its batch (see `store`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from agent.core import parsing
from agent.summarize.llm.models.transport import scrub

ENDPOINT: Final = "/v1/chat/completions"  # Final: typed as the literal the SDK expects
MAX_LINES = 50_000  # the Batch API's own limit per batch


@dataclass(frozen=True)
class Line:
    """One request of a batch."""

    custom_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class LineResult:
    """One result line: the completion (a chat.completion JSON object), or why there is none."""

    custom_id: str
    completion: dict[str, Any] | None
    error: str | None = None


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def line_for(body: Mapping[str, Any]) -> Line:
    return Line("r-" + hashlib.sha256(_canonical(body)).hexdigest()[:32], dict(body))


def request_set(lines: Iterable[Line], endpoint: str) -> str:
    """The name of a request set: a hash over the endpoint and the lines' ids."""
    ids = sorted({line.custom_id for line in lines})
    return hashlib.sha256(_canonical({"endpoint": endpoint, "ids": ids})).hexdigest()


def jsonl(lines: Iterable[Line]) -> bytes:
    """The input file: one request per line, in custom_id order."""
    unique = {line.custom_id: line for line in lines}
    rows = (
        {"custom_id": cid, "method": "POST", "url": ENDPOINT, "body": unique[cid].body}
        for cid in sorted(unique)
    )
    return b"".join(_canonical(row) + b"\n" for row in rows)


def parse_results(data: bytes, wanted: Iterable[str]) -> dict[str, LineResult]:
    """The result lines of an output or error file, for the ids in `wanted` (others and
    lines that are not JSON objects are skipped)."""
    ids = set(wanted)
    found: dict[str, LineResult] = {}
    for raw in data.splitlines()[: MAX_LINES + 1]:
        try:
            row = parsing.loads(raw, what="a result line")
        except parsing.JsonError:
            continue
        if not isinstance(row, dict) or not isinstance(row.get("custom_id"), str):
            continue
        if row["custom_id"] not in ids:
            continue
        cid = str(row["custom_id"])
        sent = row.get("response")
        response: dict[str, Any] = sent if isinstance(sent, dict) else {}
        body = response.get("body")
        if response.get("status_code") == 200 and isinstance(body, dict) and not row.get("error"):
            found[cid] = LineResult(cid, body)
        else:
            found[cid] = LineResult(cid, None, _error_of(row, response))
    return found


def _error_of(row: Mapping[str, Any], response: Mapping[str, Any]) -> str:
    error = row.get("error")
    if not isinstance(error, dict):
        body = response.get("body")
        error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    status = response.get("status_code")
    head = f"HTTP {status}" if isinstance(status, int) else "no answer"
    return f"{head}: {scrub(str(message))}" if message else head


__all__ = [
    "ENDPOINT",
    "MAX_LINES",
    "Line",
    "LineResult",
    "jsonl",
    "line_for",
    "parse_results",
    "request_set",
]
