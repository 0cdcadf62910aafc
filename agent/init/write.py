"""Render the answers into a commented digest.toml (Jinja2), check it loads, write it once."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import SecretStr

from agent.config import Settings, load_settings
from agent.core.atomic import write_atomic
from agent.errors import ConfigError
from agent.init.answers import InitAnswers
from agent.init.schedule_lines import crontab_lines, on_calendar, unit_environment

PASSWORD_VARIABLE = "DIGEST_EMAIL__PASSWORD"


def toml_value(value: Any) -> str:
    """A TOML literal for a string, number, bool or list of them (JSON strings are TOML strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("agent.init", "templates"),
        autoescape=False,  # TOML, not HTML; values go through the `toml` filter
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["toml"] = toml_value
    return env


def render_config(answers: InitAnswers, *, env_file: Path | None = None) -> str:
    """The commented digest.toml for these answers."""
    return (
        _environment()
        .get_template("digest.toml.j2")
        .render(
            a=answers,
            sources=answers.sources(),
            today=dt.date.today().isoformat(),
            env_file=str(env_file) if env_file else None,
            library_supported="library" in Settings.model_fields,
            on_calendar=on_calendar(answers.cron, answers.tz),
        )
    )


@dataclass(frozen=True)
class InitResult:
    """What `digest init` wrote, and the lines that install the schedule: crontab lines, and
    for a systemd timer its OnCalendar (None: systemd cannot say the same) and the service's
    Environment lines."""

    config: Path
    env_file: Path | None
    settings: Settings
    crontab: tuple[str, ...]
    on_calendar: str | None
    unit_environment: tuple[str, ...]


def _check(answers: InitAnswers) -> None:
    problems = answers.problems()
    if problems:
        raise ConfigError("; ".join(problems))


def _load_rendered(text: str, directory: Path) -> Settings:
    """Load the rendered file as `digest` will, so a file that would not load is never written."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".toml", dir=directory, delete=False) as handle:
        handle.write(text)
    try:
        return load_settings(Path(handle.name))
    finally:
        Path(handle.name).unlink(missing_ok=True)


def _digest_command() -> str:
    """How cron should call digest: the script next to this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "digest"
    if beside.is_file():
        return str(beside)
    return shutil.which("digest") or "digest"


def write_config(
    answers: InitAnswers,
    path: Path,
    *,
    force: bool = False,
    password: SecretStr | None = None,
) -> InitResult:
    """Write `path` (and, with a password, a 0600 env file beside it); ConfigError when it
    exists and not `force`, or when the answers are incomplete or invalid."""
    path = path.expanduser().resolve()
    env_file = path.with_name("digest.env") if password is not None else None
    for target in (path, env_file):
        if target is not None and target.exists() and not force:
            raise ConfigError(f"{target} exists; use --force to overwrite it")
    _check(answers)
    text = render_config(answers, env_file=env_file)
    settings = _load_rendered(text, path.parent)
    write_atomic(path, text.encode("utf-8"))
    if env_file is not None and password is not None:
        line = f"{PASSWORD_VARIABLE}={shlex.quote(password.get_secret_value())}\n"
        write_atomic(env_file, line.encode("utf-8"), mode=0o600)
    settings.home.mkdir(parents=True, exist_ok=True)  # where the crontab line logs, from day one
    return InitResult(
        config=path,
        env_file=env_file,
        settings=settings,
        crontab=tuple(
            crontab_lines(
                answers.cron,
                digest=_digest_command(),
                config=path,
                home=settings.home,
                env_file=env_file,
                log_file=settings.home / "cron.log",
                tz=answers.tz,
            )
        ),
        on_calendar=on_calendar(answers.cron, answers.tz),
        unit_environment=(
            unit_environment("DIGEST_HOME", settings.home),
            unit_environment("DIGEST_CONFIG", path),
        ),
    )


__all__ = ["InitResult", "render_config", "toml_value", "write_config"]
