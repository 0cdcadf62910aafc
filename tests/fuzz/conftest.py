"""Prints what the fuzz targets ran at the end of the session: examples, how many ended in
the target's own error, and the slowest example's CPU time and size."""

from __future__ import annotations

from typing import Any

from tests.fuzz.harness import CPU_BUDGET_SECONDS, STATS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not STATS:
        return
    write = terminalreporter.write_line
    write(f"fuzz targets (CPU budget {CPU_BUDGET_SECONDS:g} s per example):")
    for name, stats in sorted(STATS.items()):
        write(
            f"  {name:<26} {stats.examples:>6} examples, {stats.errors:>5} own errors, "
            f"slowest {stats.slowest * 1000:7.1f} ms (input {stats.slowest_size:,} chars), "
            f"all {stats.total:5.1f} s"
        )
