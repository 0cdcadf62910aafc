"""The fuzz harness: a target is a function over outside bytes and the error types it may end
in; `run` feeds it hypothesis examples and holds each example to a CPU budget.

Each example must finish within `CPU_BUDGET_SECONDS` of CPU (time.process_time, measured inside
the test: a complexity guard, far above what a linear parser needs, far below what a quadratic
one takes on the hostile inputs) and end in a value or one of the target's own error types;
any other exception fails the test with the example. Counts and the slowest example of every
target are kept in `STATS` and printed at the end of the session (tests/fuzz/conftest.py).

Tiers: the default suite runs `DEFAULT_EXAMPLES` per target, derandomized (the same examples on
every machine); the slow tier (CI) runs `LONG_EXAMPLES`, also derandomized; `make fuzz` runs
`FUZZ_EXAMPLES` (environment) with fresh random seeds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CPU_BUDGET_SECONDS = 2.0
DEFAULT_EXAMPLES = 50
LONG_EXAMPLES = 1_000


@dataclass(frozen=True)
class Target:
    name: str
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], object]
    errors: tuple[type[BaseException], ...] = ()
    examples: int = DEFAULT_EXAMPLES  # in the default tier


@dataclass
class Stats:
    examples: int = 0
    errors: int = 0
    slowest: float = 0.0
    slowest_size: int = 0
    slowest_example: str = ""  # its start, to reproduce it by hand
    total: float = 0.0
    tiers: set[str] = field(default_factory=set)


STATS: dict[str, Stats] = {}


def _size(value: Any) -> int:
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, tuple | list):
        return sum(_size(v) for v in value)
    if isinstance(value, dict):
        return sum(_size(k) + _size(v) for k, v in value.items())
    return 0


def run(target: Target, tier: str) -> None:
    """Run `target` for its tier's number of examples; fails on the first bad example."""
    if tier == "fuzz":
        examples, derandomize = int(os.environ.get("FUZZ_EXAMPLES", "20000")), False
    elif tier == "long":
        examples, derandomize = LONG_EXAMPLES, True
    else:
        examples, derandomize = target.examples, True
    stats = STATS.setdefault(target.name, Stats())
    stats.tiers.add(tier)

    @settings(
        max_examples=examples,
        derandomize=derandomize,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(target.strategy)
    def one(value: Any) -> None:
        started = time.process_time()
        try:
            target.check(value)
        except target.errors:
            stats.errors += 1
        spent = time.process_time() - started
        stats.examples += 1
        stats.total += spent
        if spent > stats.slowest:
            stats.slowest, stats.slowest_size = spent, _size(value)
            stats.slowest_example = repr(value)[:300]
        assert spent < CPU_BUDGET_SECONDS, (
            f"{target.name}: one example took {spent:.2f} s of CPU (size {_size(value):,})"
        )

    one()
