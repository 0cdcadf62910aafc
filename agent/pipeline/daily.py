"""`digest daily`: one orchestrator for one reader or many (a single reader is a list of one).

The command plans the run (`plan_daily`: readers, sources, engine, who is emailed; a bad
setting stops here, before the lock), holds the run lock, opens the run (`open_run`) and
awaits `run_daily`: one run record, the libraries read, every source fetched once, each
reader's selection, one shared pass that writes every selected paper's blurb once (several
readers, model engine), then each reader's digest (grouping, headline, render, archive,
deliver) on its own. One error policy: a reader whose delivery fails is spooled and named and
the others still get theirs; the command then exits 4. Any other failure ends the run, and
the run record says so. Papers are marked seen only after their digest was written (and sent).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.config import EngineChoice, Settings
from agent.core.wording import plural
from agent.errors import ConfigError, DeliveryError, DigestError, NoSourceReadError
from agent.models import Paper, SourceHealth, Usage
from agent.pipeline.fetch import FetchOutcome, read_sources
from agent.pipeline.flush import Flushed, flush_before_run
from agent.pipeline.pick import Picked, pick_papers, reader_interests
from agent.pipeline.reader import RunOutcome, Written, digest_for
from agent.pipeline.run import Run
from agent.pipeline.send import Delivery, send_empty_note
from agent.readers import Reader, chosen_readers
from agent.sources import FetchContext
from agent.store import SourceRead
from agent.summarize import EngineDecision, choose_engine

logger = logging.getLogger(__name__)

NO_SOURCES = (
    "no sources configured: set [sources] default in digest.toml (e.g. "
    '["arxiv-rss:cs.CL", "hf-daily"]), or DIGEST_SOURCES__DEFAULT, or pass --source; '
    "--source sample builds the bundled demo day"
)


@dataclass(frozen=True)
class DailyOptions:
    date: dt.date
    sources: tuple[str, ...] = ()
    engine: EngineChoice = "auto"
    out_dir: Path | None = None
    send: bool | None = None  # None: send when [email] is configured
    force: bool = False
    use_cache: bool = True
    library: tuple[Path, ...] = ()  # --library files, beside the config's `library`
    markdown: bool = False  # also write digest.md (`--format md`)


@dataclass(frozen=True)
class DailyJob:
    """What a daily run does, decided before it starts."""

    sources: tuple[str, ...]
    engine: EngineDecision
    readers: tuple[Delivery, ...]  # each reader, and where their digest goes
    written: Written
    library: tuple[Path, ...] = ()  # --library files, for every reader

    @property
    def named(self) -> bool:
        """True for the [readers.NAME] of a config, False for its single reader."""
        return any(r.reader for r in self.readers)


def plan_daily(settings: Settings, options: DailyOptions, names: Sequence[str] = ()) -> DailyJob:
    """The readers (those `names`d, else every [readers.NAME], else the single reader of the
    settings), the sources, the engine and who is emailed; ConfigError when unusable."""
    readers = chosen_readers(settings, names)  # an unknown name stops here
    # Sources and engine are top-level settings, the same for every reader; whether to email
    # is each reader's (their recipients).
    specs = options.sources or tuple(settings.sources.default)
    if not specs:
        raise ConfigError(NO_SOURCES)
    engine = choose_engine(options.engine, settings)
    return DailyJob(
        sources=tuple(specs),
        engine=engine,
        readers=tuple(_delivery(reader, options) for reader in readers),
        written=Written(options.out_dir, options.markdown),
        library=options.library,
    )


def _delivery(reader: Reader, options: DailyOptions) -> Delivery:
    """Whether `reader`'s digest is emailed (their [email], or --send) and posted."""
    email = reader.settings.email
    send = email.configured if options.send is None else options.send
    if send and not email.configured:
        if not reader.settings.webhooks:
            raise ConfigError(
                "--send needs [email] smtp_host, sender and recipients (or [[webhooks]]) in the config"
            )
        send = False  # --send with webhooks only: post to them, no email to send
    return Delivery(
        reader.name,
        reader.settings,
        email=send,
        post=options.send is not False,
        force=options.force,
    )


@dataclass(frozen=True)
class ReaderResult:
    """One reader's run: the outcome, or why their digest is spooled (`spooled`)."""

    reader: str
    outcome: RunOutcome | None
    spooled: str | None = None
    error: DeliveryError | None = None  # the delivery error, with its payload


