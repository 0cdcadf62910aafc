"""The lines that install a schedule: a crontab line and a systemd timer's OnCalendar."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_NUMBER = re.compile(r"^\d{1,2}$")
_WEEKDAYS = re.compile(r"^[0-7](-[0-7])?(,[0-7](-[0-7])?)*$")


def _day_range(part: str) -> str:
    first, _, last = part.partition("-")
    return f"{_DAYS[int(first)]}..{_DAYS[int(last)]}" if last else _DAYS[int(first)]


def on_calendar(cron: str, tz: str | None) -> str | None:
    """systemd's OnCalendar for "M H * * DOW" crons (the common daily ones), else None."""
    fields = cron.split()
    if len(fields) != 5:
        return None
    minute, hour, day, month, weekday = fields
    if not (_NUMBER.match(minute) and _NUMBER.match(hour)) or (day, month) != ("*", "*"):
        return None
    if weekday == "*":
        days = ""
    elif _WEEKDAYS.match(weekday):
        days = ",".join(_day_range(part) for part in weekday.split(",")) + " "
    else:
        return None
    zone = f" {tz}" if tz else ""
    return f"{days}*-*-* {int(hour):02d}:{int(minute):02d}:00{zone}"


def crontab_line(
    cron: str, *, digest: str, config: Path, env_file: Path | None, log_file: Path
) -> str:
    """One crontab line that runs `digest daily` with this config (and the env file, if any)."""
    command = f"{shlex.quote(digest)} daily --config {shlex.quote(str(config))}"
    if env_file is not None:
        command = f"set -a && . {shlex.quote(str(env_file))} && set +a && {command}"
    return f"{cron}  {command} >> {shlex.quote(str(log_file))} 2>&1"


__all__ = ["crontab_line", "on_calendar"]
