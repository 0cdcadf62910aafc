"""The per-reader ranking model: what it learns from the reader's papers and ratings.

Chosen by the relevance benchmark (`digest eval --relevance`, evals/README.md): it ranks the
labelled days at least as well as a plain class-balanced LinearSVC on day 1, and five days of
ratings make it better on new papers for every profile there.

One TF-IDF space (stemmed words, hyphenated compounds whole, the title counted twice,
sublinear tf) over the reader's papers and the day; the explicit negatives are placed in it
without changing it. The closeness of a paper is, in standard deviations over the day, the
mean of:

- a linear SVM (class-balanced, fixed seed): what separates the positives (library, up-ratings)
  from today's papers as weak negatives, so words every paper uses earn no weight;
- a Rocchio centroid, mean(positives) - 0.5 mean(day): what the positives share.

Down-ratings and `not_interested` only ever lower a paper, never lift one:

- the SVM is fitted again with them as negatives, and a paper keeps the lower of its two SVM
  scores;
- a paper closer to a down-rated paper than to any positive loses the difference;
- a classifier of the rated papers alone (positives against negatives) lowers the papers it
  places on the negative side, in proportion to how close they are to a negative.

The threshold of a pick is learned from the reader's own papers: each positive is scored by the
model fitted without it (cross-validation over at most five folds), and a paper counts as a
match when it scores at least as a fifth of them do (the 20th percentile), kept between 1.5 and
2 standard deviations above the day's mean: a tight library (five KV-cache papers) would
otherwise ask a new paper to be as close as its own near-twins, a wide one let half the day in.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent.models import Paper
from agent.select.profile import LibraryEntry
from agent.select.rules import paper_text
from agent.select.terms import Analyzer, distinct_words, says_nothing, shared_phrases

NEGATIVE_WEIGHT = 1.0  # in the refitted SVM; 3 and 10 measured worse (evals/README.md)
BACKGROUND_SHARE = 0.5  # Rocchio: how much of the day's centroid is subtracted
SVM_C = 0.1
THRESHOLD_QUANTILE = 0.2  # a match scores at least as the lowest fifth of the reader's papers
THRESHOLD_RANGE = (1.5, 2.0)  # std devs above the day: 2 always match, below 1.5 never
FOLDS = 5
THRESHOLD_DAY = 2_000  # at most this many of the day's papers stand for it in the threshold
_INTEREST_SEPARATORS = re.compile(r"[,;\n]+|\s+and\s+|\s+or\s+")  # between interests
WEAK_SIMILARITY = 0.1  # cosine similarity to the nearest positive below which a match is weak


@dataclass(frozen=True)
class Evidence:
    """Why a paper scored: its nearest positive, and the phrases (or words) they share."""

    nearest: int  # index into the positives
    similarity: float
    terms: tuple[str, ...]
    weak: bool = False


class Features:
    """One TF-IDF space over the reader's papers and the day, with the explicit negatives placed
    in it; every text signal (interests, not_interested, the reader model) is computed in it."""

    def __init__(
        self,
        papers: Sequence[Paper],
        positives: Sequence[LibraryEntry] = (),
        negatives: Sequence[str] = (),
    ) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.papers = list(papers)
        self.positives = list(positives)
        self.analyzer = Analyzer()
        n_pos = len(self.positives)
        docs = [e.text for e in self.positives] + [paper_text(p) for p in self.papers]
        # The space is the reader's papers and the day's: a down-rating is placed in it, so it
        # cannot shift anything else (the IDF of a word is the same with or without it).
        self.vectorizer = TfidfVectorizer(analyzer=self.analyzer, sublinear_tf=True)
        matrix = self.vectorizer.fit_transform(docs).tocsr()
        self.names = self.vectorizer.get_feature_names_out()
        self.rarity = dict(zip(self.names, self.vectorizer.idf_, strict=True))
        self.pos = matrix[:n_pos]
        self.day = matrix[n_pos:]
        self.neg = self.vectorizer.transform(list(negatives)).tocsr() if negatives else matrix[:0]

    def similarity(self, text: str) -> list[float]:
        """Cosine similarity of each paper of the day to a free text (0s for an empty text)."""
        if not text.strip() or not self.papers:
            return [0.0] * len(self.papers)
        query = self.vectorizer.transform([text])
        return [float(v) for v in (self.day @ query.T).toarray().ravel()]

    def _nearest(self, rows: Any) -> list[float]:
        """Each paper's cosine similarity to the closest of `rows` (0s without any)."""
        if not rows.shape[0] or not self.papers:
            return [0.0] * len(self.papers)
        return [float(v) for v in (self.day @ rows.T).max(axis=1).toarray().ravel()]

    def same_as_positive(self, count: int, similarity: float) -> list[bool]:
        """Whether each paper is one of the first `count` positives (the library): cosine
        similarity at least `similarity` to one."""
        return [v >= similarity for v in self._nearest(self.pos[:count])]

    def nearest_negative(self, count: int) -> list[float]:
        """Each paper's cosine similarity to the closest of the first `count` negatives (the
        rated-down papers)."""
        return self._nearest(self.neg[:count])

    def _interests(self, text: str) -> list[tuple[str, list[int]]]:
        """Each interest of a list ('speculative decoding, quantization') as written, with the
        columns of its terms; an interest with a term no paper or seed has is left out."""
        vocabulary = self.vectorizer.vocabulary_
        out = []
        for part in _INTEREST_SEPARATORS.split(text):
            wanted = set(self.analyzer(part))
            if wanted and wanted <= vocabulary.keys():
                out.append((" ".join(part.split()), [vocabulary[t] for t in sorted(wanted)]))
        return out

    def whole_phrases(self, text: str, index: int) -> list[str]:
        """The interests of `text` whose every term paper `index` has, as written there."""
        row = self.day[index]
        return [
            part for part, columns in self._interests(text) if row[:, columns].nnz == len(columns)
        ]

    def has_whole_interest(self, text: str) -> list[bool]:
        """Whether each paper has every term of at least one interest of `text` (as
        `whole_phrases`, for the whole day at once)."""
        import numpy as np

        found = np.zeros(len(self.papers), dtype=bool)
        for _, columns in self._interests(text):
            have = (self.day[:, columns] != 0).sum(axis=1)
            found |= np.asarray(have).ravel() == len(columns)
        return found.tolist()

    def terms_in(self, text: str, index: int, limit: int = 3) -> list[str]:
        """What paper `index` shares with `text`: its phrases, else its weightiest words."""
        found = shared_phrases(paper_text(self.papers[index]), [text], self.rarity, limit)
        return found or self._words(self.vectorizer.transform([text]), index, limit, text)

    def _words(self, weights: Any, index: int, limit: int, text: str) -> list[str]:
        """The words adding most to paper `index`'s product with `weights` (positive only),
        as the paper and `text` (what `weights` stand for) write them."""
        import numpy as np

        contrib = self.day[index].multiply(weights).tocsr()
        order = np.argsort(-contrib.data, kind="stable")[: 2 * limit]
        written = (paper_text(self.papers[index]), text)
        words = distinct_words(
            word
            for k in order
            if contrib.data[k] > 0
            and not says_nothing(
                word := self.analyzer.word(str(self.names[contrib.indices[k]]), written)
            )
        )
        return words[:limit]


