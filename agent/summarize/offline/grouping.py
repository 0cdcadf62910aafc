"""Grouping a big day (over 60 papers) for the offline engine: TF-IDF (uni+bigrams, sublinear
tf), LSA, average linkage; and the TF-IDF similarity the model engine's repair uses.

Deterministic (fixed random_state, sorted tie-breaks) and sparse on big days, so a day of 2,000
papers takes a few seconds and 20,000 papers still finish on a small machine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agent.models import Paper
from agent.summarize.offline.linkage import linkage, maxclust
from agent.summarize.offline.text import (
    analyze,
    paper_text,
)
from agent.summarize.offline.vectors import (
    Matrix,
    cosine_silhouette,
    l2_normalize,
    lsa,
    one_blas_thread,
    tfidf,
    to_csr,
    to_dense,
)

OTHER = -1
_SEED = 0
_TREE_MAX = 2500  # above this many papers the tree is built on a fixed sample
_SILHOUETTE_SAMPLE = 2000


@dataclass(frozen=True)
class Vectors:
    """TF-IDF rows (L2-normalised; an array on ordinary days, CSR on big ones) and the term of
    each column."""

    matrix: Matrix
    terms: np.ndarray


def vectorize(texts: Sequence[str]) -> Vectors:
    """TF-IDF over unigrams and bigrams; rare and ubiquitous terms dropped when the day is big."""
    texts = list(texts)
    big = len(texts) >= 20
    try:
        matrix, terms = tfidf(texts, analyze, min_df=2 if big else 1, max_df=0.5 if big else 1.0)
    except ValueError:  # no terms survive the document-frequency cuts: keep every term
        try:
            matrix, terms = tfidf(texts, analyze)
        except ValueError:  # no terms at all (titles made only of stop words)
            return Vectors(np.zeros((len(texts), 0), dtype=np.float32), np.array([]))
    return Vectors(matrix, terms)


def theme_bounds(n: int, max_themes: int) -> tuple[int, int]:
    """How many themes a day of n papers may have (before 'Other' is split off)."""
    cap = max(1, min(max_themes, 12))
    if n <= 5:
        return 1, 1
    if n < 20:
        return min(2, cap), min(cap, max(2, n // 5))
    return min(3, cap), min(cap, max(3, math.ceil(n / 8)))


def _embed(vectors: Vectors) -> np.ndarray:
    n, d = vectors.matrix.shape
    dims = min(100, d - 1, n - 1)
    if dims < 2:
        return to_dense(vectors.matrix)
    return l2_normalize(lsa(vectors.matrix, dims, _SEED)).astype(np.float32)


def _sample_rows(n: int) -> np.ndarray:
    """A fixed, evenly spread subset of rows for the tree when the day is very big."""
    if n <= _TREE_MAX:
        return np.arange(n)
    rng = np.random.default_rng(_SEED)
    return np.sort(rng.choice(n, size=_TREE_MAX, replace=False))


def _silhouette(z: np.ndarray, labels: np.ndarray) -> float:
    if len(set(labels.tolist())) < 2:
        return -1.0
    sample = _SILHOUETTE_SAMPLE if len(z) > _SILHOUETTE_SAMPLE else None
    return cosine_silhouette(z, labels, sample_size=sample, seed=_SEED)


def cluster(vectors: Vectors, *, max_themes: int = 12) -> np.ndarray:
    """One label per row: 0..k-1 for themes, OTHER for papers in clusters too small to stand.

    Average-linkage (cosine) agglomeration of the LSA vectors; the cut k is the one with the
    best silhouette within `theme_bounds`. Very big days build the tree on a fixed sample and
    assign every paper to the nearest cluster centroid.
    """
    n = vectors.matrix.shape[0]
    lo, hi = theme_bounds(n, max_themes)
    if hi <= 1 or vectors.matrix.shape[1] < 2:
        return np.zeros(n, dtype=int)
    z = _embed(vectors)
    # Papers with no usable term (e.g. a title of stop words, no abstract) have no direction.
    valid = np.flatnonzero(np.linalg.norm(z, axis=1) > 1e-6)
    rows = valid[_sample_rows(len(valid))]
    zs = z[rows]
    if len(rows) < 3 or np.allclose(zs, zs[0]):
        return np.zeros(n, dtype=int)
    tree = linkage(zs, "average")
    best: tuple[float, np.ndarray] | None = None
    for k in range(lo, hi + 1):
        labels = maxclust(tree, k) - 1
        score = _silhouette(zs, labels)
        if best is None or score > best[0] + 1e-9:
            best = (score, labels)
    assert best is not None
    sample_labels = _split_big(zs, best[1], hi, _min_size(len(rows)))
    k = int(sample_labels.max()) + 1
    labels = np.full(n, k, dtype=int)  # rows without a direction: an extra group, then OTHER
    if len(rows) < len(valid):
        centroids = l2_normalize(np.vstack([zs[sample_labels == c].mean(axis=0) for c in range(k)]))
        labels[valid] = np.argmax(z[valid] @ centroids.T, axis=1)
    else:
        labels[rows] = sample_labels
    merged = _merge_small(labels, n, lo, hi)
    if len(valid) < n:
        merged[np.setdiff1d(np.arange(n), valid)] = OTHER
    return merged


def _min_size(n: int) -> int:
    """The smallest group that stands as a theme; smaller ones go to 'Other'."""
    return max(3, math.ceil(0.01 * n)) if n >= 20 else 2


def _split_big(z: np.ndarray, labels: np.ndarray, hi: int, min_size: int) -> np.ndarray:
    """Halve (2-means) clusters over a quarter of the day while the theme budget allows.

    Average linkage keeps a dense core of related papers together; on a homogeneous day that
    core can hold most of the papers, which reads badly. Splitting it does not change the
    score on the labelled sample (where the budget is already used) and balances big days.
    """
    labels = labels.copy()
    n = len(labels)
    while True:
        sizes = np.bincount(labels)
        themes = int((sizes >= min_size).sum()) + int(((sizes > 0) & (sizes < min_size)).any())
        biggest = int(np.argmax(sizes))
        if themes >= hi or sizes[biggest] <= n / 4 or sizes[biggest] < 4 * min_size:
            return labels
        idx = np.flatnonzero(labels == biggest)
        from sklearn.cluster import KMeans  # rarely needed, and slow to import

        with one_blas_thread():  # scikit-learn may have loaded another BLAS just now
            halves = KMeans(n_clusters=2, random_state=_SEED, n_init=10).fit_predict(z[idx])
        if min(np.bincount(halves, minlength=2)) < min_size:
            return labels
        labels[idx[halves == 1]] = labels.max() + 1


def _merge_small(labels: np.ndarray, n: int, lo: int, hi: int) -> np.ndarray:
    """Clusters under the minimum size go to OTHER, then the smallest themes too while there
    are more than `hi` groups; never fewer than `lo` groups (OTHER counts as one)."""
    sizes = np.bincount(labels)
    order = sorted(range(len(sizes)), key=lambda c: (sizes[c], c))  # smallest first
    order = [c for c in order if sizes[c] > 0]
    min_size = _min_size(n)
    to_other = [c for c in order if sizes[c] < min_size]
    kept = [c for c in order if sizes[c] >= min_size]
    while to_other and len(kept) + 1 < lo:  # too few groups: keep the biggest small ones
        kept.insert(0, to_other.pop())
    while kept and len(kept) + (1 if to_other else 0) > hi:
        to_other.append(kept.pop(0))  # too many groups: the smallest theme joins OTHER
    out = labels.copy()
    for c in to_other:
        out[labels == c] = OTHER
    # Renumber the remaining clusters 0..m-1 by first appearance (stable, deterministic).
    mapping: dict[int, int] = {}
    for c in out.tolist():
        if c != OTHER and c not in mapping:
            mapping[c] = len(mapping)
    return np.array([mapping.get(c, OTHER) for c in out.tolist()], dtype=int)


# ---------------------------------------------------------------------- repair aid


def centroid_similarity(papers: Sequence[Paper], groups: Sequence[Sequence[Paper]]) -> np.ndarray:
    """Cosine similarity (TF-IDF) of each paper to each group's centroid; 0 for empty groups."""
    group_texts = [[paper_text(p) for p in g] for g in groups]
    texts = [paper_text(p) for p in papers]
    corpus = texts + [t for g in group_texts for t in g]
    if not corpus or not texts:
        return np.zeros((len(texts), len(groups)), dtype=np.float32)
    vectors = vectorize(corpus)
    m = to_csr(vectors.matrix)  # sparse sums, whatever the size: the numbers stay the same
    rows = m[: len(texts)]
    centroids = np.zeros((len(groups), m.shape[1]), dtype=np.float32)
    offset = len(texts)
    for gi, g in enumerate(group_texts):
        if g:
            centroids[gi] = np.asarray(m[offset : offset + len(g)].mean(axis=0)).ravel()
        offset += len(g)
    centroids = l2_normalize(centroids)
    return np.asarray(rows @ centroids.T)
