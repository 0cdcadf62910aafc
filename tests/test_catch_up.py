"""Catching up missed days: how far back a dated source reads, what a failed day or a source
that shows only its latest list says, and the store's mark of the last day read."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from agent.config import SourcesSettings
from agent.errors import SourceError
from agent.models import Paper
from agent.pipeline.catch_up import DaysRead, read_days
from agent.sources import FetchContext, Source
from agent.store import SourceRead, Store

SAT = dt.date(2026, 12, 5)


class Daily(Source):
    """A source that serves any day's list (one paper a day) and records the days asked."""

    def __init__(self, *, latest_only: bool = False, failing: tuple[dt.date, ...] = ()) -> None:
        self.name = "daily"
        self.latest_only = latest_only
        self.dated = not latest_only
        self.failing = failing
        self.asked: list[dt.date] = []

    async def fetch(self, ctx: FetchContext) -> list[Paper]:
        self.asked.append(ctx.date)
        if ctx.date in self.failing:
            raise SourceError(f"daily: HTTP 500 on {ctx.date}")
        return [Paper(id=f"p-{ctx.date}", title="A paper", abstract="", source=self.name)]


def _read(source: Source, last: dt.date | None, catch_up_days: int = 7) -> DaysRead:
    ctx = FetchContext(date=SAT, sources=SourcesSettings(catch_up_days=catch_up_days))
    return asyncio.run(read_days(source, ctx, last))


def test_a_gap_longer_than_catch_up_days_reads_that_many_and_names_the_rest() -> None:
    source = Daily()
    read = _read(source, SAT - dt.timedelta(days=6), catch_up_days=3)
    assert source.asked == [SAT - dt.timedelta(days=n) for n in (3, 2, 1, 0)]
    assert [p.id for p in read.papers] == [f"p-{day}" for day in source.asked]
    assert read.note == (
        "also read Wed 2026-12-02 to Fri 2026-12-04 (3 days), missed since its last read on "
        "Sun 2026-11-29; Mon 2026-11-30 to Tue 2026-12-01 (2 days) not read: more than "
        "sources.catch_up_days back"
    )
    assert read.read_through == SAT


def test_a_missed_day_that_fails_again_is_said_and_stays_unmarked() -> None:
    thursday = SAT - dt.timedelta(days=2)
    source = Daily(failing=(thursday,))
    read = _read(source, SAT - dt.timedelta(days=4))
    assert [p.id for p in read.papers] == ["p-2026-12-02", "p-2026-12-04", "p-2026-12-05"]
    assert read.note == (
        "also read Wed 2026-12-02 to Fri 2026-12-04 (2 days), missed since its last read on "
        "Tue 2026-12-01; Thu 2026-12-03 not read (HTTP 500 on 2026-12-03): the next run "
        "tries it again"
    )
    assert read.read_through == thursday - dt.timedelta(days=1)  # Thursday is read next run


def test_every_day_failing_is_the_source_failing() -> None:
    source = Daily(failing=(SAT - dt.timedelta(days=1), SAT))
    with pytest.raises(SourceError, match="HTTP 500 on 2026-12-05"):
        _read(source, SAT - dt.timedelta(days=2))


def test_catch_up_days_0_reads_the_digest_date_only() -> None:
    source = Daily()
    read = _read(source, SAT - dt.timedelta(days=2), catch_up_days=0)
    assert source.asked == [SAT]
    assert read.note == "Fri 2026-12-04 not read: more than sources.catch_up_days back"


def test_a_latest_only_feed_names_the_announcement_days_it_missed() -> None:
    source = Daily(latest_only=True)
    read = _read(source, SAT - dt.timedelta(days=8))  # last read Friday 27 November
    assert source.asked == [SAT]
    assert read.note == (
        "Mon 2026-11-30 to Fri 2026-12-04 (5 days) not read: the feed shows only its latest "
        "announcement"
    )
    assert read.read_through == SAT


def test_a_weekend_between_two_reads_of_a_latest_only_feed_says_nothing() -> None:
    monday = dt.date(2026, 12, 7)
    source = Daily(latest_only=True)
    ctx = FetchContext(date=monday, sources=SourcesSettings())
    read = asyncio.run(read_days(source, ctx, monday - dt.timedelta(days=3)))
    assert read.note is None and read.read_through == monday


def test_the_next_digest_starts_from_the_last_read_and_a_rebuild_from_where_it_started(
    tmp_path: Path,
) -> None:
    mon, tue, wed = SAT - dt.timedelta(days=5), SAT - dt.timedelta(days=4), SAT - dt.timedelta(3)
    with Store.open(tmp_path) as store:
        store.mark_sources_read(mon, {"hf-daily": SourceRead(None, mon)})
        store.mark_sources_read(
            wed, {"hf-daily": SourceRead(mon, wed), "rss": SourceRead(mon, wed)}
        )
        assert store.last_reads(SAT) == {"hf-daily": wed, "rss": wed}
        assert store.last_reads(wed) == {"hf-daily": mon, "rss": mon}  # rebuilt: Tuesday again
        assert store.last_reads(tue) == {"hf-daily": mon}  # a past date built afterwards
        assert store.last_reads(mon) == {"hf-daily": None}
