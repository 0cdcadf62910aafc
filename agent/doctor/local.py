"""The parts on this machine: the config file, DIGEST_HOME, the state database."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from agent.config import Settings, config_file, load_settings
from agent.core.lock import lock_holder
from agent.core.wording import plural
from agent.doctor.checks import Check
from agent.errors import ConfigError, SettingsError
from agent.pipeline.flush import waiting
from agent.store import read_state


def check_config(config_path: Path | None) -> tuple[Check, Settings | None]:
    path = config_file(config_path)
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        return Check.failed("config", str(exc), _config_fix(exc, path)), None
    if path is None:
        return (
            Check.warning(
                "config",
                "no digest.toml here and no --config: defaults and DIGEST_* variables only",
                "run `digest init` to write one, or pass --config FILE",
            ),
            settings,
        )
    return Check.ok("config", f"{path.resolve()} is valid"), settings


def _config_fix(error: ConfigError, path: Path | None) -> str:
    """Where to fix a config that does not load (never `init --force`: it overwrites the file)."""
    places = error.places if isinstance(error, SettingsError) else ()
    where = ", ".join(places) if places else str(path) if path else "the setting named"
    return f"fix {where} (every key, its type and default: docs/configuration.md)"


def check_home(home: Path) -> Check:
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=home, prefix=".doctor-", delete=True) as handle:
            handle.write(b"ok")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        return Check.failed(
            "DIGEST_HOME",
            f"{home} is not writable: {exc.strerror or exc}",
            "set DIGEST_HOME (or `home` in the config) to a directory you can write",
        )
    return Check.ok("DIGEST_HOME", f"{home} is writable")


def check_state(home: Path) -> Check:
    try:
        state = read_state(home)
    except sqlite3.Error as exc:
        return Check.failed(
            "state",
            f"{home / 'state.sqlite3'} is unreadable: {exc}",
            "move the file aside; the next run starts a fresh state (papers may repeat once)",
        )
    if state is None:
        return Check.ok("state", "no state yet; the first run creates it")
    if state.schema_version > state.latest_schema:
        return Check.failed(
            "state",
            f"{state.path} has schema {state.schema_version}, newer than this version knows "
            f"({state.latest_schema})",
            "upgrade paper-digest, or point DIGEST_HOME elsewhere",
        )
    found = f"{state.path} readable, {plural(state.papers_seen, 'paper')} seen"
    last = f"{found}; no daily run yet"
    status = ""
    if state.last_run is not None:
        date, status, when = state.last_run
        if status == "running" and lock_holder(home) is None:
            status = "interrupted"  # its record was never finished: it was stopped
        last = f"{found}; last daily run: {date}, {status} (at {when})"
    left = waiting(home)
    if left:
        they = "waits" if left == 1 else "wait"
        return Check.warning(
            "state",
            f"{last}; {plural(left, 'message')} {they} in the outbox",
            "`digest outbox list` says which and why; `digest outbox flush` sends them (the next "
            "daily run also sends them first)",
        )
    if status == "spooled":
        return Check.ok("state", f"{last}; the outbox has been sent since")
    if status == "failed":
        return Check.warning("state", last, "run `digest daily -v` to see why it failed")
    if status == "interrupted":
        return Check.warning(
            "state",
            last,
            f"it was stopped before it finished (a kill, a shutdown); `digest daily --date {date}` "
            "runs that day again",
        )
    return Check.ok("state", last)


__all__ = ["check_config", "check_home", "check_state"]
