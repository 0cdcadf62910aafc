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
_WRITE_PROBLEMS = {
    errno.EROFS: "the file system is read-only; choose another --out (or DIGEST_HOME)",
    errno.EISDIR: "a directory is in the way; move it away or choose another --out",
    errno.ENOTDIR: "a file is in the way where a directory should be; move it away",
    errno.ENAMETOOLONG: "the name is too long",
}


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


_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 10, 11, 13, 26


def state_error(path: Path | str, exc: sqlite3.DatabaseError) -> DigestError:
    """The error for a state file SQLite cannot use: damaged (it is never deleted for the
    user), on a full disk, or some other failure, always naming the file."""
    code = getattr(exc, "sqlite_errorcode", None)
    code = code & 0xFF if isinstance(code, int) else None  # the primary result code
    if code == _SQLITE_FULL or "full" in str(exc):
        return BrokenEnvironment(
            f"the disk is full writing the state file {path} ({exc}); free some space and run again"
        )
    if code == _SQLITE_IOERR:
        return BrokenEnvironment(
            f"the state file {path} could not be written ({exc}): the disk is full, a file "
            "size limit was reached or the disk failed; free some space and run again"
        )
    if code not in (_SQLITE_CORRUPT, _SQLITE_NOTADB) and "integrity check" not in str(exc):
        return BrokenEnvironment(f"the state file {path} cannot be used ({exc})")
    return BrokenEnvironment(
        f"the state file {path} is damaged ({exc}); move it aside and run again "
        f"(mv {path} {path}.broken): a fresh one is created, and papers of earlier digests "
        "may show up once more"
    )


def environment_error(exc: BaseException) -> DigestError | None:
    """A one-line error for a full disk, a damaged database, or a file that cannot be written
    (read-only file system, a directory in the way), else None."""
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        where = f" writing {exc.filename}" if exc.filename else ""
        return BrokenEnvironment(
            f"the disk is full or a file size limit was reached{where} ({exc.strerror}); "
            "free some space and run again"
        )
    if isinstance(exc, sqlite3.DatabaseError):
        return state_error("state.sqlite3 in DIGEST_HOME", exc)
    if isinstance(exc, PermissionError):
        return ConfigError(f"cannot write {exc.filename or 'a file'}: permission denied")
    if isinstance(exc, OSError) and (exc.filename or exc.filename2):
        # The target of a rename is the file the user knows (the source is a temporary file).
        where = exc.filename2 or exc.filename
        reason = _WRITE_PROBLEMS.get(exc.errno or 0)
        if reason is not None:
            return ConfigError(f"cannot write {where}: {reason}")
        return ConfigError(f"cannot use {where}: {exc.strerror or type(exc).__name__}")
    return None
