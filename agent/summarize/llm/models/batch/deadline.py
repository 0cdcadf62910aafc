"""When a run stops waiting for its batches: `[llm] batch_deadline` as a moment in time."""

from __future__ import annotations

import datetime as dt


def deadline_at(setting: str, now: dt.datetime) -> dt.datetime:
    """The deadline of a run started at `now` (aware, local time), from the normalised setting
    (`config.batch_deadline`): "<n>s" after `now`, or today's "HH:MM", which may have passed
    already (then the run does not wait at all)."""
    if setting.endswith("s"):
        return now + dt.timedelta(seconds=int(setting[:-1]))
    hours, minutes = (int(part) for part in setting.split(":"))
    return now.replace(hour=hours, minute=minutes, second=0, microsecond=0)


def seconds_left(setting: str, now: dt.datetime | None = None) -> float:
    """Seconds from `now` (default: the local time) to the deadline; negative when past."""
    now = now or dt.datetime.now().astimezone()
    return (deadline_at(setting, now) - now).total_seconds()


def deadline_in_words(setting: str) -> str:
    """The deadline in words: "06:30", "45 min after the start", "90 s after the start"."""
    if not setting.endswith("s"):
        return setting
    seconds = int(setting[:-1])
    if seconds % 60 == 0:
        return f"{seconds // 60} min after the start"
    return f"{seconds} s after the start"


__all__ = ["deadline_at", "deadline_in_words", "seconds_left"]
