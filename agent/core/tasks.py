"""Awaiting several things at the same time without leaving any of them behind."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

T = TypeVar("T")


async def gather_or_cancel(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Every result in the order given, all run at the same time. On the first exception (or a
    cancellation) the others are cancelled and awaited before it is raised, as itself (not as
    an ExceptionGroup, so a caller's `except` of that type still catches it): no request is
    left running behind it."""
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()  # a no-op for the finished ones
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


__all__ = ["gather_or_cancel"]
