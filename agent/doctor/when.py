"""The schedule: when the next daily run is, from `[schedule]` in the config."""

from __future__ import annotations

import datetime as dt

from agent.config import ScheduleSettings
from agent.doctor.checks import Check
from agent.errors import ConfigError
from agent.schedule import next_fire_times


def _in(delta: dt.timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"in {days} d {hours} h"
    return f"in {hours} h {minutes} min" if hours else f"in {minutes} min"


def check_schedule(schedule: ScheduleSettings, now: dt.datetime) -> Check:
    if not schedule.cron:
        return Check.warning(
            "schedule",
            "no [schedule] cron in the config: nothing says when the digest runs",
            'add [schedule] cron = "0 7 * * 1-5" and install the line `digest init` prints',
        )
    try:
        upcoming = next_fire_times(schedule.cron, schedule.tz, now, 1)[0]
    except ConfigError as exc:
        return Check.failed("schedule", str(exc), "fix [schedule] cron / tz")
    return Check.ok(
        "schedule",
        f"'{schedule.cron}'{' in ' + schedule.tz if schedule.tz else ''}: next run "
        f"{upcoming:%a %Y-%m-%d %H:%M %Z} ({_in(upcoming - now)}); cron, systemd or "
        "`digest schedule` must run it",
    )


__all__ = ["check_schedule"]
