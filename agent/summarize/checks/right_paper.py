"""Which paper a text describes: BM25 of the text (a blurb and its why_it_matters) against each
paper's title and abstract, over the papers of one call (or one eval case).

A text describes another paper than its own only when that is clear: the other paper scores
more than twice as high (`RATIO`) and has at least `MIN_TERMS` of the text's terms that its own
paper lacks. Generic prose that matches nothing in particular, two near-identical papers, and
plain words that miss the abstract's terms are never a mismatch; a blurb moved to the next
paper of its call is. Measured on the bundled sample (bench/faithful.py): no false alarm on
blurbs written from each paper's own abstract, in calls of 4 to 27 papers of one theme.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agent.core.bm25 import Index
from agent.models import Paper

RATIO = 0.5  # the own paper's score below this share of another's: the text is about that one
MIN_TERMS = 2  # ... and that other paper has at least this many of its terms the own one lacks


def paper_text(paper: Paper) -> str:
    """What a paper says, as the check reads it (the title counts twice, as in the search)."""
    return f"{paper.title} {paper.title} {paper.abstract}"


class Papers:
    """The papers of one call, indexed once to check many texts against."""

    def __init__(self, papers: Sequence[Paper]) -> None:
        self.papers = list(papers)
        self.position = {p.id: i for i, p in enumerate(self.papers)}
        self._index = Index([paper_text(p) for p in self.papers])

    def describes(self, text: str, own: str) -> Paper | None:
        """The paper `text` clearly describes instead of its own paper (id `own`), else None."""
        at = self.position.get(own)
        if at is None:
            return None
        found = self._index.matches(text)
        best = max(range(len(found)), key=lambda i: (found[i].score, i == at))
        if best == at or found[best].score <= 0:
            return None
        if len(found[best].terms - found[at].terms) < MIN_TERMS:
            return None
        if found[at].score >= RATIO * found[best].score:
            return None
        return self.papers[best]

    def mismatches(self, texts: Mapping[str, str]) -> dict[str, Paper]:
        """{paper id: the paper its text describes instead} for the texts (by paper id) that
        describe another paper of the call."""
        out = {}
        for pid, text in texts.items():
            other = self.describes(text, pid)
            if other is not None:
                out[pid] = other
        return out


def is_permutation(mismatches: Mapping[str, Paper]) -> bool:
    """Whether the texts were moved between papers (shifted, swapped): two or more describe
    another paper, and no two the same one."""
    targets = [p.id for p in mismatches.values()]
    return len(targets) >= 2 and len(set(targets)) == len(targets)


__all__ = ["MIN_TERMS", "RATIO", "Papers", "is_permutation", "paper_text"]
