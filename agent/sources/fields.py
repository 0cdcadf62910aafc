"""Small value parsers shared by the feed parsers (dates, tag names, de-duplicated lists)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable


def iso_datetime(value: object) -> dt.datetime | None:
    """An aware datetime from ISO 8601 text (UTC when no offset), None when absent or invalid."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """The values in first-seen order, each once."""
    return tuple(dict.fromkeys(values))


def local_name(tag: str) -> str:
    """An XML tag without its namespace: '{http://www.w3.org/2005/Atom}feed' -> 'feed'."""
    return tag.rsplit("}", 1)[-1]
