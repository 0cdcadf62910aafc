"""How many items one call can take: balanced contiguous calls within the token budget."""

from __future__ import annotations

import math
from collections.abc import Sequence

SCHEMA_TOKENS = 300  # the answer schema sent with every call, without its id enum
ID_TOKENS = 5  # each short id in the schema's enum ("P123", ...)


def even_parts(count: int, parts: int) -> list[range]:
    """`range(count)` cut into `parts` contiguous ranges whose sizes differ by at most one."""
    parts = max(1, min(parts, count))
    base, extra = divmod(count, parts)
    out, start = [], 0
    for i in range(parts):
        size = base + (1 if i < extra else 0)
        out.append(range(start, start + size))
        start += size
    return out


def plan_calls(costs: Sequence[int], room: int, per_call: int) -> list[range]:
    """The fewest balanced contiguous calls such that each holds at most `per_call` items and
    their costs fit `room` (an item too big alone still gets a call of its own)."""
    parts = max(1, math.ceil(len(costs) / max(per_call, 1)), math.ceil(sum(costs) / max(room, 1)))
    while True:
        ranges = even_parts(len(costs), parts)
        if parts >= len(costs) or all(sum(costs[i] for i in r) <= room for r in ranges):
            return ranges
        parts += 1


__all__ = ["ID_TOKENS", "SCHEMA_TOKENS", "even_parts", "plan_calls"]
