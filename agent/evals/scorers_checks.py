"""Scorers of what the model engine's checks watch (`agent.summarize.checks`): is each blurb
about its own paper, and does it state only figures its own title and abstract state?

Both read the output as it is *and* what the engine caught on the way: a blurb the engine
caught describing another paper (or giving a figure the abstract does not) and then asked for
again, cut or wrote offline counts as a miss, so that a prompt whose answers mix papers up is
a regression even though the digest it makes is repaired.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.evals.cases import EvalCase
from agent.evals.results import CaseResult, Score
from agent.evals.scorers_text import blurb_text, case_blurbs, examples
from agent.models import CheckName, Paper, PaperBlurb
from agent.summarize.checks.figures import shown, source_of, ungrounded
from agent.summarize.checks.right_paper import Papers

Miss = Callable[[Paper, PaperBlurb], str | None]


def _share(
    case: EvalCase, result: CaseResult, name: str, check: CheckName, miss: Miss, what: str
) -> Score | None:
    """The share of the case's blurbs that neither the engine's check `check` caught nor
    `miss` finds wrong."""
    items = list(case_blurbs(case, result))
    if not items:
        return None
    bad = []
    for paper, item in items:
        caught = item.check(check)
        if caught is not None and caught.status != "passed":
            bad.append(f"{paper.id}: {caught.caught} (caught; {caught.status.replace('_', ' ')})")
        elif (problem := miss(paper, item)) is not None:
            bad.append(f"{paper.id}: {problem}")
    good = len(items) - len(bad)
    reason = f"{good}/{len(items)} blurbs {what}"
    if bad:
        reason += f"; {examples(bad)}"
    return Score(name, good / len(items), reason)


def right_paper(case: EvalCase, result: CaseResult) -> Score | None:
    """Share of blurbs whose best-matching paper of the case (BM25 over title and abstract) is
    their own, and whose paper the engine did not catch a blurb about another paper for."""
    papers = Papers(list(case.papers_by_id.values()))

    def miss(paper: Paper, item: PaperBlurb) -> str | None:
        other = papers.describes(blurb_text(item), paper.id)
        return f"describes {other.id}" if other is not None else None

    return _share(case, result, "right_paper", "right_paper", miss, "about their own paper")


def numbers_grounded(case: EvalCase, result: CaseResult) -> Score | None:
    """Share of blurbs whose numbers and model or dataset names (blurb and why_it_matters) are
    all in their own title or abstract, and whose paper the engine did not catch an invented
    figure for."""

    def miss(paper: Paper, item: PaperBlurb) -> str | None:
        found = ungrounded(blurb_text(item), source_of(paper))
        return f"gives {shown(found)}" if found else None

    return _share(
        case, result, "numbers_grounded", "numbers", miss, "give only figures their abstract gives"
    )


__all__ = ["numbers_grounded", "right_paper"]
