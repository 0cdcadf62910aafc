"""`digest daily` for several readers ([readers.NAME]): one lock and one fetch for all; each
reader's own selection and seen ledger; one shared pass that writes every selected paper's
blurb once (in as few calls as the budget allows); then each reader's digest (grouping,
headline, render, archive, send) on its own. A reader whose delivery fails is spooled and
named; the others still get theirs, and nobody is sent anything twice."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.config import Settings
from agent.errors import DeliveryError, DigestError
from agent.models import Paper, SourceHealth, Usage
from agent.pipeline import (
    DailyOptions,
    Picked,
    Progress,
    RunOutcome,
    daily_decisions,
    digest_for,
    fetch_all,
    model_budget,
    pick_papers,
    reader_interests,
)
from agent.readers import Reader, chosen_readers
from agent.sources import FetchContext
from agent.store import Store
from agent.summarize import EngineDecision
from agent.wording import plural

if TYPE_CHECKING:
    from agent.summarize.llm import Budget

logger = logging.getLogger(__name__)


def _ignore(_: str) -> None:
    return None


@dataclass(frozen=True)
class ReaderResult:
    """One reader's run: the outcome, or why their digest is spooled (`spooled`)."""

    reader: str
    outcome: RunOutcome | None
    spooled: str | None = None


@dataclass(frozen=True)
class ReadersOutcome:
    results: tuple[ReaderResult, ...]
    health: tuple[SourceHealth, ...]
    engine_reason: str
    shared: Usage  # the shared blurbs pass (its calls are in no reader's digest)
    seconds: float = 0.0

    @property
    def spooled(self) -> list[str]:
        return [r.reader for r in self.results if r.spooled is not None]

    def delivery_error(self) -> DeliveryError | None:
        """Exit 4, naming whose digest is spooled, when any is."""
        spooled = self.spooled
        if not spooled:
            return None
        others = [r.reader for r in self.results if r.spooled is None]
        rest = f"; {', '.join(others)} got theirs" if others else ""
        return DeliveryError(
            f"delivery failed for {', '.join(spooled)}: spooled to the outbox "
            f"(`digest outbox flush` sends it){rest}"
        )


def run_readers(
    settings: Settings,
    options: DailyOptions,
    names: Sequence[str] = (),
    progress: Progress = _ignore,
) -> ReadersOutcome:
    """The daily job for every reader (or those `names`); ConfigError for an unknown name."""
    from agent.lock import run_lock

    started = time.monotonic()
    readers = chosen_readers(settings, names)
    # Sources and engine are top-level settings, the same for every reader; whether to send
    # is each reader's (their recipients).
    specs, decision, _ = daily_decisions(readers[0].settings, options)
    sends = {r.name: _sends(r, options) for r in readers}
    with run_lock(settings.home), Store.open(settings.home) as store:
        run_id = store.start_run(options.date, "daily")
        try:
            outcome = _stages(settings, options, store, specs, decision, readers, sends, progress)
        except BaseException as exc:
            store.finish_run(run_id, "failed", message=str(exc) or type(exc).__name__)
            raise
        status = _status(outcome)
        counts = {
            r.reader: len(r.outcome.selection.selected)
            for r in outcome.results
            if r.outcome is not None and r.outcome.selection is not None
        }
        store.finish_run(run_id, status, counts=counts, message=_summary_line(outcome))
    return dataclasses.replace(outcome, seconds=round(time.monotonic() - started, 2))


def _sends(reader: Reader, options: DailyOptions) -> bool:
    return daily_decisions(reader.settings, options)[2]


def _stages(
    settings: Settings,
    options: DailyOptions,
    store: Store,
    specs: Sequence[str],
    decision: EngineDecision,
    readers: Sequence[Reader],
    sends: dict[str, bool],
    progress: Progress,
) -> ReadersOutcome:
    progress("reading the readers' libraries")
    interests = {r.name: reader_interests(r.settings, store, options, r.name) for r in readers}
    ctx = FetchContext(date=options.date, settings=settings, store=store)
    fetched = fetch_all(specs, ctx, progress)
    budget = model_budget(settings, decision)  # one for the run: every reader draws on it
    picks: list[Picked] = []
    for reader in readers:
        progress(f"{reader.name}: selecting new papers")
        picks.append(
            pick_papers(
                reader.settings,
                options,
                store,
                fetched,
                decision,
                interests[reader.name],
                reader.name,
                progress,
                budget,
            )
        )
    shared = Usage()
    # --no-cache: every reader's blurbs are asked anew, so writing them first would pay twice.
    if decision.kind == "llm" and len(picks) > 1 and options.use_cache:
        shared = _shared_blurbs(picks, store, options, progress, budget)
    results: list[ReaderResult] = []
    for pick in picks:

        def said(text: str, name: str = pick.reader) -> None:
            progress(f"{name}: {text}")

        try:
            outcome = digest_for(
                pick,
                options,
                store,
                fetched,
                decision,
                sends[pick.reader],
                said,
                budget,
            )
        except DeliveryError as exc:
            logger.info("%s: %s", pick.reader, exc)
            results.append(ReaderResult(pick.reader, None, str(exc)))
            continue
        results.append(ReaderResult(pick.reader, outcome))
    return ReadersOutcome(tuple(results), fetched.health, decision.reason, shared)


def _shared_blurbs(
    picks: Sequence[Picked],
    store: Store,
    options: DailyOptions,
    progress: Progress,
    budget: Budget | None,
) -> Usage:
    """Write every selected paper's blurb once, per language, before any reader's grouping:
    each reader's blurbs step then finds them kept. A failure here costs nothing but the
    sharing (each reader's own chain writes what is missing)."""
    from agent.summarize.llm import LLMEngine

    by_language: dict[str, tuple[Settings, dict[str, Paper]]] = {}
    for pick in picks:
        language = pick.settings.llm.language
        _, papers = by_language.setdefault(language, (pick.settings, {}))
        papers.update({p.id: p for p in pick.selection.selected})
    total = Usage()
    for language, (settings, papers) in by_language.items():
        progress(f"writing the blurbs of {plural(len(papers), 'paper')} once for every reader")
        try:
            engine = LLMEngine(
                settings, store, use_cache=options.use_cache, batch=True, budget=budget
            )
            total = total + engine.prewrite_blurbs(list(papers.values()))
        except DigestError as exc:
            logger.warning("shared blurbs (%s) not written: %s", language, exc)
    return total


def _status(outcome: ReadersOutcome) -> str:
    """The run's status in the runs table: spooled if anyone's is, else the best of theirs."""
    if outcome.spooled:
        return "spooled"
    done = {r.outcome.status for r in outcome.results if r.outcome is not None}
    return next((s for s in ("sent", "written", "already_sent") if s in done), "empty")


def _summary_line(outcome: ReadersOutcome) -> str:
    parts = []
    for result in outcome.results:
        if result.outcome is not None:
            parts.append(f"{result.reader}: {result.outcome.status}")
        else:
            parts.append(f"{result.reader}: spooled")
    return "; ".join(parts)


__all__ = ["ReaderResult", "ReadersOutcome", "run_readers"]
