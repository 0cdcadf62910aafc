"""The baselines the reader model is measured against in the rating sessions.

- `linear_svc`: what arxiv-sanity does: TF-IDF of words and word pairs (sublinear tf, English
  stop words, arxiv-sanity's token pattern) over title, abstract and authors; a class-balanced
  LinearSVC (C = 0.1) with the reader's papers and up-ratings as positives and the day and the
  down-ratings as negatives; a paper's score is its distance from the boundary.
- `nearest_seed`: what zotero-arxiv-daily does, with TF-IDF instead of sentence embeddings:
  the highest cosine similarity to one of the reader's papers (ratings down are not used).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.models import Paper
from agent.select import Interests, LibraryEntry

SVM_C = 0.1
_ARXIV_SANITY_TOKENS = r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b"


def _entry_text(entry: LibraryEntry) -> str:
    return " ".join([entry.title, entry.abstract, *entry.authors])


def _paper_text(paper: Paper) -> str:
    return " ".join([paper.title, paper.abstract, *paper.authors])


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        strip_accents="unicode",
        stop_words="english",
        token_pattern=_ARXIV_SANITY_TOKENS,
        ngram_range=(1, 2),
        sublinear_tf=True,
    )


def linear_svc(papers: Sequence[Paper], interests: Interests) -> list[float]:
    from sklearn.svm import LinearSVC

    profile = interests.profile
    positives = [_entry_text(e) for e in profile.positives]
    negatives = [_entry_text(e) for e in profile.disliked]
    day = [_paper_text(p) for p in papers]
    matrix = _vectorizer().fit_transform(positives + day + negatives)
    labels = [1] * len(positives) + [0] * (len(day) + len(negatives))
    svm = LinearSVC(C=SVM_C, class_weight="balanced", max_iter=10_000, tol=1e-6, random_state=0)
    svm.fit(matrix, labels)
    scores = svm.decision_function(matrix[len(positives) : len(positives) + len(day)])
    return [float(s) for s in scores]


def nearest_seed(papers: Sequence[Paper], interests: Interests) -> list[float]:
    seeds = [_entry_text(e) for e in interests.profile.positives]
    matrix = _vectorizer().fit_transform(seeds + [_paper_text(p) for p in papers])
    similarity = (matrix[len(seeds) :] @ matrix[: len(seeds)].T).toarray()
    return [float(row.max()) for row in similarity]


__all__ = ["SVM_C", "linear_svc", "nearest_seed"]
