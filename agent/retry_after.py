"""The server's wait hint in a Retry-After header, for every HTTP client of the project."""

from __future__ import annotations

import datetime as dt
import email.utils
import math


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (delta-seconds or an HTTP date; a past date is 0).

    None when the header is absent or not a usable wait (text, negative, not finite).
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
