"""Selection: keep what is new and relevant, rank it, cap it; nothing over the cap disappears.

Ranking adds up, per paper: TF-IDF similarity to the `interests` text, keyword hits, Hugging
Face upvotes, closeness to the reader's own papers (the ranking model, `ranking.py`), a lift for
authors of the reader's papers and a category prior from the library, minus similarity to
`not_interested` (and, for a reader with no papers or up-ratings to fit a model on, to the
papers rated down). A paper by a followed author is always selected.

With a library or up-ratings, only papers that match (at least the threshold learned from the
reader's own papers, `relevance_threshold`) are picks; the others go to "Also new" instead of
padding the digest to `max_papers`. Every pick gets a `why`; a paper with nothing personal to
say gets the useful fact there is (trending, in your categories) or nothing.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Literal

from agent.models import Paper
from agent.select import reasons
from agent.select.profile import ReaderProfile
from agent.select.rules import (
    author_key,
    categories_in,
    followed_author,
    in_categories,
    keyword_pattern,
    paper_text,
)
from agent.store import SeenPaper

if TYPE_CHECKING:
    from agent.select.ranking import Features

KEYWORD_WEIGHT = 0.25
UPVOTE_WEIGHT = 0.02
TRENDING_MIN = 10  # upvotes a paper needs (and the day's top quarter) to be called trending
MODEL_WEIGHT = 0.1  # per standard deviation of closeness to the reader's papers
NOT_INTERESTED_WEIGHT = 1.0
CATEGORY_WEIGHT = 0.05
AUTHOR_WEIGHT = 0.15  # per author shared with the reader's papers (at most two count)
CLOSE_ENOUGH = 0.5  # standard deviations above the day's mean: "close to your library"
Threshold = Literal["auto", "off"] | float


@dataclass(frozen=True)
class Interests:
    """What the reader cares about (all optional)."""

    text: str = ""
    include_keywords: tuple[str, ...] = ()
    exclude_keywords: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    profile: ReaderProfile = field(default_factory=ReaderProfile)
    threshold: Threshold = "auto"  # of a pick: learned ("auto"), none ("off"), or std devs

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
    matched: int | None = None  # papers that met the relevance threshold (None: none applied)
    yours: frozenset[str] = frozenset()  # the reader's own papers (in the library), in also_new
    matched_by: str = "your interests"  # what a match was measured against, for the notice

    @property
    def total(self) -> int:
        return len(self.selected) + len(self.also_new)


@dataclass(frozen=True)
class Ranking:
    """Scores (higher first), followed-author flags, and the reason of any paper, on demand."""

    scores: list[float]
    followed: list[bool]
    explain: Callable[[int], str]
    pick_threshold: Callable[[], float | None] = lambda: None  # the score of a pick, or None
    own: tuple[bool, ...] = ()  # the reader's own papers (in the library): never a pick
    named: tuple[bool, ...] = ()  # has a whole interest or a keyword: a match, whatever the score
    chance: tuple[bool, ...] = ()  # close to the reader's papers only by chance: no match

    def is_own(self, index: int) -> bool:
        return bool(self.own) and self.own[index]

    def is_match(self, index: int, bar: float) -> bool:
        """A pick under the relevance bar: a followed author, a whole interest or keyword, or
        a score at the bar that is not a chance closeness ('weak match to your library')."""
        if self.followed[index] or (self.named and self.named[index]):
            return True
        return self.scores[index] >= bar and not (self.chance and self.chance[index])


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
    reads_text = bool(
        interests.text.strip() or negatives or (profile.positives and len(papers) >= 2)
    )
    features = Features(papers, profile.positives, negatives) if papers and reads_text else None
    scores = [0.0] * len(papers)
    why: list[list[tuple[float, Callable[[], str]]]] = [[] for _ in papers]
    learned: Callable[[], float | None] | None = None  # the reader model's, when there is one
    own: tuple[bool, ...] = ()
    chance: tuple[bool, ...] = ()
    named = [False] * len(papers)
    if features is not None:
        if interests.text.strip():
            named = features.has_whole_interest(interests.text)
        for index, value in enumerate(features.similarity(interests.text)):
            scores[index] += value
            if value > 0.05 or named[index]:  # a whole interest always says so
                why[index].append(
                    (value, partial(_interests_reason, features, interests.text, index))
                )
        for index, value in enumerate(features.similarity(profile.not_interested)):
            scores[index] -= NOT_INTERESTED_WEIGHT * value
        if profile.library:
            own = tuple(features.same_as_positive(len(profile.library), reasons.SAME_PAPER))
        if profile.positives and len(papers) >= 2:
            learned, chance = _add_model(features, len(profile.library), scores, why, own)
        elif profile.disliked:  # no reader model to place them in: each one a `not_interested`
            for index, value in enumerate(features.nearest_negative(len(profile.disliked))):
                scores[index] -= NOT_INTERESTED_WEIGHT * value
    _add_category_prior(papers, profile, scores)
    _add_shared_authors(papers, profile, scores, why)
    include = keyword_pattern(interests.include_keywords)
    trending = _trending_at(papers)
    followed: list[bool] = []
    for index, paper in enumerate(papers):
        if include is not None:
            found = include.findall(paper_text(paper))
            hits = list(dict.fromkeys(m.lower() for m in found))
            if hits:
                named[index] = True
                scores[index] += KEYWORD_WEIGHT * min(3, len(found))
                text = reasons.keywords(hits)
                why[index].append((KEYWORD_WEIGHT * len(hits) + 0.5, _worded(text)))
        if paper.upvotes:
            lift = UPVOTE_WEIGHT * math.log1p(paper.upvotes)
            scores[index] += lift
            if paper.upvotes >= trending:
                why[index].append((lift, _worded(reasons.upvotes(paper.upvotes))))
        mine = categories_in(paper, interests.categories)
        if mine:
            why[index].append((0.0, _worded(reasons.categories(mine))))
        author = followed_author(paper, profile.authors)
        followed.append(author is not None)
        if author is not None:
            text = reasons.followed(author)
            why[index].append((math.inf, _worded(text)))

    def explain(index: int) -> str:
        """The strongest reason; when it turns out weak, the next that is not and that
        weighs anything ('matches your interests: X' over 'weak match to your library: Y')."""
        ranked = sorted(why[index], key=lambda pair: -pair[0])
        if not ranked:
            return reasons.NOTHING
        first = ranked[0][1]()
        if first.startswith(reasons.WEAK):
            for weight, reason in ranked[1:]:
                text = reason() if weight > 0 else ""
                if text and not text.startswith(reasons.WEAK):
                    return text
        return first

    return Ranking(
        scores,
        followed,
        explain,
        partial(_pick_threshold, interests.threshold, learned),
        own,
        tuple(named),
        chance,
    )


def _trending_at(papers: Sequence[Paper]) -> int:
    """The upvotes that make a paper 'trending': the day's top quarter, and TRENDING_MIN."""
    votes = sorted(p.upvotes for p in papers if p.upvotes)
    return max(TRENDING_MIN, votes[-max(1, len(votes) // 4)] if votes else 0)


def _pick_threshold(setting: Threshold, learned: Callable[[], float | None] | None) -> float | None:
    """The score of a pick: the learned closeness ("auto"), a fixed one (a number of standard
    deviations), or none ("off", or no reader model to measure closeness with); on the scale
    of the ranking scores."""
    if setting == "off" or learned is None:
        return None
    closeness = learned() if setting == "auto" else float(setting)
    return None if closeness is None else MODEL_WEIGHT * closeness


def _worded(text: str) -> Callable[[], str]:
    """A reason that is already worded."""
    return lambda: text


def _interests_reason(features: Features, text: str, index: int) -> str:
    """The interests the paper has whole, as the reader wrote them; else the phrases it shares
    with them; else the words, as a weak match ('decoding' of "speculative decoding")."""
    whole = features.whole_phrases(text, index)
    if whole:
        return reasons.interests(whole[:3])
    shared = features.terms_in(text, index)
    return reasons.interests(shared, weak=not any(" " in term for term in shared))


def _add_model(
    features: Features,
    n_library: int,
    scores: list[float],
    why: list[list[tuple[float, Callable[[], str]]]],
    own: Sequence[bool] = (),
) -> tuple[Callable[[], float | None], tuple[bool, ...]]:
    """Add the reader model's closeness to the scores and its reasons; the learned threshold
    (computed when asked: it fits the model once per fold), and which papers are close to the
    reader's papers only by chance. `own`: see `ReaderModel`."""
    from agent.select.ranking import ReaderModel

    model = ReaderModel(features, own)

    def library_reason(index: int) -> str:
        evidence = model.evidence(index)
        entry = features.positives[evidence.nearest]
        return reasons.library(evidence, entry, rated=evidence.nearest >= n_library)

    for index, closeness in enumerate(model.scores):
        scores[index] += MODEL_WEIGHT * float(closeness)
        if closeness >= CLOSE_ENOUGH:
            why[index].append((1.0 + float(closeness), partial(library_reason, index)))
    return model.threshold, tuple(model.weak())


def _add_shared_authors(
    papers: Sequence[Paper],
    profile: ReaderProfile,
    scores: list[float],
    why: list[list[tuple[float, Callable[[], str]]]],
) -> None:
    """A lift for each author (at most two) the paper shares with the reader's papers."""
    known = {author_key(a) for entry in profile.positives for a in entry.authors}
    known.discard("")
    if not known:
        return
    for index, paper in enumerate(papers):
        shared = [a for a in paper.authors if author_key(a) in known]
        if shared:
            lift = AUTHOR_WEIGHT * min(2, len(shared))
            scores[index] += lift
            why[index].append((1.0 + 10 * lift, _worded(reasons.shared_authors(shared))))


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
            if _new_version(paper, earlier):
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
    keep, matched, yours = max_papers, None, frozenset[str]()
    why = [reasons.NOTHING] * min(max_papers, len(fresh))
    if interests.ranks or interests.categories or any(p.upvotes for p in fresh):
        ranking = rank(fresh, interests)
        # Followed authors first, then by score; the input order breaks ties. The reader's own
        # papers (a library paper in today's feed) come last: they already have them.
        # Under a relevance bar the matches come first (`Ranking.is_match`).
        own = ranking.is_own
        yours = frozenset(paper.id for i, paper in enumerate(fresh) if own(i))
        bar = ranking.pick_threshold() if len(fresh) > 1 else None
        match = [bar is None or ranking.is_match(i, bar) for i in range(len(fresh))]
        order = sorted(
            range(len(fresh)),
            key=lambda i: (own(i), not ranking.followed[i], not match[i], -ranking.scores[i], i),
        )
        followed = sum(1 for i in order if ranking.followed[i] and not own(i))
        keep = max(max_papers, followed)  # a followed author's paper is always in
        keep = min(keep, sum(1 for i in order if not own(i)))
        if bar is not None:  # only matches are picks; the rest are "also new"
            matched = sum(1 for i in order if not own(i) and match[i])
            keep = min(keep, max(matched, followed))
        why = [ranking.explain(i) for i in order[:keep]]
        fresh = [fresh[i] for i in order]
    return Selection(
        selected=tuple(fresh[:keep]),
        also_new=tuple(fresh[keep:]),
        updated=tuple(updated),
        already_seen=already_seen,
        excluded=excluded,
        why={p.id: text for p, text in zip(fresh[:keep], why, strict=True)},
        matched=matched,
        yours=yours,
        matched_by=_matched_by(interests),
    )


def _new_version(paper: Paper, earlier: SeenPaper) -> bool:
    """A version later than the one digested. No version known is not version 0: a paper
    digested without one (Hugging Face gives none) counts as its first, so a later v1 (a
    cross-list) is the same paper and v2 a new version; a paper without one is never new."""
    return paper.version is not None and paper.version > (earlier.version or 1)


def _matched_by(interests: Interests) -> str:
    """'your papers and interests', 'your papers' or 'your interests': what the picks match."""
    papers = bool(interests.profile.positives)
    stated = bool(interests.text.strip() or interests.include_keywords)
    if papers and stated:
        return "your papers and interests"
    return "your papers" if papers else "your interests"
