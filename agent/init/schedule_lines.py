"""The lines that install a schedule: crontab lines and a systemd timer's OnCalendar."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from pathlib import Path

from croniter import croniter

# systemd's week runs Monday (1) to Sunday (7); cron's 0 is Sunday too.
_DAYS = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


def _runs(values: Sequence[int], show: Callable[[int], str]) -> str:
    """Sorted values as systemd writes them: three or more in a row as a range (`07..09`)."""
    parts: list[str] = []
    ordered = sorted(set(values))
    start = 0
    for index in range(1, len(ordered) + 1):
        if index < len(ordered) and ordered[index] == ordered[index - 1] + 1:
            continue
        run = ordered[start:index]
        if len(run) >= 3:
            parts.append(f"{show(run[0])}..{show(run[-1])}")
        else:
            parts.extend(show(value) for value in run)
        start = index
    return ",".join(parts)


def _field(values: list[int | str], show: Callable[[int], str] = "{:02d}".format) -> str:
    if values == ["*"]:
        return "*"
    return _runs([int(value) for value in values], show)


def on_calendar(cron: str, tz: str | None) -> str | None:
    """systemd's OnCalendar for a cron expression, or None when systemd cannot say the same:
    cron's "day of month OR weekday" when both are set, and croniter's extensions (L, #)."""
    expr = cron.strip()  # croniter reads the @daily-style macros itself
    try:
        fields, nth_weekday = croniter.expand(expr)
    except (ValueError, KeyError, TypeError):
        return None
    if nth_weekday or any(isinstance(v, str) and v != "*" for field in fields for v in field):
        return None
    minutes, hours, days, months, weekdays = fields
    if days != ["*"] and weekdays != ["*"]:
        return None  # cron runs on either; systemd would need both
    if weekdays == ["*"]:
        week = ""
    else:
        week = _runs([int(d) or 7 for d in weekdays], _DAYS.__getitem__) + " "
    date = f"*-{_field(months)}-{_field(days)}"
    zone = f" {tz}" if tz else ""
    return f"{week}{date} {_field(hours)}:{_field(minutes)}:00{zone}"


def _cron_escaped(command: str) -> str:
    """cron turns an unescaped % of the command into a newline."""
    return command.replace("%", "\\%")


def crontab_lines(
    cron: str,
    *,
    digest: str,
    config: Path,
    home: Path,
    env_file: Path | None,
    log_file: Path,
    tz: str | None,
) -> list[str]:
    """The crontab lines that run `digest daily` with this config at `cron` in zone `tz`
    (`CRON_TZ`, which applies to the lines after it) on DIGEST_HOME `home`, logging to
    `log_file`; the env file, if any, is loaded first."""
    command = (
        f"DIGEST_HOME={shlex.quote(str(home))} {shlex.quote(digest)} daily "
        f"--config {shlex.quote(str(config))}"
    )
    if env_file is not None:
        command = f"set -a && . {shlex.quote(str(env_file))} && set +a && {command}"
    line = f"{cron}  {_cron_escaped(command)} >> {_cron_escaped(shlex.quote(str(log_file)))} 2>&1"
    return ([f"CRON_TZ={tz}"] if tz else []) + [line]


def unit_environment(name: str, value: Path) -> str:
    """An `Environment=` line of a systemd unit (quoted, `%` doubled as units need)."""
    setting = f"{name}={value}".replace("%", "%%")
    needs_quotes = any(c.isspace() or c in "\"'\\" for c in setting)
    if needs_quotes:
        setting = '"' + setting.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"Environment={setting}"


__all__ = ["crontab_lines", "on_calendar", "unit_environment"]
