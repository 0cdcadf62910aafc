"""The run lock: one run per DIGEST_HOME; released on exit, on error and when the holder dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agent.core.lock import run_lock
from agent.errors import LockedError

ROOT = Path(__file__).resolve().parents[1]


def test_second_holder_is_refused_with_the_pid(tmp_path: Path) -> None:
    with run_lock(tmp_path) as path:
        assert path.read_text().strip() == str(os.getpid())
        with pytest.raises(LockedError) as caught, run_lock(tmp_path):
            pass
    assert str(caught.value) == (
        f"another digest run is in progress (pid {os.getpid()}); try again later"
    )
    assert caught.value.exit_code == 5


def test_release_allows_reacquire_also_after_an_error(tmp_path: Path) -> None:
    with run_lock(tmp_path):
        pass
    with pytest.raises(RuntimeError), run_lock(tmp_path):
        raise RuntimeError("the run failed")
    with run_lock(tmp_path / "created" / "on" / "demand") as path:
        assert path.name == "run.lock"
    with run_lock(tmp_path):
        pass


def test_lock_of_a_killed_process_is_free(tmp_path: Path) -> None:
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from agent.core.lock import run_lock\n"
        "with run_lock(Path(sys.argv[1])):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(LockedError, match=f"pid {child.pid}"), run_lock(tmp_path):
            pass
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
    with run_lock(tmp_path) as path:  # the kernel released it; the stale file does not matter
        assert path.read_text().strip() == str(os.getpid())
