"""The source boundary: one abstract method, `fetch`, returning cleaned Papers."""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.models import Paper

if TYPE_CHECKING:
    from agent.config import SourcesSettings
    from agent.store import SourceStore


@dataclass(frozen=True)
class FetchContext:
    """What a source may use: the digest date, the `[sources]` settings (endpoints, limits),
    and the store (HTTP validators, the kept papers)."""

    date: dt.date
    sources: SourcesSettings
    store: SourceStore | None = None
    since: dt.date | None = None  # earliest submission date of interest (topic search)
    query: str | None = None  # free-text topic, for sources that can search
    extra: dict[str, str] = field(default_factory=dict)


class Source(abc.ABC):
    """A place papers come from. `fetch` is a coroutine (the sources of a run are read
    concurrently); it raises SourceError with a one-line reason on failure."""

    name: str
    searches = False  # True for a search (arXiv API, Semantic Scholar): empty is not "a quiet day"
    note: str | None = None  # set by fetch: what it left unread (said in the source's health)
    dated = False  # True when it serves any past day's list (ctx.date): a run reads missed days
    latest_only = False  # True when it serves only its latest list: missed days are gone

    @abc.abstractmethod
    async def fetch(self, ctx: FetchContext) -> list[Paper]:
        """Return the papers of this source for ctx.date (empty list = nothing there today)."""