@dataclass(frozen=True)
class DailyOutcome:
    results: tuple[ReaderResult, ...]
    health: tuple[SourceHealth, ...]
    engine_reason: str
    shared: Usage  # the shared blurbs pass (its calls are in no reader's digest)
    named: bool = False  # the readers of [readers.NAME] tables, not the single reader
    seconds: float = 0.0
    reads: dict[str, SourceRead] = dataclasses.field(default_factory=dict)  # per source
    outbox: tuple[str, ...] = ()  # what the run sent from the outbox first, and what waits

    def __repr__(self) -> str:
        """Short: asyncio.run reprs its finished task, result included, when it restores the
        SIGINT handler (Python 3.11), and the full repr spelled out every paper (30-50 ms)."""
        readers = ", ".join(
            f"{r.reader}={r.outcome.status if r.outcome else 'spooled'}" for r in self.results
        )
        return f"DailyOutcome(status={self.status!r}, readers=[{readers}])"

    @property
    def spooled(self) -> list[str]:
        return [r.reader for r in self.results if r.spooled is not None]

    @property
    def status(self) -> str:
        """The run's status in the runs table: spooled if anyone's is, else the best of theirs."""
        if self.spooled:
            return "spooled"
        done = {r.outcome.status for r in self.results if r.outcome is not None}
        return next((s for s in ("sent", "written", "already_sent") if s in done), "empty")

    def delivery_error(self) -> DeliveryError | None:
        """Exit 4, naming whose digest is spooled, when any is (the single reader's own
        error as it was raised)."""
        spooled = [r for r in self.results if r.spooled is not None]
        if not spooled:
            return None
        if not self.named and spooled[0].error is not None:
            return spooled[0].error
        others = [r.reader for r in self.results if r.spooled is None]
        rest = f"; {', '.join(others)} got theirs" if others else ""
        return DeliveryError(
            f"delivery failed for {', '.join(r.reader for r in spooled)}: spooled to the "
            f"outbox (`digest outbox flush` sends it){rest}"
        )

    def single(self) -> RunOutcome:
        """The single reader's outcome (the run's time on it); its DeliveryError when spooled."""
        failure = self.delivery_error()
        if failure is not None:
            raise failure
        [result] = self.results
        assert result.outcome is not None
        return dataclasses.replace(result.outcome, seconds=self.seconds)

    def summary_line(self) -> str:
        """What happened, in one line (the run record's message, `digest schedule`'s line):
        the single reader's message, or each named reader's ('alice: ...; bob: ...')."""
        said = [
            (r.reader, r.outcome.message if r.outcome else r.spooled or "") for r in self.results
        ]
        first = "".join(f"{line} " for line in self.outbox)
        if not self.named:
            return first + said[0][1]
        return first + "; ".join(f"{reader}: {message}" for reader, message in said)

    def counts(self) -> dict[str, Any]:
        """The run record's counts: the papers selected and listed, per reader when named."""
        chosen = {
            r.reader: r.outcome.selection
            for r in self.results
            if r.outcome is not None and r.outcome.selection is not None
        }
        if self.named:
            return {name: len(selection.selected) for name, selection in chosen.items()}
        return {
            "selected": sum(len(s.selected) for s in chosen.values()),
            "also_new": sum(len(s.also_new) for s in chosen.values()),
        }

    def usage(self) -> Usage:
        """What the run's model work cost: the shared blurbs and every reader's digest."""
        digests = [r.outcome.digest for r in self.results if r.outcome and r.outcome.digest]
        return sum((d.usage for d in digests), self.shared)


async def run_daily(run: Run, job: DailyJob) -> DailyOutcome:
    """The daily job for every reader of `job`, recorded in the run's store (one record)."""
    started = run.clock()
    record = run.store.start_run(run.date, "daily")
    try:
        outcome = await _readers(run, job)
    except BaseException as exc:
        run.store.finish_run(record, "failed", message=str(exc) or type(exc).__name__)
        raise
    run.store.mark_sources_read(run.date, outcome.reads)  # the days read are in a digest now
    run.store.finish_run(
        record,
        outcome.status,
        counts=outcome.counts(),
        usage=outcome.usage().model_dump(),
        message=outcome.summary_line(),
    )
    return dataclasses.replace(outcome, seconds=round(run.clock() - started, 2))


