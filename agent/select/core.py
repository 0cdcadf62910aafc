"""Selection: keep what is new and relevant, rank it, cap it; nothing over the cap disappears.

Ranking adds up, per paper: TF-IDF similarity to the `interests` text, keyword hits, Hugging
Face upvotes, closeness to the reader's own papers (the ranking model, `ranking.py`), a category
prior from the library, minus similarity to `not_interested`. A paper by a followed author is
always selected. Every selected paper gets a `why`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from agent.models import Paper
from agent.select import reasons
from agent.select.profile import ReaderProfile
from agent.select.rules import followed_author, in_categories, keyword_pattern, paper_text
from agent.store import SeenPaper

if TYPE_CHECKING:
    from agent.select.ranking import Features

KEYWORD_WEIGHT = 0.25
UPVOTE_WEIGHT = 0.02
MODEL_WEIGHT = 0.1  # per standard deviation of closeness to the reader's papers
NOT_INTERESTED_WEIGHT = 1.0
CATEGORY_WEIGHT = 0.05
CLOSE_ENOUGH = 0.5  # standard deviations above the day's mean: "close to your library"


@dataclass(frozen=True)
class Interests:
    """What the reader cares about (all optional)."""

    text: str = ""
    include_keywords: tuple[str, ...] = ()
    exclude_keywords: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    profile: ReaderProfile = field(default_factory=ReaderProfile)

    @property
    def ranks(self) -> bool:
        return not self.cold

    @property
    def cold(self) -> bool:
        """No interests, no library, no ratings, no follows: nothing personal to rank by."""
        return not (self.text.strip() or self.include_keywords or not self.profile.empty)


@dataclass(frozen=True)
class Selection:
    selected: tuple[Paper, ...]  # to be summarised, best first
    also_new: tuple[Paper, ...]  # over the cap: listed by title only
    updated: tuple[Paper, ...]  # new versions of papers digested on an earlier date
    already_seen: int  # dropped: digested on an earlier date, same version
    excluded: int  # dropped by exclude_keywords or categories
    why: dict[str, str] = field(default_factory=dict)  # selected paper id -> short reason

    @property
    def total(self) -> int:
        return len(self.selected) + len(self.also_new)


@dataclass(frozen=True)
class Ranking:
    """Scores (higher first), followed-author flags, and the reason of any paper, on demand."""

    scores: list[float]
    followed: list[bool]
    explain: Callable[[int], str]


def relevance_scores(papers: Sequence[Paper], interests: Interests) -> list[float]:
    """The ranking score of each paper (see the module docstring)."""
    return rank(papers, interests).scores


def rank(papers: Sequence[Paper], interests: Interests) -> Ranking:
    """Score every paper and say why; see the module docstring."""
    from agent.select.ranking import Features

    profile = interests.profile
    negatives = [e.text for e in profile.disliked]
    if profile.not_interested.strip():
        negatives.append(profile.not_interested)
    features = Features(papers, profile.positives, negatives) if papers else None
    scores = [0.0] * len(papers)
    why: list[list[tuple[float, Callable[[], str]]]] = [[] for _ in papers]
    if features is not None:
        for index, value in enumerate(features.similarity(interests.text)):
            scores[index] += value
            if value > 0.05:
                why[index].append(
                    (value, partial(_interests_reason, features, interests.text, index))
                )
        for index, value in enumerate(features.similarity(profile.not_interested)):
            scores[index] -= NOT_INTERESTED_WEIGHT * value
        if profile.positives and len(papers) >= 2:
            _add_model(features, len(profile.library), scores, why)
    _add_category_prior(papers, profile, scores)
    include = keyword_pattern(interests.include_keywords)
    followed: list[bool] = []
    for index, paper in enumerate(papers):
        if include is not None:
            found = include.findall(paper_text(paper))
            hits = list(dict.fromkeys(m.lower() for m in found))
            if hits:
                scores[index] += KEYWORD_WEIGHT * min(3, len(found))
                text = reasons.keywords(hits)
                why[index].append((KEYWORD_WEIGHT * len(hits) + 0.5, _worded(text)))
        if paper.upvotes:
            lift = UPVOTE_WEIGHT * math.log1p(paper.upvotes)
            scores[index] += lift
            text = reasons.upvotes(paper.upvotes)
            why[index].append((lift, _worded(text)))
        author = followed_author(paper, profile.authors)
        followed.append(author is not None)
        if author is not None:
            text = reasons.followed(author)
            why[index].append((math.inf, _worded(text)))

    def explain(index: int) -> str:
        if not why[index]:
            return reasons.NEW
        return max(why[index], key=lambda pair: pair[0])[1]()

    return Ranking(scores, followed, explain)


def _worded(text: str) -> Callable[[], str]:
    """A reason that is already worded."""
    return lambda: text


def _interests_reason(features: Features, text: str, index: int) -> str:
    return reasons.interests(features.terms_in(text, index))


def _add_model(
    features: Features,
    n_library: int,
    scores: list[float],
    why: list[list[tuple[float, Callable[[], str]]]],
) -> None:
    from agent.select.ranking import ReaderModel

    model = ReaderModel(features)

    def library_reason(index: int) -> str:
        evidence = model.evidence(index)
        entry = features.positives[evidence.nearest]
        return reasons.library(evidence, entry, rated=evidence.nearest >= n_library)

    for index, closeness in enumerate(model.scores):
        scores[index] += MODEL_WEIGHT * float(closeness)
        if closeness >= CLOSE_ENOUGH:
            why[index].append((1.0 + float(closeness), partial(library_reason, index)))


def _add_category_prior(
    papers: Sequence[Paper], profile: ReaderProfile, scores: list[float]
) -> None:
    """Papers in the categories the reader's papers are in get a small lift (by share)."""
    counts = Counter(cat for entry in profile.positives for cat in set(entry.categories))
    total = sum(1 for entry in profile.positives if entry.categories)
    if not total:
        return
    for index, paper in enumerate(papers):
        share = max((counts.get(cat, 0) / total for cat in paper.categories), default=0.0)
        scores[index] += CATEGORY_WEIGHT * share


def select_papers(
    papers: Sequence[Paper],
    *,
    max_papers: int,
    interests: Interests = Interests(),
    seen: Mapping[str, SeenPaper] | None = None,
) -> Selection:
    """Drop what an earlier digest had, filter by the reader's rules, rank, and cap."""
    seen = seen or {}
    exclude = keyword_pattern(interests.exclude_keywords)
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
        if (exclude is not None and exclude.search(paper_text(paper))) or not in_categories(
            paper, interests.categories
        ):
            excluded += 1
            continue
        fresh.append(paper)
    why = [reasons.NEW] * min(max_papers, len(fresh))
    if interests.ranks or any(p.upvotes for p in fresh):
        ranking = rank(fresh, interests)
        # Followed authors first, then by score; the input order breaks ties.
        order = sorted(
            range(len(fresh)), key=lambda i: (not ranking.followed[i], -ranking.scores[i], i)
        )
        keep = max(max_papers, sum(ranking.followed))  # a followed author's paper is always in
        why = [ranking.explain(i) for i in order[:keep]]
        fresh = [fresh[i] for i in order]
    else:
        keep = max_papers
    return Selection(
        selected=tuple(fresh[:keep]),
        also_new=tuple(fresh[keep:]),
        updated=tuple(updated),
        already_seen=already_seen,
        excluded=excluded,
        why={p.id: text for p, text in zip(fresh[:keep], why, strict=True)},
    )
