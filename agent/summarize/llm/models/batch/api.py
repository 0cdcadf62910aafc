"""The provider's Batch API through the openai SDK: upload, create, retrieve, cancel, download.

Every call is one request through the model's `Transport` (a deadline for all of it, the
retries, the rate limit); a failure is a `ModelUnavailable` that carries the HTTP status, so the
caller can tell "no Batch API here" (404, 405, 501) from an outage. Submitting and polling also
end at the batch deadline (`seconds_left`): a status call that hangs is cut when the run stops
waiting for its batches, not after `llm.timeout_seconds` times the attempts; cancelling gets a
short grace after it, and a finished batch's answers are fetched whatever the time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, TypeVar

import openai
from openai.types import Batch

from agent.summarize.llm.errors import ModelUnavailable
from agent.summarize.llm.models.batch.lines import ENDPOINT
from agent.summarize.llm.models.transport import Transport, scrub

T = TypeVar("T")

UNSUPPORTED_STATUS = frozenset({404, 405, 501})
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
COMPLETION_WINDOW: Final = "24h"
MAX_FILE_BYTES = 200_000_000  # the Batch API's own file limit
CANCEL_GRACE_SECONDS = 15.0  # a cancel is sent after the deadline: this long for it


@dataclass(frozen=True)
class BatchState:
    """What the provider says about one batch."""

    id: str
    status: str  # validating, in_progress, finalizing, completed, failed, expired, cancelling...
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: str | None = None  # the first error of a failed batch, one line

    @property
    def done(self) -> bool:
        return self.status in TERMINAL


def _state(batch: Batch) -> BatchState:
    errors = (batch.errors.data if batch.errors is not None else None) or []
    message = errors[0].message if errors else None
    return BatchState(
        id=str(batch.id),
        status=str(batch.status),
        output_file_id=batch.output_file_id or None,
        error_file_id=batch.error_file_id or None,
        errors=scrub(str(message)) if message else None,
    )


class BatchApi:
    """The Batch API calls of one endpoint; `new_client(max_bytes)` builds an SDK client."""

    def __init__(
        self,
        new_client: Callable[[int], openai.AsyncOpenAI],
        transport: Transport,
        *,
        max_answer_bytes: int,
        seconds_left: Callable[[], float] | None = None,
    ) -> None:
        self._new_client = new_client
        self.transport = transport
        self._seconds_left = seconds_left
        self.max_answer_bytes = max_answer_bytes
        self._client: openai.AsyncOpenAI | None = None

    def _control(self) -> openai.AsyncOpenAI:
        """The one client of the batch calls, made at the first and kept until `aclose()`."""
        if self._client is None:
            self._client = self._new_client(self.max_answer_bytes)
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def _send(self, make: Callable[[], Awaitable[T]], *, grace: float | None = 0.0) -> T:
        """One request through the transport; with `grace` not None, each try also ends
        `grace` seconds after the batch deadline, and none starts after it."""
        if grace is None or self._seconds_left is None:
            return await self.transport.send(lambda _timeout: make())
        seconds_left = self._seconds_left
        if seconds_left() + grace <= 0:
            raise ModelUnavailable(f"{self.transport.name}: the batch deadline passed; not sent")

        def bounded(timeout: float) -> Awaitable[T]:
            return asyncio.wait_for(make(), max(0.001, min(timeout, seconds_left() + grace)))

        return await self.transport.send(bounded)

    async def submit(self, data: bytes, request_set: str) -> BatchState:
        """Upload the JSONL and create a batch of it (chat completions, a 24 h window)."""
        if len(data) > MAX_FILE_BYTES:
            raise ValueError(f"batch file of {len(data):,} bytes is over the API's limit")
        client = self._control()
        uploaded = await self._send(
            lambda: client.files.create(
                file=("requests.jsonl", data, "application/jsonl"), purpose="batch"
            )
        )
        created = await self._send(
            lambda: client.batches.create(
                input_file_id=uploaded.id,
                endpoint=ENDPOINT,
                completion_window=COMPLETION_WINDOW,
                metadata={"request_set": request_set[:64], "client": "paper-digest"},
            )
        )
        return _state(created)

    async def retrieve(self, batch_id: str) -> BatchState:
        client = self._control()
        return _state(await self._send(lambda: client.batches.retrieve(batch_id)))

    async def cancel(self, batch_id: str) -> BatchState:
        client = self._control()
        return _state(
            await self._send(lambda: client.batches.cancel(batch_id), grace=CANCEL_GRACE_SECONDS)
        )

    async def content(self, file_id: str, lines: int) -> bytes:
        """A result file, capped at `lines` answers' worth of bytes (and the API's limit)."""
        cap = min(MAX_FILE_BYTES, self.max_answer_bytes * max(1, lines) + 65_536)
        client = self._new_client(cap)
        try:
            response = await self._send(lambda: client.files.content(file_id), grace=None)
            return bytes(response.content)
        finally:
            await client.close()


__all__ = ["TERMINAL", "UNSUPPORTED_STATUS", "BatchApi", "BatchState"]
