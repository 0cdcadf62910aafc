"""Time and peak memory of `digest daily` end to end on the bundled 207-paper sample (offline).

Runs the real console entry point in a subprocess, several times, with a fresh DIGEST_HOME.
Target (issue 2): <= 2 s wall. Numbers depend on the machine; this prints them, never asserts.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5


def one_run(home: Path) -> tuple[float, float]:
    env = {**os.environ, "DIGEST_HOME": str(home)}
    env.pop("OPENAI_API_KEY", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "agent",
            "daily",
            "--source",
            "sample",
            "--engine",
            "offline",
            "--no-send",
            "--out",
            str(home / "out"),
            "--date",
            "2026-11-26",
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    seconds = time.perf_counter() - start
    peak_mib = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return seconds, peak_mib


def main() -> None:
    times, peaks = [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as home:
            seconds, peak = one_run(Path(home))
        times.append(seconds)
        peaks.append(peak)
    print(f"digest daily, sample (207 papers), offline engine, {RUNS} runs, {os.cpu_count()} cores")
    print(
        f"  wall time: median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s (target <= 2 s)"
    )
    print(f"  peak RSS of the process: {max(peaks):.0f} MiB")


if __name__ == "__main__":
    main()
