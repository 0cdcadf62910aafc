"""The HTTP transport under the OpenAI SDK: a cap on how many bytes one answer may have.

The SDK reads a whole response body into memory; a server that answers with hundreds of
megabytes (or never stops) must not take the process with it. `CappedTransport` counts the
bytes as they arrive and stops at `llm.max_answer_bytes` with `AnswerTooLarge` (not retried:
the same question would get the same answer).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from typing import Any, cast

import openai

# The HTTP library the installed SDK is built on: httpx, or httpx2 since openai 3.
_SDK_CLIENT_MODULE = openai.DefaultAsyncHttpxClient.__mro__[1].__module__
httpx: Any = importlib.import_module(_SDK_CLIENT_MODULE.split(".")[0])


class AnswerTooLarge(Exception):
    """A model answer passed the byte cap."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"answer larger than {limit:,} bytes; refused")
        self.limit = limit


class _CappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise AnswerTooLarge(self._limit)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class CappedTransport(httpx.AsyncBaseTransport):
    """`httpx.AsyncHTTPTransport` whose response bodies stop at `limit` bytes."""

    def __init__(self, limit: int, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._limit = limit
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._limit:
            await response.aclose()
            raise AnswerTooLarge(self._limit)
        stream = cast(httpx.AsyncByteStream, response.stream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CappedStream(stream, self._limit),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def too_large(exc: BaseException) -> AnswerTooLarge | None:
    """The AnswerTooLarge behind `exc` (the SDK wraps it as a connection error), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, AnswerTooLarge):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


__all__ = ["AnswerTooLarge", "CappedTransport", "too_large"]