def _standard(values: Any, reference: Any | None = None) -> Any:
    """In standard deviations of `reference` (default: the values themselves) from its mean; a
    constant reference gives zeros."""
    ref = values if reference is None else reference
    spread = float(ref.std())
    return (values - ref.mean()) / spread if spread > 1e-12 else values * 0.0


def _svm(rows: Any, labels: Any, weights: Any) -> Any:
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=SVM_C, class_weight="balanced", max_iter=5000, tol=1e-5, random_state=0)
    return svm.fit(rows, labels, sample_weight=weights)


def _base(pos: Any, day: Any, scored: Any) -> tuple[Any, Any]:
    """The SVM and Rocchio scores of `scored`, each in standard deviations over the day."""
    import numpy as np
    from scipy.sparse import vstack

    n_pos, n_day = pos.shape[0], day.shape[0]
    labels = np.array([1] * n_pos + [0] * n_day)
    svm = _svm(vstack([pos, day]).tocsr(), labels, np.ones(n_pos + n_day))
    centroid = np.asarray(pos.mean(axis=0)).ravel()
    centroid -= BACKGROUND_SHARE * np.asarray(day.mean(axis=0)).ravel()
    on_day = svm.decision_function(day), np.asarray(day @ centroid).ravel()
    mine = svm.decision_function(scored), np.asarray(scored @ centroid).ravel()
    return _standard(mine[0], on_day[0]), _standard(mine[1], on_day[1])


