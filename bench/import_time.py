"""Which imports make the `digest` command slow to start: a `python -X importtime` summary.

For each entry point (the CLI alone, as `digest --help` loads it; and the modules a
`digest daily --engine offline` run loads), prints the total import time and the slowest
top-level packages and modules. It REPORTS only, never fails: CI calls it before the tests
(`make test`) so a slow new import shows up in the log. Takes a couple of seconds.

    .venv/bin/python bench/import_time.py [--top 8]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINTS = {
    "digest --help (agent.cli)": "import agent.cli",
    "digest daily, offline": (
        "import agent.cli, agent.pipeline, agent.terminal, agent.summarize.offline, "
        "agent.sources.local, agent.render"
    ),
}
# Imports that should stay off the start-up path (each costs a large share of a second; an
# ordinary offline day needs none of them, scipy included).
WATCH = ("scipy", "sklearn", "openai", "langchain_core", "tiktoken")
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def importtime(statement: str) -> list[tuple[int, int, int, str]]:
    """(self us, cumulative us, depth, module) per import, from `python -X importtime`."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        print(f"  could not import: {done.stderr.strip().splitlines()[-1:]}")
        return []
    rows = []
    for line in done.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            depth = (len(m.group(3)) - 1) // 2
            rows.append((int(m.group(1)), int(m.group(2)), depth, m.group(4)))
    return rows


def report(label: str, rows: list[tuple[int, int, int, str]], top: int) -> None:
    total = sum(r[0] for r in rows)
    print(f"{label}: {total / 1e6:.2f} s importing {len(rows)} modules")
    packages: dict[str, int] = defaultdict(int)
    for self_us, _, _, name in rows:
        packages[name.split(".")[0]] += self_us
    worst = sorted(packages.items(), key=lambda kv: -kv[1])[:top]
    print("  by package: " + ", ".join(f"{name} {us / 1e3:.0f} ms" for name, us in worst))
    slow = sorted(rows, key=lambda r: -r[0])[:top]
    print("  slowest modules (self): " + ", ".join(f"{r[3]} {r[0] / 1e3:.0f} ms" for r in slow))
    loaded = {r[3] for r in rows}
    watched = [w for w in WATCH if any(n == w or n.startswith(w + ".") for n in loaded)]
    if watched:
        print(f"  note: loads {', '.join(watched)} (heavy; import where used)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    print("import times (python -X importtime; reported, never enforced)")
    for label, statement in ENTRY_POINTS.items():
        report(label, importtime(statement), args.top)


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # noqa: BLE001 - a report must never fail the build
        print(f"import-time report unavailable: {exc}")
