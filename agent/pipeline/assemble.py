"""The digest assembled: the summary joined with the selection, every selected paper once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from agent.core.wording import plural
from agent.models import DegradedNote, Digest, SourceHealth, Summary, Theme
from agent.select import Selection

SAMPLE_NOTICE = (
    "This digest uses the bundled sample day (a demo of 207 real papers), not today's papers; "
    "configure sources to get your own."
)


def matched_notice(selection: Selection) -> str | None:
    """'5 papers matched your interests today; 25 more are listed by title.' when the reader's
    relevance threshold applies and something is left out of the picks (None otherwise)."""
    if selection.matched is None or not selection.also_new:
        return None
    if not selection.matched:
        return f"No paper matched {selection.matched_by} today; every new one is listed by title."
    matched = f"{plural(selection.matched, 'paper')} matched {selection.matched_by} today"
    if selection.matched > len(selection.selected):  # more matched than max_papers allows
        return f"{matched}; the closest {len(selection.selected)} are summarised."
    more = plural(len(selection.also_new), "more is", "more are")
    return f"{matched}; {more} listed by title."


def build_digest(
    *,
    kind: Literal["daily", "topic"],
    date: dt.date,
    summary: Summary,
    selection: Selection,
    health: tuple[SourceHealth, ...],
    notices: Sequence[str] = (),
    topic: str | None = None,
    hint: str | None = None,
) -> Digest:
    """Join the summary with the selection: every selected paper once, in a theme or in also_new."""
    papers = {p.id: p for p in (*selection.selected, *selection.also_new, *selection.updated)}
    themes, placed, dropped = _unique_themes(summary.themes, {p.id for p in selection.selected})
    lost = [p.id for p in selection.selected if p.id not in placed]
    also_new = list(
        dict.fromkeys([*lost, *(p.id for p in selection.also_new if p.id not in placed)])
    )
    degraded = [*summary.degraded, *_coverage_notes(dropped, len(lost)), *_source_notes(health)]
    return Digest(
        kind=kind,
        date=date,
        topic=topic,
        engine=summary.engine,
        headline=summary.headline,
        overview=summary.overview,
        themes=themes,
        also_new=tuple(also_new),
        yours=tuple(pid for pid in also_new if pid in selection.yours),
        updated=tuple(p.id for p in selection.updated),
        papers=papers,
        health=health,
        degraded=tuple(degraded),
        notices=tuple(notices),
        usage=summary.usage,
        prompt_versions=summary.prompt_versions,
        why={pid: text for pid, text in selection.why.items() if pid in placed},
        hint=hint,
        model_run=summary.model_run,
    )


def _coverage_notes(dropped: int, lost: int) -> list[DegradedNote]:
    """The last safety net's notes (the summarize stage guarantees coverage): places of
    repeated or unknown papers removed, selected papers no theme had."""
    notes = []
    if dropped:
        notes.append(
            DegradedNote(
                step="coverage",
                reason=f"{dropped} repeated or unknown paper places removed",
                fallback="kept the first",
            )
        )
    if lost:
        notes.append(
            DegradedNote(
                step="coverage", reason=f"{plural(lost, 'paper')} had no theme", fallback="listed"
            )
        )
    return notes


def _source_notes(health: Sequence[SourceHealth]) -> list[DegradedNote]:
    """One note per failed source: skipped, with the reason."""
    return [
        DegradedNote(step="source", scope=h.name, reason=h.reason or "failed", fallback="skipped")
        for h in health
        if h.status == "failed"
    ]


def _unique_themes(
    themes: Sequence[Theme], selected: set[str]
) -> tuple[tuple[Theme, ...], set[str], int]:
    """Each selected paper in its first place only; unknown ids and emptied themes dropped.

    Returns the themes, the ids they place, and how many places were removed."""
    placed: set[str] = set()
    dropped = 0
    kept: list[Theme] = []
    for theme in themes:
        blurbs = []
        for blurb in theme.papers:
            if blurb.paper_id in placed or blurb.paper_id not in selected:
                dropped += 1
                continue
            placed.add(blurb.paper_id)
            blurbs.append(blurb)
        if blurbs and len(blurbs) == len(theme.papers):
            kept.append(theme)
        elif blurbs:
            kept.append(theme.model_copy(update={"papers": tuple(blurbs)}))
    return tuple(kept), placed, dropped


__all__ = ["SAMPLE_NOTICE", "build_digest", "matched_notice"]
