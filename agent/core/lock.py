"""One run at a time per DIGEST_HOME: an exclusive, non-blocking flock on `home/run.lock`.

The lock belongs to the open file, so the kernel releases it when the process exits for any
reason (including kill -9); a stale lock file left on disk is harmless. The file holds the
holder's pid, only to name it in the error. The file is never deleted: deleting it while
another process waits on the old inode would let two runs in at once.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.core.home import prepare_home
from agent.errors import LockedError

LOCK_NAME = "run.lock"


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"


def lock_holder(home: Path) -> str | None:
    """The pid holding `home`'s run lock ('unknown' when unnamed), or None when no process
    holds it. Creates nothing; it holds a shared lock for an instant to find out."""
    try:
        fd = os.open(home / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _holder(fd)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextmanager
def run_lock(home: Path) -> Iterator[Path]:
    """Hold the run lock of `home` for the `with` block; raise LockedError when it is taken."""
    prepare_home(home)
    path = home / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise LockedError(
            f"another digest run is in progress (pid {holder}); try again later"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield path
    finally:
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
