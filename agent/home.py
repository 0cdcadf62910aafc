"""DIGEST_HOME and the files under it: created and writable, or one clear line saying why not.

Also turns the environment's own failures (a full disk, a damaged SQLite file) into errors the
CLI prints as one line with an exit code, never a traceback.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from agent.errors import BrokenEnvironment, ConfigError, DigestError

_DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def prepare_home(home: Path) -> Path:
    """Create `home` if needed and check that it can be written; ConfigError otherwise."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"DIGEST_HOME {home} cannot be created ({exc.strerror or exc}); "
            "set DIGEST_HOME (or `home` in digest.toml) to a writable directory"
        ) from None
    if not home.is_dir() or not os.access(home, os.W_OK | os.X_OK):
        raise ConfigError(
            f"DIGEST_HOME {home} is not a writable directory; "
            "set DIGEST_HOME (or `home` in digest.toml) to a writable directory"
        )
    return home


def damaged_state(path: Path, exc: sqlite3.DatabaseError) -> BrokenEnvironment:
    """The error for a state file SQLite cannot read (it is never deleted for the user)."""
    return BrokenEnvironment(
        f"the state file {path} is damaged ({exc}); move it aside and run again "
        f"(mv {path} {path}.broken): a fresh one is created, and papers of earlier digests "
        "may show up once more"
    )


def environment_error(exc: BaseException) -> DigestError | None:
    """A one-line error for a full disk or a damaged database, else None."""
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        where = f" writing {exc.filename}" if exc.filename else ""
        return BrokenEnvironment(
            f"the disk is full or a file size limit was reached{where} ({exc.strerror}); "
            "free some space and run again"
        )
    if isinstance(exc, sqlite3.DatabaseError):
        text = str(exc)
        if "full" in text:
            return BrokenEnvironment(
                f"the disk is full writing the state database ({text}); free some space and "
                "run again"
            )
        return BrokenEnvironment(
            f"the state database failed ({text}); if it is damaged, move state.sqlite3 in "
            "DIGEST_HOME aside and run again"
        )
    if isinstance(exc, PermissionError):
        return ConfigError(f"cannot write {exc.filename or 'a file'}: permission denied")
    return None
