"""Simulated rating sessions: is the reader's subject on top on day 1, and do ratings help?

For each relevance case (`agent.evals.relevance`) and each ranker:

- **day 1**: the ranker orders the whole labelled day with the library only;
- **a session**: the day (without the library) is cut in two halves with the same share of
  on-subject papers. The first half makes five rated days (five slices, again with the same
  share): each day the ranker orders that day's papers knowing the ratings so far, the reader
  looks at the top `SHOWN` and rates up the first two on-subject papers there and down the
  first two off-subject ones (by the case's labels), as a reader of the digest would rate the
  picks it shows. The second half is **day 6**: the ranker orders it once with the library only
  (`before`) and once with the library and the ratings (`after`), so both numbers are on the
  same new papers, none of them rated. The halves then swap; six cuts (seeds) make twelve
  sessions per profile, and `before`/`after` are their means.

Ratings *hurt* a profile when day 6 is worse after them beyond the sessions' noise: the mean
paired difference (after - before, session by session) is below zero by more than twice its
standard error, on precision@k or nDCG@k. A strict "never lower on the mean" is not a property
of a ranker but of the cut: with three cuts the shipped ranker never fell, with three other
cuts it fell on five of six profiles, by one or two papers in sixty (evals/README.md).

The cut is seeded and stratified, so a run is deterministic and a rated paper is never scored.
"""

from __future__ import annotations

import dataclasses
import math
import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.evals.relevance import (
    Measure,
    RelevanceCase,
    entry_of,
    load_relevance_cases,
    measure,
)
from agent.models import Paper
from agent.select import Interests, rank

DAYS = 5
SHOWN = 10  # the picks a reader looks at each day
UP = 2  # up-ratings a day (on-subject papers among the shown)
DOWN = 2  # down-ratings a day (off-subject papers among the shown)
SEEDS = (26, 27, 28, 29, 30, 31)  # one cut into halves and days each: 12 sessions a profile
NOISE = 2.0  # standard errors of the paired difference that make a fall more than noise

# Scores for the papers, higher first, from what the reader has said (`interests.profile`).
Ranker = Callable[[Sequence[Paper], Interests], Sequence[float]]
SHIPPED = "reader model"


def shipped(papers: Sequence[Paper], interests: Interests) -> list[float]:
    """The ranking `digest daily` uses (agent.select.rank)."""
    return rank(papers, interests).scores


@dataclass(frozen=True)
class Fold:
    """One session: the five rated days on one half, day 6 on the other."""

    before: Measure  # day 6, library only
    after: Measure  # day 6, library and the session's ratings
    up: tuple[str, ...]  # rated up, in order
    down: tuple[str, ...]  # rated down, in order


