"""The sources step: every source read once, all at the same time on the run's event loop;
one failing source reported, not fatal. Health and papers keep the order of the specs, not of
completion, so a digest does not depend on which server answered first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from agent.core.tasks import gather_or_cancel
from agent.errors import NoSourceReadError, SourceError
from agent.models import HealthStatus, Paper, SourceHealth
from agent.pipeline.catch_up import DaysRead, read_days
from agent.pipeline.run import ignore
from agent.sources import FetchContext, Source, make_source
from agent.sources.merge import merge_papers
from agent.store import SourceRead

EMPTY_DAY = "the source had no papers for this day"
EMPTY_SEARCH = "the search found no papers"


@dataclass(frozen=True)
class FetchOutcome:
    papers: list[Paper]
    health: tuple[SourceHealth, ...]
    reads: dict[str, SourceRead] = field(default_factory=dict)  # to mark once written

    def failure(self) -> NoSourceReadError | None:
        """The error of a run none of whose sources could be read (None when one could)."""
        if not self.health or any(h.status != "failed" for h in self.health):
            return None
        reasons = "; ".join(f"{h.name}: {h.reason}" for h in self.health)
        return NoSourceReadError(f"no source could be read: {reasons}")


async def fetch_all(
    specs: Sequence[str],
    ctx: FetchContext,
    progress: Callable[[str], None] = ignore,
    last_reads: Mapping[str, dt.date | None] | None = None,
) -> FetchOutcome:
    """`read_sources`; all failing raises NoSourceReadError."""
    fetched = await read_sources(specs, ctx, progress, last_reads)
    failure = fetched.failure()
    if failure is not None:
        raise failure
    return fetched


async def read_sources(
    specs: Sequence[str],
    ctx: FetchContext,
    progress: Callable[[str], None] = ignore,
    last_reads: Mapping[str, dt.date | None] | None = None,
) -> FetchOutcome:
    """Fetch every source concurrently (a service's rate gate still spaces its own requests);
    one failing source is reported, not fatal, and so are all (`FetchOutcome.failure`); any
    other error (a bad file source) cancels the rest and is raised. `last_reads`: the last day
    each source was read, so a dated source catches up the days since (`catch_up`)."""
    sources = [make_source(spec) for spec in specs]  # ConfigError before any network
    marks = last_reads or {}
    results = await gather_or_cancel(
        _read(source, ctx, progress, marks.get(source.name)) for source in sources
    )
    lists: list[list[Paper]] = []
    health: list[SourceHealth] = []
    reads: dict[str, SourceRead] = {}
    for source, result in zip(sources, results, strict=True):
        if isinstance(result, SourceError):
            failure = str(result).removeprefix(f"{source.name}: ")  # the name is shown beside it
            health.append(SourceHealth(name=source.name, status="failed", reason=failure))
            continue
        health.append(_health(source, result))
        lists.append(result.papers)
        if result.read_through is not None:
            reads[source.name] = SourceRead(marks.get(source.name), result.read_through)
    return FetchOutcome(papers=merge_papers(lists), health=tuple(health), reads=reads)


async def _read(
    source: Source, ctx: FetchContext, progress: Callable[[str], None], last: dt.date | None
) -> DaysRead | SourceError:
    """One source's papers (of the days it missed too), or the SourceError that says why not."""
    progress(f"reading {source.name}")
    try:
        return await read_days(source, ctx, last)
    except SourceError as exc:
        return exc


def _health(source: Source, read: DaysRead) -> SourceHealth:
    """ok with the count of distinct papers (and how many repeats were merged), or empty
    with why: a quiet day, or a search that found nothing."""
    papers = read.papers
    status: HealthStatus = "ok" if papers else "empty"
    reason: str | None = None if papers else (EMPTY_SEARCH if source.searches else EMPTY_DAY)
    distinct = len({paper.id for paper in papers})
    if distinct < len(papers):
        reason = f"{len(papers) - distinct} repeated ids merged"
    return SourceHealth(
        name=source.name,
        status=status,
        count=distinct,
        reason=reason,
        note="; ".join(n for n in (source.note, read.note) if n) or None,
    )


__all__ = ["EMPTY_DAY", "EMPTY_SEARCH", "FetchOutcome", "fetch_all", "read_sources"]
