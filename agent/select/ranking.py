"""The per-reader ranking model, in the spirit of arxiv-sanity-lite: a linear classifier on
TF-IDF features, trained on the reader's papers (library, up-ratings) against the day's other
papers as background (plus down-ratings and the `not_interested` text as explicit negatives).

Two linear scorers over one feature space, each standardised over the day and averaged:

- a linear SVM (class-weight balanced, fixed seed): what separates the reader's papers from
  today's background, so words every paper uses ("pre-trained transformer") earn no weight;
- a Rocchio centroid, mean(positives) - 0.5 mean(background) - mean(negatives): with a handful
  of seeds the SVM leans on one seed's quirks, the centroid on what the seeds share.

Features are stemmed words (hyphenated compounds kept whole, as phrases), sublinear TF, IDF over
the library plus the day, terms in more than half the documents dropped. Deterministic and fast:
no randomness without a seed, one vectorizer fit, sparse algebra.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent.models import Paper
from agent.select.profile import LibraryEntry
from agent.select.rules import paper_text
from agent.stop_words import ENGLISH_STOP_WORDS

_TOKEN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_SUFFIXES = (
    "izations",
    "ization",
    "ations",
    "ation",
    "ings",
    "ing",
    "ied",
    "ies",
    "ed",
    "es",
    "s",
    "e",
)
NEGATIVE_WEIGHT = 3.0  # a down-rating counts as much as three background papers
BACKGROUND_SHARE = 0.5  # Rocchio: how much of the background centroid is subtracted
SVM_C = 0.1


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


class Analyzer:
    """Text to stemmed terms; remembers the commonest surface word of each stem (for `why`)."""

    def __init__(self) -> None:
        self._stems: dict[str, str] = {w: "" for w in ENGLISH_STOP_WORDS}  # "" = dropped
        self._forms: dict[str, str] = {}  # stem -> the first word seen with it

    def __call__(self, text: str) -> list[str]:
        words = _TOKEN.findall(text.lower())
        stems = self._stems
        for word in set(words).difference(stems):
            stem = stems[word] = _stem(word) if len(word) > 1 else ""
            self._forms.setdefault(stem, word)
        return [stem for stem in map(stems.__getitem__, words) if stem]

    def word(self, stem: str) -> str:
        """A word of the texts that has this stem."""
        return self._forms.get(stem, stem)


@dataclass(frozen=True)
class Evidence:
    """Why a paper scored: its nearest reader paper and the terms that weighed most."""

    nearest: int  # index into the positives
    similarity: float
    terms: tuple[str, ...]


class Features:
    """One TF-IDF space over the reader's papers, the day and the explicit negatives; every
    text signal (interests, not_interested, the reader model) is computed in it."""

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
        n_pos, n_day = len(self.positives), len(self.papers)
        docs = (
            [e.text for e in self.positives]
            + [paper_text(p) for p in self.papers]
            + list(negatives)
        )
        self.vectorizer = TfidfVectorizer(
            analyzer=self.analyzer, sublinear_tf=True, max_df=0.5 if len(docs) >= 20 else 1.0
        )
        matrix = self.vectorizer.fit_transform(docs).tocsr()
        self.names = self.vectorizer.get_feature_names_out()
        self.pos = matrix[:n_pos]
        self.day = matrix[n_pos : n_pos + n_day]
        self.neg = matrix[n_pos + n_day :]

    def similarity(self, text: str) -> list[float]:
        """Cosine similarity of each paper of the day to a free text (0s for an empty text)."""
        if not text.strip() or not self.papers:
            return [0.0] * len(self.papers)
        query = self.vectorizer.transform([text])
        return [float(v) for v in (self.day @ query.T).toarray().ravel()]

    def terms_in(self, text: str, index: int, limit: int = 3) -> list[str]:
        """Words of `text` that paper `index` also uses, the weightiest first (for `why`)."""
        import numpy as np

        if not text.strip():
            return []
        query = self.vectorizer.transform([text])
        contrib = self.day[index].multiply(query).tocsr()
        order = np.argsort(-contrib.data, kind="stable")[:limit]
        return [self.analyzer.word(str(self.names[contrib.indices[k]])) for k in order]


class ReaderModel:
    """Fitted on one day: `scores[i]` is paper i's standardised closeness to the reader."""

    def __init__(self, features: Features) -> None:
        import numpy as np
        from scipy.sparse import vstack
        from sklearn.svm import LinearSVC

        pos, day, neg = features.pos, features.day, features.neg
        self.features = features
        n_pos, n_day, n_neg = pos.shape[0], day.shape[0], neg.shape[0]
        labels = np.array([1] * n_pos + [0] * (n_day + n_neg))
        weights = np.array([1.0] * (n_pos + n_day) + [NEGATIVE_WEIGHT] * n_neg)
        svm = LinearSVC(C=SVM_C, class_weight="balanced", max_iter=5000, tol=1e-5, random_state=0)
        svm.fit(vstack([pos, day, neg]).tocsr(), labels, sample_weight=weights)
        svm_scores = svm.decision_function(day)
        centroid = np.asarray(pos.mean(axis=0)).ravel()
        centroid -= BACKGROUND_SHARE * np.asarray(day.mean(axis=0)).ravel()
        if n_neg:
            centroid -= np.asarray(neg.mean(axis=0)).ravel()
        self._centroid = centroid
        rocchio = np.asarray(day @ centroid).ravel()
        self.scores = (_standard(svm_scores) + _standard(rocchio)) / 2.0

    def evidence(self, index: int, top_terms: int = 3) -> Evidence:
        """The nearest reader paper (cosine) and the terms adding most to paper `index`'s score."""
        import numpy as np

        features = self.features
        row = features.day[index]
        sims = (features.pos @ row.T).toarray().ravel()
        nearest = int(np.argmax(sims))
        contrib = row.multiply(self._centroid).tocsr()
        order = np.argsort(-contrib.data, kind="stable")
        names = features.names
        terms: list[str] = []
        for k in order[:top_terms]:
            if contrib.data[k] <= 0:
                break
            terms.append(features.analyzer.word(str(names[contrib.indices[k]])))
        return Evidence(nearest, float(sims[nearest]), tuple(terms))


def _standard(values: Any) -> Any:
    """Zero mean, unit spread over the day (a constant day stays all zeros)."""
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-12 else values * 0.0
