"""The select step for one reader: what the ranking knows of them, then the papers of the day
that are new to them, ranked and capped (and, when asked, reordered by the model)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agent.config import SelectionSettings, Settings
from agent.models import DegradedNote, Paper, Usage
from agent.pipeline.fetch import FetchOutcome
from agent.pipeline.run import Run
from agent.readers import Reader
from agent.select import Interests, ReaderProfile, Selection, select_papers

if TYPE_CHECKING:
    from agent.summarize.llm import RerankInput


@dataclass(frozen=True)
class Picked:
    """One reader's papers of the day, chosen and not yet summarised."""

    reader: str  # '' for the single reader of a config without [readers]
    settings: Settings
    interests: Interests
    selection: Selection
    usage: Usage = field(default_factory=Usage)  # the model relevance pass, when on
    notes: tuple[DegradedNote, ...] = ()


def interests_of(selection: SelectionSettings, profile: ReaderProfile | None = None) -> Interests:
    return Interests(
        text=selection.interests,
        include_keywords=tuple(selection.include_keywords),
        exclude_keywords=tuple(selection.exclude_keywords),
        categories=tuple(selection.categories),
        profile=profile or ReaderProfile(),
        threshold=selection.relevance_threshold,
    )


async def reader_interests(run: Run, reader: Reader, library: Sequence[Path] = ()) -> Interests:
    """What the ranking knows of a reader: interests, library (theirs and `library`, the
    --library files), ratings, follows."""
    from agent.select.reader import build_profile

    selection = reader.settings.selection
    profile = await build_profile(
        selection, run.settings.sources, run.store, library, reader=reader.name
    )
    return interests_of(selection, profile)


async def pick_papers(
    run: Run, reader: Reader, interests: Interests, fetched: FetchOutcome
) -> Picked:
    """A reader's selection from the day's papers: new to this reader, ranked, capped (the
    model's relevance pass, when on, draws on the run's budget)."""
    settings, wanted = reader.settings, reader.settings.selection
    seen = run.store.seen_on_other_dates([p.id for p in fetched.papers], run.date, reader.name)
    selection = select_papers(
        fetched.papers, max_papers=wanted.max_papers, interests=interests, seen=seen
    )
    if not wanted.show_updated:
        selection = dataclasses.replace(selection, updated=())
    picked = Picked(reader.name, settings, interests, selection)
    if (
        settings.llm.rerank
        and run.engine.kind == "llm"
        and selection.total > 1
        and not interests.cold
    ):
        run.progress("asking the model which papers fit you best")
        picked = await rerank_selection(run, picked)
    return picked


def rerank_input(interests: Interests, papers: Sequence[Paper]) -> RerankInput:
    """What the relevance pass asks about: the reader's interests, `not_interested` and library
    titles, over `papers` (the daily run's candidates; `digest eval --relevance --rerank`'s
    day 1 of a profile)."""
    from agent.summarize.llm import RerankInput

    profile = interests.profile
    library = tuple(e.title for e in profile.positives)
    return RerankInput(interests.text, profile.not_interested, library, tuple(papers))


async def rerank_selection(run: Run, picked: Picked) -> Picked:
    """The model's relevance pass over the top candidates; any failure keeps the offline order
    (and is noted). Cached and counted in usage like every model answer."""
    from agent.select.rerank import apply_scores, candidates

    limit = picked.settings.llm.rerank_candidates
    pool = candidates(picked.selection, limit)
    engine = run.model_engine(picked.settings)
    scores, notes = await engine.rerank(rerank_input(picked.interests, pool))
    return dataclasses.replace(
        picked,
        selection=apply_scores(picked.selection, scores, limit),
        usage=engine.meter.total(),
        notes=tuple(notes),
    )


__all__ = [
    "Picked",
    "interests_of",
    "pick_papers",
    "reader_interests",
    "rerank_input",
    "rerank_selection",
]
