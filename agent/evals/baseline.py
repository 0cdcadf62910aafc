"""Where the baseline prompts come from: a directory, or `prompts/` at a git ref."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from agent.core.resources import prompts_dir
from agent.errors import ConfigError

_GIT_TIMEOUT = 60


@dataclass(frozen=True)
class PromptSource:
    """A prompts directory and how to name it in tables ("prompts/ at origin/main")."""

    directory: Path
    label: str
    temporary_root: Path | None = None  # removed by cleanup()

    def cleanup(self) -> None:
        if self.temporary_root is not None:
            shutil.rmtree(self.temporary_root, ignore_errors=True)


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, timeout=_GIT_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise ConfigError("--baseline names a git ref, but git is not installed") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"git {' '.join(args)} took more than {_GIT_TIMEOUT} s") from None


def repo_root(start: Path) -> Path | None:
    """The top of the git work tree holding `start`, or None."""
    found = _git(["rev-parse", "--show-toplevel"], start if start.is_dir() else start.parent)
    return Path(found.stdout.decode().strip()) if found.returncode == 0 else None


def prompts_at_ref(ref: str, *, candidate: Path, cwd: Path) -> PromptSource:
    """Extract the prompts directory at `ref` (with `git archive`) into a temporary directory.

    The directory is the candidate's own path inside the repository when the candidate lives
    in one (the usual case: editing `prompts/` in a checkout), else `prompts/` of the repository
    holding `cwd`. Raises ConfigError when there is no repository, the ref is unknown, or the
    ref has no such directory.
    """
    root = repo_root(candidate) or repo_root(cwd)
    if root is None:
        raise ConfigError(
            f"--baseline {ref}: not a directory, and {cwd} is not inside a git repository "
            "(pass a prompts directory, or run from a checkout)"
        )
    try:
        inside = candidate.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        inside = "prompts"
    commit = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root)
    if commit.returncode != 0:
        raise ConfigError(f"--baseline {ref}: no such git ref in {root}")
    archive = _git(["archive", "--format=tar", commit.stdout.decode().strip(), "--", inside], root)
    if archive.returncode != 0:
        message = archive.stderr.decode(errors="replace").strip().splitlines()
        raise ConfigError(
            f"--baseline {ref}: {inside}/ is not in that commit ({message[-1] if message else 'git archive failed'})"
        )
    temp = Path(tempfile.mkdtemp(prefix="digest-eval-baseline-"))
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(temp, filter="data")
    extracted = temp / inside
    if not any(extracted.glob("*.j2")):
        shutil.rmtree(temp, ignore_errors=True)
        raise ConfigError(f"--baseline {ref}: {inside}/ holds no prompt files (*.j2) at that ref")
    return PromptSource(extracted, f"{inside}/ at {ref}", temporary_root=temp)


def resolve_prompts(value: str | None, *, candidate: Path, cwd: Path) -> PromptSource:
    """The baseline for `--baseline VALUE`: a directory when VALUE is one, else a git ref.

    Without VALUE: `HEAD` when the candidate is in a git repository (the committed prompts
    against the edited ones), else the bundled prompts.
    """
    if value is None:
        if repo_root(candidate) is None:
            return PromptSource(prompts_dir(), "bundled prompts")
        try:
            return prompts_at_ref("HEAD", candidate=candidate, cwd=cwd)
        except ConfigError as exc:
            raise ConfigError(
                f"the default baseline is the prompts at HEAD, but "
                f"{str(exc).removeprefix('--baseline HEAD: ')}; pass --baseline "
                "GIT_REF_OR_DIR"
            ) from None
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = cwd / path
    if path.is_dir():
        return PromptSource(path.resolve(), str(value))
    return prompts_at_ref(value, candidate=candidate, cwd=cwd)


__all__ = ["PromptSource", "prompts_at_ref", "repo_root", "resolve_prompts"]
