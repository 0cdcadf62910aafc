"""The fake OpenAI server's Files and Batches endpoints (``/v1/files``, ``/v1/batches``).

A batch runs its JSONL lines through the server's own scripted answers (the queue, then the
handler: the same as chat calls) when its scripted outcome comes due, and writes an output
file (status 200 lines) and an error file (the rest), as the real API does. Outcomes, one
`BatchScript` per created batch (queued with ``srv.batches.script(...)``; default: completes
on the first poll)::

    BatchScript("complete", polls=2)       # in_progress for 2 retrieves, then completed
    BatchScript("expire", done_lines=3)    # 3 lines answered, the rest "batch_expired"
    BatchScript("fail")                    # failed (validation), no files
    BatchScript("partial", failing=lambda i, body: i % 2 == 1)   # those lines in the error file
    BatchScript("forever")                 # in_progress until cancelled

``rescript(id, script)`` changes the outcome of a batch still running. To look at afterwards: ``creates`` (batch ids in order), ``cancels``, ``retrieves``,
``lines_run``, ``uploads``; ``batch(id)`` is the batch object as last served.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Json = dict[str, Any]
Outcome = Literal["complete", "expire", "fail", "partial", "forever"]
LineAnswer = Callable[[Json], tuple[int, Json]]


@dataclass(frozen=True)
class BatchScript:
    outcome: Outcome = "complete"
    polls: int = 0  # retrieves answered "in_progress" before the outcome
    done_lines: int = 0  # expire: lines answered before the window ran out
    failing: Callable[[int, Json], bool] | None = None  # partial: lines that fail (by index)


@dataclass
class _Batch:
    obj: Json
    lines: list[Json]
    script: BatchScript
    polls: int = 0


@dataclass
class BatchDesk:
    """Files and batches of one fake server; `answer` runs one request body."""

    answer: LineAnswer
    creates: list[str] = field(default_factory=list)
    cancels: list[str] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    retrieves: int = 0
    lines_run: int = 0
    _files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    _batches: dict[str, _Batch] = field(default_factory=dict)
    _scripts: deque[BatchScript] = field(default_factory=deque)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def script(self, *scripts: BatchScript) -> None:
        """The outcomes of the next batches created, in order."""
        with self._lock:
            self._scripts.extend(scripts)

    def rescript(self, batch_id: str, script: BatchScript) -> None:
        """Give a batch that is still running another outcome (e.g. let a "forever" finish)."""
        with self._lock:
            self._batches[batch_id].script = script

    def batch(self, batch_id: str) -> Json:
        with self._lock:
            return dict(self._batches[batch_id].obj)

    # -- files -----------------------------------------------------------------------------------

    def upload(self, content_type: str, raw: bytes) -> tuple[int, Json]:
        fields = _multipart(content_type, raw)
        data, purpose = fields.get("file"), fields.get("purpose", b"").decode()
        if data is None or purpose != "batch":
            return 400, _error(400, "expected a file with purpose=batch (fake server)")
        with self._lock:
            file_id = self._store(data, purpose)
            self.uploads.append(file_id)
        return 200, self._file_obj(file_id)

    def _store(self, data: bytes, purpose: str) -> str:
        file_id = f"file-fake{next(self._ids):06d}"
        self._files[file_id] = (purpose, data)
        return file_id

    def _file_obj(self, file_id: str) -> Json:
        purpose, data = self._files[file_id]
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": f"{file_id}.jsonl",
            "purpose": purpose,
            "status": "processed",
        }

    def content(self, file_id: str) -> bytes | None:
        with self._lock:
            found = self._files.get(file_id)
        return found[1] if found else None

    # -- batches ---------------------------------------------------------------------------------

    def create(self, body: Any) -> tuple[int, Json]:
        if not isinstance(body, dict) or body.get("endpoint") != "/v1/chat/completions":
            return 400, _error(400, "endpoint must be /v1/chat/completions (fake server)")
        if body.get("completion_window") != "24h":
            return 400, _error(400, "completion_window must be 24h (fake server)")
        with self._lock:
            found = self._files.get(str(body.get("input_file_id")))
            if found is None:
                return 404, _error(404, "no such input file (fake server)")
            lines = [json.loads(line) for line in found[1].splitlines() if line.strip()]
            batch_id = f"batch_fake{next(self._ids):06d}"
            script = self._scripts.popleft() if self._scripts else BatchScript()
            now = int(time.time())
            obj: Json = {
                "id": batch_id,
                "object": "batch",
                "endpoint": body["endpoint"],
                "errors": None,
                "input_file_id": body["input_file_id"],
                "completion_window": "24h",
                "status": "validating",
                "output_file_id": None,
                "error_file_id": None,
                "created_at": now,
                "expires_at": now + 86_400,
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
                "metadata": body.get("metadata"),
            }
            self._batches[batch_id] = _Batch(obj, lines, script)
            self.creates.append(batch_id)
            return 200, dict(obj)

    def retrieve(self, batch_id: str) -> tuple[int, Json]:
        with self._lock:
            self.retrieves += 1
            batch = self._batches.get(batch_id)
            if batch is None:
                return 404, _error(404, "no such batch (fake server)")
            if batch.obj["status"] in ("validating", "in_progress"):
                self._advance(batch)
            return 200, dict(batch.obj)

    def cancel(self, batch_id: str) -> tuple[int, Json]:
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None:
                return 404, _error(404, "no such batch (fake server)")
            self.cancels.append(batch_id)
            if batch.obj["status"] in ("validating", "in_progress", "finalizing"):
                batch.obj.update(status="cancelled", cancelled_at=int(time.time()))
            return 200, dict(batch.obj)

    def _advance(self, batch: _Batch) -> None:
        script = batch.script
        if script.outcome == "forever" or batch.polls < script.polls:
            batch.polls += 1
            batch.obj["status"] = "in_progress"
            return
        if script.outcome == "fail":
            batch.obj.update(
                status="failed",
                failed_at=int(time.time()),
                errors={
                    "object": "list",
                    "data": [{"code": "invalid_request", "message": "Scripted batch failure."}],
                },
            )
            return
        output, errors = [], []
        for index, line in enumerate(batch.lines):
            if script.outcome == "expire" and index >= script.done_lines:
                errors.append(_expired(line))
                continue
            if script.outcome == "partial" and (script.failing or _every_other)(index, line):
                errors.append(_line(line, 500, _error(500, "Scripted line failure.")))
                continue
            status, body = self.answer(line.get("body") or {})
            self.lines_run += 1
            (output if status == 200 else errors).append(_line(line, status, body))
        final = "expired" if script.outcome == "expire" else "completed"
        batch.obj.update(
            status=final,
            output_file_id=self._jsonl(output),
            error_file_id=self._jsonl(errors),
            request_counts={
                "total": len(batch.lines),
                "completed": len(output),
                "failed": len(errors),
            },
            **{f"{final}_at": int(time.time())},
        )

    def _jsonl(self, rows: list[Json]) -> str | None:
        if not rows:
            return None
        data = b"".join(json.dumps(row).encode() + b"\n" for row in rows)
        return self._store(data, "batch_output")


def _every_other(index: int, line: Json) -> bool:
    del line
    return index % 2 == 1


def _line(line: Json, status: int, body: Json) -> Json:
    return {
        "id": f"batch_req_{line.get('custom_id')}",
        "custom_id": line.get("custom_id"),
        "response": {"status_code": status, "request_id": "req_fake", "body": body},
        "error": None,
    }


def _expired(line: Json) -> Json:
    return {
        "id": f"batch_req_{line.get('custom_id')}",
        "custom_id": line.get("custom_id"),
        "response": None,
        "error": {
            "code": "batch_expired",
            "message": "This request could not be executed before the completion window expired.",
        },
    }


def _error(status: int, message: str) -> Json:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _multipart(content_type: str, raw: bytes) -> dict[str, bytes]:
    """The fields of a multipart/form-data body, by name."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    fields: dict[str, bytes] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            fields[name] = part.get_payload(decode=True) or b""
    return fields


__all__ = ["BatchDesk", "BatchScript"]
