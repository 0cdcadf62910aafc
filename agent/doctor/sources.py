"""Each configured source, fetched once now, all at the same time: one request each (arXiv's
gate still spaces its own)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from agent.config import Settings
from agent.core.tasks import gather_or_cancel
from agent.core.wording import plural
from agent.doctor.checks import Check
from agent.doctor.selection import category_problems, rss_categories
from agent.errors import ConfigError, SourceError
from agent.sources import FetchContext, make_source

DOCTOR_MAX_RESULTS = 10  # one page of an arXiv API search, not the run's paging


def polite(settings: Settings) -> Settings:
    """The settings for a check: one attempt per source and one page of a search."""
    sources = settings.sources.model_copy(
        update={
            "max_attempts": 1,
            "arxiv_api_max_results": min(
                settings.sources.arxiv_api_max_results, DOCTOR_MAX_RESULTS
            ),
        }
    )
    return settings.model_copy(update={"sources": sources})


async def check_sources(settings: Settings, today: dt.date) -> AsyncIterator[Check]:
    """One Check per source of `sources.default`, in their order; the sources are read at the
    same time, as a run reads them (a service's rate gate still spaces its own requests). No
    store: no validator saved, nothing marked."""
    ctx = FetchContext(date=today, sources=polite(settings).sources, store=None)
    if not settings.sources.default:
        yield Check.failed(
            "sources",
            "no sources configured: `digest daily` stops with exit 2",
            "set [sources] default in the config (or run `digest init`)",
        )
    found = await gather_or_cancel(_check(spec, ctx) for spec in settings.sources.default)
    # "still runs with the other sources" only when one of them could be read
    readable = any(isinstance(f, Check) and f.status != "failed" for f in found)
    for finding in found:
        yield finding.check(readable) if isinstance(finding, _Unread) else finding


@dataclass(frozen=True)
class _Unread:
    """A source that could not be read now: what to do depends on whether another could."""

    part: str
    detail: str

    def check(self, others_readable: bool) -> Check:
        then = (
            "`digest daily` still runs with the other sources"
            if others_readable
            else "no source could be read now, and `digest daily` stops with exit 3 until one "
            "can (nothing is marked as seen)"
        )
        return Check.failed(
            self.part,
            self.detail,
            f"check the network and the source's URL (sources.*_url); {then}",
        )


async def _check(spec: str, ctx: FetchContext) -> Check | _Unread:
    """One source's line: its spec checked, then one fetch now (unread: its line waits for
    the others')."""
    part = f"source {spec}"
    try:
        source = make_source(spec)
    except ConfigError as exc:
        return Check.failed(part, str(exc), "fix sources.default in the config")
    problems = category_problems(rss_categories(source.name))  # the spec as parsed
    if problems:  # arXiv answers an unknown category with an empty feed, as on a weekend
        return Check.failed(part, "; ".join(problems), "fix sources.default in the config")
    if source.name == "local":  # the state's own papers: nothing to reach, nothing to read now
        return Check.ok(part, "papers of earlier digests, read from the state at run time")
    started = time.monotonic()
    try:
        papers = await source.fetch(ctx)
    except ConfigError as exc:  # a file source's path, suffix or contents
        return Check.failed(
            part,
            str(exc).removeprefix(f"{source.name}: "),
            "fix the file or sources.default: `digest daily` stops with exit 2 on it",
        )
    except SourceError as exc:
        return _Unread(part, str(exc).removeprefix(f"{source.name}: "))
    seconds = time.monotonic() - started
    if papers:
        limit = " (first page)" if source.searches else ""
        return Check.ok(part, f"read {plural(len(papers), 'paper')} now{limit}, {seconds:.1f} s")
    if source.searches:
        return Check.warning(
            part, "reachable, but the search found no papers", "try broader search terms"
        )
    return Check.ok(
        part, f"reachable, no papers right now (normal on weekends and holidays), {seconds:.1f} s"
    )


__all__ = ["check_sources", "polite"]
