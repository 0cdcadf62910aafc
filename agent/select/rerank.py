"""Reordering the top candidates by the model's relevance scores (`[llm] rerank = true`).

The pass itself is a model step (agent/summarize/llm/steps/rerank.py); this is the select side:
which papers are candidates, and the new order. The papers the model scored trade places among
themselves, by score; a paper it did not score (its batch failed, or the answer left it out) and a
paper by a followed author keep their offline place, so a partial answer moves nothing past a
paper nobody judged."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence

from agent.models import Paper
from agent.select.core import Selection
from agent.select.reasons import FOLLOWED_PREFIX, NOTHING

STRONG = 6  # a model score from which the model's judgement is the reason given


def candidates(selection: Selection, limit: int) -> tuple[Paper, ...]:
    """The best `limit` papers of the offline ranking (selected first, then also-new)."""
    return (*selection.selected, *selection.also_new)[:limit]


def reordered(
    ids: Sequence[str], scores: Mapping[str, int], first: Collection[str] = ()
) -> list[str]:
    """`ids` (the candidates, in offline order) with the scored ones sorted by score, highest
    first and stably, into the places the scored ones held; ids without a score and ids in
    `first` (followed authors) stay where they were. With one batch of three failed, its papers
    keep their ranks rather than falling behind every paper the model scored, even a 0."""
    places = [i for i, pid in enumerate(ids) if pid in scores and pid not in first]
    best_first = sorted(places, key=lambda i: (-scores[ids[i]], i))
    order = list(ids)
    for place, i in zip(places, best_first, strict=True):
        order[place] = ids[i]
    return order


def apply_scores(selection: Selection, scores: dict[str, int], limit: int) -> Selection:
    """The selection with its top `limit` candidates reordered by model score (stable), the cap
    kept, and `why` saying so where the model's score is what placed a paper."""
    if not scores:
        return selection
    keep = len(selection.selected)
    pool = list(candidates(selection, limit))
    rest = list((*selection.selected, *selection.also_new)[limit:])
    followed = {
        p.id for p in selection.selected if selection.why.get(p.id, "").startswith(FOLLOWED_PREFIX)
    }
    by_id = {p.id: p for p in pool}
    ranked = [by_id[pid] for pid in reordered([p.id for p in pool], scores, followed)] + rest
    why: dict[str, str] = {}
    for paper in ranked[:keep]:
        offline = selection.why.get(paper.id)
        score = scores.get(paper.id)
        if score is not None and (not offline or score >= STRONG) and paper.id not in followed:
            text = f"model: {score}/10 for your interests"
            why[paper.id] = text if not offline else f"{offline}; {text}"
        else:
            why[paper.id] = offline or NOTHING
    return dataclasses.replace(
        selection, selected=tuple(ranked[:keep]), also_new=tuple(ranked[keep:]), why=why
    )
