"""The command line as a user runs it: `python -m agent …` in a child process, with an
environment free of the developer's own DIGEST_* and OPENAI_* settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

USER_SETTING_PREFIXES = ("DIGEST_", "OPENAI_")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without DIGEST_*/OPENAI_* variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(USER_SETTING_PREFIXES)}
    env.update(extra)
    return env


def digest_process(
    *args: str,
    cwd: Path | None,
    env: dict[str, str],
    timeout: float = 120,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m agent ARGS` with exactly `env`, `input` on stdin (else none); output
    captured, the exit code returned."""
    argv = [sys.executable, "-m", "agent", *args]
    return _run(argv, cwd=cwd, env=env, timeout=timeout, input=input)


def run_digest(
    *args: str,
    home: Path,
    cwd: Path,
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m agent ARGS` on DIGEST_HOME `home`, 120 columns wide, `env` added; `input`
    is what the user types (one answer a line)."""
    return digest_process(
        *args,
        cwd=cwd,
        env=clean_env(**{"DIGEST_HOME": str(home), "COLUMNS": "120", **(env or {})}),
        input=input,
    )


def run_shell(
    command: str, *, cwd: Path, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """One shell command line (`sh -c`) with exactly `env`; output captured, the exit code
    returned."""
    return _run(["sh", "-c", command], cwd=cwd, env=env, timeout=timeout)


def _run(
    argv: list[str],
    *,
    cwd: Path | None,
    env: dict[str, str],
    timeout: float,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        input=input,
    )
