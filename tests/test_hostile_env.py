"""A broken environment gets one line and a documented exit code, never a traceback: a damaged
state file, a DIGEST_HOME that cannot be written, a full disk (ulimit -f), --out DIR where
DIR/<date> is a file. Real subprocesses, real files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import clean_env, run_digest, run_shell

SAMPLE = ("daily", "--source", "sample", "--engine", "offline", "--no-send", "--date", "2026-11-26")


def one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "nothing said"
    return " ".join(lines)


def test_a_damaged_state_file_is_named_and_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    state = home / "state.sqlite3"
    state.write_bytes(b"this is not a database at all" * 100)
    result = run_digest(*SAMPLE, "--out", str(tmp_path / "out"), home=home, cwd=tmp_path)
    assert result.returncode == 6
    text = one_clear_line(result)
    assert str(state) in text and "move it aside" in text and f"{state}.broken" in text
    assert state.read_bytes().startswith(b"this is not a database")  # never deleted


def _lock_directory(path: Path, locked: bool) -> None:
    """Make `path` refuse new files: permissions for a normal user; for root (as in CI), who
    writes through permissions, the ext4 immutable flag."""
    if os.geteuid() != 0:
        path.chmod(0o500 if locked else 0o700)
        return
    subprocess.run(["chattr", "+i" if locked else "-i", str(path)], check=True)


def test_a_read_only_home_is_exit_2(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    _lock_directory(home, True)
    try:
        result = run_digest(*SAMPLE, home=home, cwd=tmp_path)
    finally:
        _lock_directory(home, False)
    assert result.returncode == 2
    assert "DIGEST_HOME" in one_clear_line(result)


def test_a_home_that_is_a_file_is_exit_2(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a directory", encoding="utf-8")
    result = run_digest(*SAMPLE, home=home / "inside", cwd=tmp_path)
    assert result.returncode == 2
    text = one_clear_line(result)
    assert "DIGEST_HOME" in text and "cannot be created" in text


def test_out_date_that_is_a_file_is_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "2026-11-26").write_text("in the way", encoding="utf-8")
    result = run_digest(*SAMPLE, "--out", str(out), home=tmp_path / "home", cwd=tmp_path)
    assert result.returncode == 2
    text = one_clear_line(result)
    assert str(out / "2026-11-26") in text and "is a file" in text


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell for ulimit")
@pytest.mark.parametrize("blocks", [64, 150])  # full at the start; full in the middle of the run
def test_a_full_disk_is_one_line_exit_6(tmp_path: Path, blocks: int) -> None:
    """`ulimit -f N` (blocks of 512 bytes): files cannot grow past it, as on a full disk."""
    env = clean_env(DIGEST_HOME=str(tmp_path / "home"))
    command = " ".join(
        [
            f"ulimit -f {blocks};",
            sys.executable,
            "-m",
            "agent",
            *SAMPLE,
            "--out",
            str(tmp_path / "out"),
        ]
    )
    result = run_shell(command, cwd=tmp_path, env=env)
    assert result.returncode == 6, result.stderr
    text = one_clear_line(result)
    assert "disk is full" in text and "free some space" in text


def test_a_home_without_write_permission_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same check in-process (root writes through permissions, so the kernel cannot say no
    here): a directory the process may not write is refused before anything is written."""
    from agent.core.home import prepare_home
    from agent.errors import ConfigError

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(ConfigError, match="is not a writable directory"):
        prepare_home(home)
