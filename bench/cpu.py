"""CPU time (user + system) of commands run in fresh subprocesses: the shared helper of the
CPU benchmarks. CPU seconds, not wall time, because the machine is shared and wall time is noisy.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def digest_command() -> list[str]:
    """The installed `digest` console script next to this Python, else `python -m agent`."""
    script = Path(sys.executable).with_name("digest")
    return [str(script)] if script.exists() else [sys.executable, "-m", "agent"]


def child_cpu(
    cmd: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> float:
    """User + system CPU seconds of one run of `cmd` (and its children); raises if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        list(cmd), env=dict(env or os.environ), cwd=cwd, capture_output=True, check=False
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr.decode()[-2000:]}"
        )
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def summary(label: str, seconds: Sequence[float], target: float | None = None) -> str:
    """'label: median 0.93 s (min 0.90, max 1.02; 5 runs) target <= 1.0 s'."""
    med = statistics.median(seconds)
    line = (
        f"{label}: CPU median {med:.2f} s (min {min(seconds):.2f}, max {max(seconds):.2f}; "
        f"{len(seconds)} runs)"
    )
    if target is not None:
        line += f"  target <= {target:g} s: {'ok' if med <= target else 'OVER'}"
    return line
