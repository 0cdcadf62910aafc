"""Selection: keep what is new and relevant, rank it, cap it; nothing over the cap disappears."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent.models import Paper
from agent.store import SeenPaper


@dataclass(frozen=True)
class Interests:
    """What the reader cares about (all optional)."""

    text: str = ""
    include_keywords: tuple[str, ...] = ()
    exclude_keywords: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def ranks(self) -> bool:
        return bool(self.text.strip() or self.include_keywords)


@dataclass(frozen=True)
class Selection:
    selected: tuple[Paper, ...]  # to be summarised, best first
    also_new: tuple[Paper, ...]  # over the cap: listed by title only
    updated: tuple[Paper, ...]  # new versions of papers digested on an earlier date
    already_seen: int  # dropped: digested on an earlier date, same version
    excluded: int  # dropped by exclude_keywords or categories

    @property
    def total(self) -> int:
        return len(self.selected) + len(self.also_new)


def _keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    words = [re.escape(word.strip()) for word in keywords if word.strip()]
    return re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE) if words else None


def _text(paper: Paper) -> str:
    return f"{paper.title}. {paper.title}. {paper.abstract}"


def relevance_scores(papers: Sequence[Paper], interests: Interests) -> list[float]:
    """TF-IDF cosine similarity to the interests, plus keyword hits and Hugging Face upvotes."""
    scores = [0.0] * len(papers)
    if interests.text.strip() and papers:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2))
        matrix = vectorizer.fit_transform([interests.text, *(_text(p) for p in papers)])
        similarities = (matrix[1:] @ matrix[0].T).toarray().ravel()
        scores = [float(value) for value in similarities]
    include = _keyword_pattern(interests.include_keywords)
    for index, paper in enumerate(papers):
        if include is not None:
            scores[index] += 0.25 * min(3, len(include.findall(_text(paper))))
        if paper.upvotes:
            scores[index] += 0.02 * math.log1p(paper.upvotes)
    return scores


def _in_categories(paper: Paper, categories: tuple[str, ...]) -> bool:
    if not categories or not paper.categories:
        return True
    return any(cat == want or cat.startswith(want + ".") for cat in paper.categories for want in categories)


def select_papers(
    papers: Sequence[Paper],
    *,
    max_papers: int,
    interests: Interests = Interests(),
    seen: Mapping[str, SeenPaper] | None = None,
) -> Selection:
    """Drop what an earlier digest had, filter by the reader's rules, rank, and cap."""
    seen = seen or {}
    exclude = _keyword_pattern(interests.exclude_keywords)
    fresh: list[Paper] = []
    updated: list[Paper] = []
    already_seen = excluded = 0
    for paper in papers:
        earlier = seen.get(paper.id)
        if earlier is not None:
            newer = (paper.version or 0) > (earlier.version or 0)
            if newer:
                updated.append(paper)
            else:
                already_seen += 1
            continue
        if (exclude is not None and exclude.search(_text(paper))) or not _in_categories(
            paper, interests.categories
        ):
            excluded += 1
            continue
        fresh.append(paper)
    if interests.ranks or any(p.upvotes for p in fresh):
        scores = relevance_scores(fresh, interests)
        order = sorted(range(len(fresh)), key=lambda i: (-scores[i], i))
        fresh = [fresh[i] for i in order]
    return Selection(
        selected=tuple(fresh[:max_papers]),
        also_new=tuple(fresh[max_papers:]),
        updated=tuple(updated),
        already_seen=already_seen,
        excluded=excluded,
    )