class ReaderModel:
    """Fitted on one day: `scores[i]` is paper i's closeness to the reader (see the module
    docstring); `threshold()` the closeness of a match."""

    def __init__(self, features: Features, own: Sequence[bool] = ()) -> None:
        """`own` marks the day's papers that are the reader's own (a library paper in today's
        feed): scored, but not one of the day's negatives (it would be its own negative)."""
        import numpy as np

        self.features = features
        pos, day, neg = features.pos, features.day, features.neg
        others = [i for i in range(day.shape[0]) if not (own and own[i])]
        # The day the model is fitted and standardised on: all of it, less the reader's papers.
        self._day = day if len(others) in (0, day.shape[0]) else day[others]
        self._similar = (day @ pos.T).toarray()  # cosine: rows are l2-normalised
        svm, rocchio = _base(pos, self._day, day)
        if neg.shape[0]:
            svm = np.minimum(svm, self._taught(pos, day, neg))
        self.scores = (svm + rocchio) / 2.0 - self._penalty(pos, day, neg)

    def _taught(self, pos: Any, day: Any, neg: Any) -> Any:
        """The SVM refitted with the negatives as strong negatives, over the day."""
        import numpy as np
        from scipy.sparse import vstack

        fit = self._day
        n_pos, n_day, n_neg = pos.shape[0], fit.shape[0], neg.shape[0]
        labels = np.array([1] * n_pos + [0] * (n_day + n_neg))
        weights = np.array([1.0] * (n_pos + n_day) + [NEGATIVE_WEIGHT] * n_neg)
        svm = _svm(vstack([pos, fit, neg]).tocsr(), labels, weights)
        return _standard(svm.decision_function(day), svm.decision_function(fit))

    def _penalty(self, pos: Any, day: Any, neg: Any) -> Any:
        """How far below its closeness a paper goes for resembling what the reader does not
        want (never negative: negatives only lower)."""
        import numpy as np
        from scipy.sparse import vstack

        if not neg.shape[0]:
            return np.zeros(day.shape[0])
        near_pos = self._similar.max(axis=1)
        near_neg = (day @ neg.T).toarray().max(axis=1)
        spread = float(near_pos.std()) or 1.0
        penalty = np.maximum(0.0, near_neg - near_pos) / spread
        if neg.shape[0] >= 2:  # the rated papers alone: positives against negatives
            labels = np.array([1] * pos.shape[0] + [0] * neg.shape[0])
            side = _svm(vstack([pos, neg]).tocsr(), labels, np.ones(len(labels)))
            below = np.minimum(0.0, side.decision_function(day))
            below *= np.clip(near_neg / (near_neg.max() or 1.0), 0.0, 1.0)
            penalty += -below / (float(below.std()) or 1.0)
        return penalty / 2.0

    @functools.cached_property
    def _threshold(self) -> float | None:
        """The closeness of a match: the reader's own papers, each scored by the model fitted
        without it, at the THRESHOLD_QUANTILE; with one paper, nothing to hold out: the top of
        THRESHOLD_RANGE (a paper that close always matches)."""
        import numpy as np

        pos, day = self.features.pos, self._day
        n_pos = pos.shape[0]
        if n_pos < 1 or day.shape[0] < 2:
            return None
        low, high = THRESHOLD_RANGE
        if n_pos == 1:
            return high
        day = day[:: -(-day.shape[0] // THRESHOLD_DAY)]  # every k-th paper: a big day's shape
        held: list[float] = []
        for fold in range(min(FOLDS, n_pos)):
            out = np.arange(fold, n_pos, min(FOLDS, n_pos))
            keep = np.setdiff1d(np.arange(n_pos), out)
            svm, rocchio = _base(pos[keep], day, pos[out])
            held.extend(((svm + rocchio) / 2.0).tolist())
        return float(np.clip(np.quantile(held, THRESHOLD_QUANTILE), low, high))

    def threshold(self) -> float | None:
        """The closeness of a match (None without positives or a day); see `_threshold`."""
        return self._threshold

    def weak(self) -> list[bool]:
        """Whether each paper's nearest positive is little more than chance (WEAK_SIMILARITY)."""
        return (self._similar.max(axis=1) < WEAK_SIMILARITY).tolist()

    def evidence(self, index: int, limit: int = 2) -> Evidence:
        """The nearest positive (cosine) and the phrases the paper shares with it."""
        import numpy as np

        features = self.features
        sims = self._similar[index]
        nearest = int(np.argmax(sims))
        entry = features.positives[nearest]
        text = paper_text(features.papers[index])
        terms = shared_phrases(text, [entry.text], features.rarity, limit)
        if not terms:
            terms = features._words(features.pos[nearest], index, limit, entry.text)
        bar = self.threshold()
        weak = float(sims[nearest]) < WEAK_SIMILARITY or (
            bar is not None and float(self.scores[index]) < bar
        )
        return Evidence(nearest, float(sims[nearest]), tuple(terms), weak)
