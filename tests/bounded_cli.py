"""Helpers of the issue-23 regression tests: the `digest` command run in this process (click's
runner, with exactly the DIGEST_* variables a test gives), a small paper file, and the checks
every hostile case shares: one line on stderr, no traceback."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from agent.cli import main

DAY = "2026-04-27"


def cli(
    tmp_path: Path, *args: str, env: Mapping[str, str] | None = None, input: str | None = None
) -> Result:
    """`digest ARGS` in this process, in `tmp_path`, on DIGEST_HOME tmp_path/home, with `env`."""
    variables = {"DIGEST_HOME": str(tmp_path / "home"), "COLUMNS": "120", **(env or {})}
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        return CliRunner().invoke(main, list(args), env=variables, input=input)
    finally:
        os.chdir(cwd)


def no_traceback(result: Result) -> str:
    """The run's output, after checking that it ended by our own exit, not an exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{result.output}"
    )
    assert "Traceback" not in result.output, result.output
    return result.output


def error_line(result: Result) -> str:
    """The one `error:` line of a failed run (and no traceback)."""
    output = no_traceback(result)
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    return errors[0]


def paper_file(directory: Path, count: int = 3, **extra: Any) -> Path:
    """A .jsonl of `count` small papers (plus `extra` fields on the first)."""
    path = directory / "papers.jsonl"
    rows = [
        {
            "id": f"local-{i}",
            "title": f"Local paper {i} on sparse attention",
            "abstract": "We study.",
        }
        for i in range(1, count + 1)
    ]
    rows[0].update(extra)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def digest_json(out: Path) -> dict[str, Any]:
    """The digest.json of the one digest written under `out`."""
    [path] = list(out.rglob("digest.json"))
    return json.loads(path.read_text(encoding="utf-8"))


def output_text(out: Path) -> str:
    """Every file the run wrote under `out`, as one text."""
    return "".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(out.rglob("*"))
        if p.is_file()
    )
