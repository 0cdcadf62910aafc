"""Scorers that read the theme labels: are they phrases the papers use, are they generic?

A reader recognises a theme by a noun phrase its own papers use ('KV cache', 'sentence
embeddings'); 'Natural', 'Requirement' or 'More papers' tell them nothing. Only themes of two
or more papers are read (a one-paper theme has nothing to share), and never Other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from agent.core.wording import plural
from agent.evals.cases import EvalCase
from agent.evals.results import CaseResult, Score
from agent.models import OTHER_THEME, Paper
from agent.summarize.offline.labels import GENERIC_LABELS
from agent.summarize.offline.phrases import doc_count, is_modifier, phrase_term


def _labelled(case: EvalCase, result: CaseResult) -> Iterator[tuple[str, list[Paper]]]:
    """(label, member papers) of each theme with two or more of the case's papers."""
    papers = case.papers_by_id
    for theme in result.summary.themes if result.summary else ():
        members = [papers[item.paper_id] for item in theme.papers if item.paper_id in papers]
        if theme.title != OTHER_THEME and len(members) >= 2:
            yield theme.title, members


def label_parts(label: str) -> list[str]:
    """'KV cache, pruning and quantization' -> ['KV cache', 'pruning', 'quantization']."""
    return [part.strip() for part in re.split(r",\s*|\s+and\s+|\s*&\s*", label) if part.strip()]


def label_problem(label: str, members: list[Paper]) -> str | None:
    """Why a label is not a noun phrase used by two or more of its papers, or None."""
    docs = [f"{p.title}\n{p.abstract}" for p in members]
    for part in label_parts(label):
        last = part.split()[-1]
        if is_modifier(last) and not any(c.isupper() or c.isdigit() for c in last[1:]):
            return f"{part!r} ends in a modifier"
        used = doc_count(part, docs)
        if used < 2:
            return f"{part!r} is in {plural(used, 'paper')}"
    return None


def is_generic(label: str) -> bool:
    """A label that says nothing about its theme (any part on `GENERIC_LABELS`)."""
    return any(phrase_term(part) in GENERIC_LABELS for part in label_parts(label))


def label_quality(case: EvalCase, result: CaseResult) -> Score | None:
    """Share of theme labels that are noun phrases found in two or more of their papers."""
    themes = list(_labelled(case, result))
    if not themes:
        return None
    bad = [f"{label!r}: {why}" for label, m in themes if (why := label_problem(label, m))]
    good = len(themes) - len(bad)
    reason = f"{good}/{len(themes)} labels are phrases of two or more of their papers"
    if bad:
        reason += "; " + "; ".join(bad[:3]) + (f"; and {len(bad) - 3} more" if len(bad) > 3 else "")
    return Score("label_quality", good / len(themes), reason)


def generic_labels(case: EvalCase, result: CaseResult) -> Score | None:
    """Share of theme labels that are generic ('Language models', 'Natural', 'More papers')."""
    themes = list(_labelled(case, result))
    if not themes:
        return None
    generic = [label for label, _ in themes if is_generic(label)]
    reason = f"{len(generic)}/{len(themes)} labels generic"
    if generic:
        reason += ": " + ", ".join(repr(g) for g in generic[:3])
    return Score("generic_labels", len(generic) / len(themes), reason)


__all__ = ["generic_labels", "is_generic", "label_parts", "label_problem", "label_quality"]
