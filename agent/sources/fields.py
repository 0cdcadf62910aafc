"""Small value parsers shared by the feed parsers (dates, tag names, de-duplicated lists)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from agent.core.one_line import one_line
from agent.models import Paper

log = logging.getLogger(__name__)


def make_paper(origin: str, where: str, /, **fields: Any) -> Paper | None:
    """`Paper(**fields)`, or None (with a warning naming the item) when a field is not one a
    paper can have (a title of zero-width characters only, say): one odd item is skipped,
    the rest of the reply is kept."""
    try:
        return Paper(**fields)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(part) for part in problem["loc"]) or "paper"
        log.warning("%s: skipped %s (%s: %s)", origin, where, field, one_line(problem["msg"], 120))
        return None


def iso_datetime(value: object) -> dt.datetime | None:
    """An aware datetime from ISO 8601 text (UTC when no offset), None when absent or invalid."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def as_list(value: object) -> list[Any]:
    """`value` when a reply gave a JSON list where one belongs, else [] (a number, a string
    or an object there is not a list of anything)."""
    return value if isinstance(value, list) else []


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """The values in first-seen order, each once."""
    return tuple(dict.fromkeys(values))


def local_name(tag: str) -> str:
    """An XML tag without its namespace: '{http://www.w3.org/2005/Atom}feed' -> 'feed'."""
    return tag.rsplit("}", 1)[-1]
