"""Catching up: a dated source (`hf-daily`) reads every day since its last good read, at most
`sources.catch_up_days` back, so a day it failed or the machine slept comes in the next digest;
a source that shows only its latest list (arXiv RSS) says which announcement days it missed.

The days each source read for a digest are kept in the store only when the run finished, so a
run that fails after reading reads those days again, and a rebuild of that date the same days."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from agent.errors import SourceError
from agent.models import Paper
from agent.sources import FetchContext, Source


@dataclass(frozen=True)
class DaysRead:
    """A source's papers over the days it read, what to say about them, and the last day
    through which every day was read (None: leave the source's mark where it is)."""

    papers: list[Paper]
    note: str | None = None
    read_through: dt.date | None = None


def missed_days(last: dt.date | None, date: dt.date) -> list[dt.date]:
    """The days after `last` and before `date` (none when nothing was read yet)."""
    if last is None or last >= date:
        return []
    return [last + dt.timedelta(days=n) for n in range(1, (date - last).days)]


async def read_days(source: Source, ctx: FetchContext, last: dt.date | None) -> DaysRead:
    """The source's papers of ctx.date and, for a dated source, of the days it missed.

    A missed day that fails is said and read again next run; SourceError only when every
    day failed (the digest date's reason)."""
    missed = missed_days(last, ctx.date)
    if source.latest_only:
        latest = await source.fetch(ctx)
        announced = [day for day in missed if day.weekday() < 5]  # no announcement at weekends
        if not announced:
            return DaysRead(latest, None, ctx.date)
        note = f"{span(announced)} not read: the feed shows only its latest announcement"
        return DaysRead(latest, note, ctx.date)
    if not source.dated:
        return DaysRead(await source.fetch(ctx))
    bound = ctx.sources.catch_up_days
    days = [*missed[len(missed) - bound :], ctx.date] if bound else [ctx.date]
    gone = missed[: len(missed) - len(days) + 1]
    papers: dict[str, Paper] = {}  # a paper listed on two of the days: its first listing
    failed: list[tuple[dt.date, SourceError]] = []
    for day in days:
        try:
            listed = await source.fetch(dataclasses.replace(ctx, date=day))
        except SourceError as exc:
            failed.append((day, exc))
            continue
        for paper in listed:
            papers.setdefault(paper.id, paper)
    if len(failed) == len(days):
        raise failed[-1][1]
    first_failed = failed[0][0] if failed else None
    through = ctx.date if first_failed is None else first_failed - dt.timedelta(days=1)
    return DaysRead(
        list(papers.values()),
        _dated_note(source, last, days, gone, failed),
        through if through >= days[0] else None,
    )


def _dated_note(
    source: Source,
    last: dt.date | None,
    days: Sequence[dt.date],
    gone: Sequence[dt.date],
    failed: Sequence[tuple[dt.date, SourceError]],
) -> str | None:
    said: list[str] = []
    caught = [day for day in days[:-1] if day not in {d for d, _ in failed}]
    if caught and last is not None:
        said.append(f"also read {span(caught)}, missed since its last read on {_day(last)}")
    for day, exc in failed:
        reason = str(exc).removeprefix(f"{source.name}: ")
        said.append(f"{_day(day)} not read ({reason}): the next run tries it again")
    if gone:
        said.append(f"{span(gone)} not read: more than sources.catch_up_days back")
    return "; ".join(said) or None


def span(days: Sequence[dt.date]) -> str:
    """`Tue 2026-12-01`, or `Wed 2026-12-02 to Fri 2026-12-04 (3 days)`."""
    if len(days) == 1:
        return _day(days[0])
    return f"{_day(days[0])} to {_day(days[-1])} ({len(days)} days)"


def _day(day: dt.date) -> str:
    return f"{day:%a} {day.isoformat()}"


__all__ = ["DaysRead", "missed_days", "read_days", "span"]
