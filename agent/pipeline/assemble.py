"""The digest assembled: the summary joined with the selection, every selected paper once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from agent.models import DegradedNote, Digest, SourceHealth, Summary, Theme
from agent.select import Selection
from agent.wording import plural

SAMPLE_NOTICE = (
    "This digest uses the bundled sample day (a demo of 207 real papers), not today's papers; "
    "configure sources to get your own."
)


def matched_notice(selection: Selection) -> str | None:
    """'5 papers matched your interests today; 25 more are listed by title.' when the reader's
    relevance threshold applies and something is left out of the picks (None otherwise)."""
    if selection.matched is None or not selection.also_new:
        return None
    matched = plural(selection.matched, "paper")
    if selection.matched > len(selection.selected):  # more matched than max_papers allows
        return f"{matched} matched your interests today; the closest {len(selection.selected)} are summarised."
    more = plural(len(selection.also_new), "more is", "more are")
    return f"{matched} matched your interests today; {more} listed by title."


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
    degraded = list(summary.degraded)
    themes, placed, dropped = _unique_themes(summary.themes, {p.id for p in selection.selected})
    if dropped:  # the summarize stage guarantees this; the last safety net says so if not
        degraded.append(
            DegradedNote(
                step="coverage",
                reason=f"{dropped} repeated or unknown paper places removed",
                fallback="kept the first",
            )
        )
    lost = [p.id for p in selection.selected if p.id not in placed]
    if lost:
        degraded.append(
            DegradedNote(
                step="coverage",
                reason=f"{plural(len(lost), 'paper')} had no theme",
                fallback="listed",
            )
        )
    also_new = list(
        dict.fromkeys([*lost, *(p.id for p in selection.also_new if p.id not in placed)])
    )
    failed = [h for h in health if h.status == "failed"]
    degraded.extend(
        DegradedNote(step="source", scope=h.name, reason=h.reason or "failed", fallback="skipped")
        for h in failed
    )
    return Digest(
        kind=kind,
        date=date,
        topic=topic,
        engine=summary.engine,
        headline=summary.headline,
        overview=summary.overview,
        themes=themes,
        also_new=tuple(also_new),
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
