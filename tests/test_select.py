"""Selection: cap with also_new (nothing disappears), stable order, interests, seen papers."""

import datetime as dt

from agent.models import Paper
from agent.select import Interests, select_papers
from agent.store import SeenPaper


def _paper(i: int, title: str = "", abstract: str = "", **extra: object) -> Paper:
    return Paper(id=f"p{i}", title=title or f"Paper {i}", abstract=abstract, source="t", **extra)


def test_cap_moves_the_rest_to_also_new_in_stable_order() -> None:
    papers = [_paper(i) for i in range(10)]
    selection = select_papers(papers, max_papers=4)
    assert [p.id for p in selection.selected] == ["p0", "p1", "p2", "p3"]
    assert [p.id for p in selection.also_new] == [f"p{i}" for i in range(4, 10)]
    assert selection.total == 10


def test_interests_rank_relevant_papers_first() -> None:
    papers = [
        _paper(0, "Protein folding with diffusion", "We study proteins."),
        _paper(1, "Speculative decoding for fast LLM inference", "We speed up decoding."),
        _paper(2, "Graph coloring heuristics", "Colors."),
    ]
    interests = Interests(text="speculative decoding and faster inference")
    selection = select_papers(papers, max_papers=1, interests=interests)
    assert selection.selected[0].id == "p1"
    assert {p.id for p in selection.also_new} == {"p0", "p2"}


def test_keywords_and_categories_filter() -> None:
    papers = [
        _paper(0, "Robot arms", categories=("cs.RO",)),
        _paper(1, "Language models", categories=("cs.CL",)),
        _paper(2, "Quantum language models", categories=("quant-ph",)),
    ]
    selection = select_papers(
        papers,
        max_papers=10,
        interests=Interests(exclude_keywords=("quantum",), categories=("cs.CL", "cs.RO")),
    )
    assert [p.id for p in selection.selected] == ["p0", "p1"]
    assert selection.excluded == 1


def test_seen_papers_are_dropped_and_new_versions_are_updates() -> None:
    papers = [_paper(0, version=1), _paper(1, version=3), _paper(2)]
    seen = {
        "p0": SeenPaper("p0", 1, dt.date(2026, 11, 1)),
        "p1": SeenPaper("p1", 2, dt.date(2026, 11, 1)),
    }
    selection = select_papers(papers, max_papers=10, seen=seen)
    assert [p.id for p in selection.selected] == ["p2"]
    assert [p.id for p in selection.updated] == ["p1"]
    assert selection.already_seen == 1


def test_a_paper_digested_without_a_version_counts_as_its_first() -> None:
    """Hugging Face gives no version: a later v1 is the same paper, v2 a new version, and a
    paper without a version is never one (v1 and no version were updates before: 1 > 0)."""
    papers = [_paper(0, version=1), _paper(1, version=2), _paper(2), _paper(3, version=1)]
    day = dt.date(2026, 11, 1)
    seen = {
        "p0": SeenPaper("p0", None, day),
        "p1": SeenPaper("p1", None, day),
        "p2": SeenPaper("p2", None, day),
        "p3": SeenPaper("p3", 0, day),  # what the ledger stored for a paper seen twice unversioned
    }
    selection = select_papers(papers, max_papers=10, seen=seen)
    assert [p.id for p in selection.updated] == ["p1"]
    assert selection.already_seen == 3
    assert selection.selected == ()


def test_upvotes_rank_when_no_interests() -> None:
    papers = [_paper(0, upvotes=1), _paper(1, upvotes=50), _paper(2, upvotes=5)]
    assert [p.id for p in select_papers(papers, max_papers=3).selected] == ["p1", "p2", "p0"]
