"""CPU seconds (user + system) of `digest --help` and of `digest daily` on the bundled sample
with the offline engine, each the median of 5 fresh processes (fresh DIGEST_HOME per daily run):
the daily run as it is every day (the compiled templates in the cache, from an earlier run) and
as on the very first run (an empty template cache).

    .venv/bin/python bench/cli_cpu.py [--runs 5]

Targets (issue 13, printed, never asserted): daily <= 1.0 s, --help <= 0.25 s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from cpu import child_cpu, digest_command, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DIGEST_"))}
    digest = digest_command()
    print(f"{' '.join(digest)}; {os.cpu_count()} cores (shared machine: CPU time, not wall)")
    helps = [child_cpu([*digest, "--help"], env) for _ in range(args.runs)]
    print(summary("digest --help", helps, 0.25))
    with tempfile.TemporaryDirectory() as kept_cache:
        daily_cpu(digest, {**env, "XDG_CACHE_HOME": kept_cache})  # fills the template cache
        daily = [daily_cpu(digest, {**env, "XDG_CACHE_HOME": kept_cache}) for _ in range(args.runs)]
    print(summary("digest daily --source sample --engine offline", daily, 1.0))
    first = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as empty_cache:
            first.append(daily_cpu(digest, {**env, "XDG_CACHE_HOME": empty_cache}))
    print(summary("the same, first run (empty template cache)", first, 1.0))


def daily_cpu(digest: list[str], env: dict[str, str]) -> float:
    """CPU seconds of one offline sample day in a fresh DIGEST_HOME."""
    with tempfile.TemporaryDirectory() as home:
        cmd = [*digest, "daily", "--source", "sample", "--engine", "offline", "--no-send",
               "--out", str(Path(home) / "out"), "--date", "2026-11-26"]  # fmt: skip
        return child_cpu(cmd, {**env, "DIGEST_HOME": home}, cwd=Path(home))


if __name__ == "__main__":
    main()