@dataclass(frozen=True)
class SessionResult:
    case: RelevanceCase
    ranker: str
    day1: Measure  # the whole day, library only
    folds: tuple[Fold, ...]

    def _mean(self, values: Sequence[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    @property
    def before(self) -> tuple[float, float]:
        """Day 6 with the library only: mean precision@k and nDCG@k over the sessions."""
        return (
            self._mean([f.before.precision for f in self.folds]),
            self._mean([f.before.ndcg for f in self.folds]),
        )

    @property
    def after(self) -> tuple[float, float]:
        """Day 6 with the library and five days of ratings: mean precision@k and nDCG@k."""
        return (
            self._mean([f.after.precision for f in self.folds]),
            self._mean([f.after.ndcg for f in self.folds]),
        )

    @property
    def meets_bar(self) -> bool:
        return self.day1.precision >= self.case.min_precision

    def change(self, ndcg: bool = False) -> tuple[float, float]:
        """What the ratings changed on day 6, session by session (precision@k, or nDCG@k):
        the mean paired difference and its standard error."""
        diffs = [
            (f.after.ndcg - f.before.ndcg) if ndcg else (f.after.precision - f.before.precision)
            for f in self.folds
        ]
        if len(diffs) < 2:
            return self._mean(diffs), 0.0
        return statistics.mean(diffs), statistics.stdev(diffs) / math.sqrt(len(diffs))

    @property
    def ratings_hurt(self) -> bool:
        """Ratings made day 6 worse beyond the sessions' noise, on either measure (see the
        module docstring)."""
        for ndcg in (False, True):
            mean, error = self.change(ndcg)
            if mean < -NOISE * error - 1e-12:  # with no spread (error 0), any fall counts
                return True
        return False

    @property
    def ratings_help(self) -> bool:
        """Strictly: day 6 after the ratings at least as good as before, on both means."""
        (p0, n0), (p1, n1) = self.before, self.after
        return p1 >= p0 and n1 >= n0

    @property
    def passed(self) -> bool:
        return self.meets_bar and not self.ratings_hurt


def _order(ranker: Ranker, papers: Sequence[Paper], interests: Interests) -> list[str]:
    scores = ranker(papers, interests)
    order = sorted(range(len(papers)), key=lambda i: (-scores[i], i))  # ties: the day's order
    return [papers[i].id for i in order]


def _with_ratings(base: Interests, up: Sequence[Paper], down: Sequence[Paper]) -> Interests:
    profile = dataclasses.replace(
        base.profile,
        liked=tuple(entry_of(p) for p in up),
        disliked=tuple(entry_of(p) for p in down),
    )
    return dataclasses.replace(base, profile=profile)


def _deal(papers: Sequence[Paper], on: frozenset[str], parts: int, seed: int) -> list[list[Paper]]:
    """`papers` dealt into `parts` piles with the same share of on-subject papers, shuffled
    with `seed`; each pile keeps the day's order."""
    rng = random.Random(seed)
    piles: list[list[Paper]] = [[] for _ in range(parts)]
    for group in ([p for p in papers if p.id in on], [p for p in papers if p.id not in on]):
        dealt = list(group)
        rng.shuffle(dealt)
        start = rng.randrange(parts)
        for index, paper in enumerate(dealt):
            piles[(start + index) % parts].append(paper)
    position = {p.id: i for i, p in enumerate(papers)}
    return [sorted(pile, key=lambda p: position[p.id]) for pile in piles]


def _fold(
    case: RelevanceCase,
    ranker: Ranker,
    rated_half: Sequence[Paper],
    day6: Sequence[Paper],
    seed: int,
) -> Fold:
    on = case.on_subject
    up: list[Paper] = []
    down: list[Paper] = []
    for day in _deal(rated_half, on, DAYS, seed):
        by_id = {p.id: p for p in day}
        shown = _order(ranker, day, _with_ratings(case.interests, up, down))[:SHOWN]
        up += [by_id[pid] for pid in shown if pid in on][:UP]
        down += [by_id[pid] for pid in shown if pid not in on][:DOWN]
    before = measure(_order(ranker, day6, case.interests), on, case.k)
    after = measure(_order(ranker, day6, _with_ratings(case.interests, up, down)), on, case.k)
    return Fold(before, after, tuple(p.id for p in up), tuple(p.id for p in down))


def day_one_order(case: RelevanceCase, ranker: Ranker = shipped) -> list[str]:
    """The ids of the whole day, ranked with the library only."""
    return _order(ranker, case.papers, case.interests)


def day_one(case: RelevanceCase, ranker: Ranker = shipped) -> Measure:
    """The whole day ranked with the library only."""
    return measure(day_one_order(case, ranker), case.on_subject, case.k)


def run_session(case: RelevanceCase, ranker: Ranker, name: str = SHIPPED) -> SessionResult:
    """Day 1, and two sessions per seed of five rated days and day 6 (module docstring)."""
    day1 = day_one(case, ranker)
    folds: list[Fold] = []
    for seed in SEEDS:
        first, second = _deal(case.papers, case.on_subject, 2, seed)
        folds += [
            _fold(case, ranker, first, second, seed),
            _fold(case, ranker, second, first, seed),
        ]
    return SessionResult(case, name, day1, tuple(folds))


def default_rankers() -> dict[str, Ranker]:
    """The shipped ranking and the baselines it is compared with."""
    from agent.evals.rankers import linear_svc, nearest_seed

    return {SHIPPED: shipped, "LinearSVC": linear_svc, "nearest seed": nearest_seed}


def run_sessions(
    directory: Path, rankers: Mapping[str, Ranker] | None = None
) -> list[SessionResult]:
    """Every case of `directory` under every ranker, case by case (an empty list for no cases)."""
    if not directory.is_dir():
        return []
    chosen = rankers if rankers is not None else default_rankers()
    return [
        run_session(case, ranker, name)
        for case in load_relevance_cases(directory)
        for name, ranker in chosen.items()
    ]


__all__ = [
    "DAYS",
    "DOWN",
    "NOISE",
    "SHIPPED",
    "SHOWN",
    "UP",
    "Fold",
    "Ranker",
    "SessionResult",
    "day_one",
    "day_one_order",
    "default_rankers",
    "run_session",
    "run_sessions",
    "shipped",
]