async def _readers(run: Run, job: DailyJob) -> DailyOutcome:
    outbox = await _flush_first(run, job)
    run.progress("reading the readers' libraries" if job.named else "reading your library")
    interests = {
        to.reader: await reader_interests(run, Reader(to.reader, to.settings), job.library)
        for to in job.readers
    }
    fetched = await _fetch(run, job)
    picks: list[Picked] = []
    for to in job.readers:
        said = run.said(f"{to.reader}: " if to.reader else "")
        said.progress("selecting new papers")
        reader = Reader(to.reader, to.settings)
        picks.append(await pick_papers(said, reader, interests[to.reader], fetched))
    shared = Usage()
    # --no-cache: every reader's blurbs are asked anew, so writing them first would pay twice.
    if run.engine.kind == "llm" and len(picks) > 1 and run.use_cache:
        shared = await _shared_blurbs(run, picks)
    results = [
        await _reader_digest(run, job, to, pick, fetched)
        for to, pick in zip(job.readers, picks, strict=True)
    ]
    return DailyOutcome(
        tuple(results),
        fetched.health,
        job.engine.reason,
        shared,
        job.named,
        reads=fetched.reads,
        outbox=outbox,
    )


async def _flush_first(run: Run, job: DailyJob) -> tuple[str, ...]:
    """What an earlier run left in the outbox (spooled, or unsent when it was stopped) goes
    before today's digest, on the channels this run sends to; what the run says of it."""
    email = any(to.email for to in job.readers)
    hooks = any(to.post and to.settings.webhooks for to in job.readers)
    flushed = Flushed()
    if email or hooks:
        run.progress("sending what waits in the outbox")
        flushed = await flush_before_run(run.settings, run.store, email, hooks)
    return flushed.daily_lines(run.settings.home)


async def _fetch(run: Run, job: DailyJob) -> FetchOutcome:
    """Every source once, for every reader (read concurrently); a dated source reads the days
    it missed too. When none could be read, the readers who asked for the 'nothing new' note
    get one that says so, and NoSourceReadError (exit 3) ends the run, marking nothing."""
    ctx = FetchContext(date=run.date, sources=run.settings.sources, store=run.store)
    fetched = await read_sources(job.sources, ctx, run.progress, run.store.last_reads(run.date))
    failure = fetched.failure()
    if failure is None:
        return fetched
    told = [
        _unread_note(run, to, fetched.health)
        for to in job.readers
        if to.email and to.settings.email.send_empty_note
    ]
    raise NoSourceReadError(" ".join([f"{failure}.", *told]) if told else str(failure))


def _unread_note(run: Run, to: Delivery, health: tuple[SourceHealth, ...]) -> str:
    """The note of a day no source could be read, to one reader; what happened, as a sentence
    (a failed send is said, not raised: the run's error is the sources')."""
    reason = (
        "No source could be read for this day (why is under Sources), so there is no "
        "digest yet and nothing was marked as seen. Run `digest daily` again once they "
        "answer (`digest doctor` checks them): the papers still new then come in that digest."
    )
    said = run.said(f"{to.reader}: " if to.reader else "")
    said.progress("sending the 'no source could be read' note")
    try:
        sent = send_empty_note(said, to, health, reason)
    except DeliveryError as exc:
        sent = f"The note could not be sent: {exc}"
    return f"{to.reader}: {sent}" if to.reader else sent


async def _reader_digest(
    run: Run, job: DailyJob, to: Delivery, pick: Picked, fetched: FetchOutcome
) -> ReaderResult:
    """One reader's digest; a failed delivery is this reader's result, not the run's end."""
    said = run.said(f"{to.reader}: " if to.reader else "")
    try:
        outcome = await digest_for(said, to, pick, fetched, job.written)
    except DeliveryError as exc:
        logger.info("%s: %s", to.reader or "digest", exc)
        return ReaderResult(to.reader, None, str(exc), exc)
    return ReaderResult(to.reader, outcome)


async def _shared_blurbs(run: Run, picks: Sequence[Picked]) -> Usage:
    """Write every selected paper's blurb once, per language, before any reader's grouping:
    each reader's blurbs step then finds them kept. A failure here costs nothing but the
    sharing (each reader's own chain writes what is missing)."""
    by_language: dict[str, tuple[Settings, dict[str, Paper]]] = {}
    for pick in picks:
        language = pick.settings.llm.language
        _, papers = by_language.setdefault(language, (pick.settings, {}))
        papers.update({p.id: p for p in pick.selection.selected})
    total = Usage()
    for language, (settings, papers) in by_language.items():
        run.progress(f"writing the blurbs of {plural(len(papers), 'paper')} once for every reader")
        try:
            engine = run.model_engine(settings, batch=True)
            total = total + await engine.prewrite_blurbs(list(papers.values()))
        except DigestError as exc:
            logger.warning("shared blurbs (%s) not written: %s", language, exc)
    return total


__all__ = [
    "NO_SOURCES",
    "DailyJob",
    "DailyOptions",
    "DailyOutcome",
    "ReaderResult",
    "plan_daily",
    "run_daily",
]
