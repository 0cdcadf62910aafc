"""Grouping for the offline engine: TF-IDF (uni+bigrams, sublinear tf), LSA, average linkage.

Deterministic (fixed random_state, sorted tie-breaks) and sparse on big days, so a day of 2,000
papers takes a few seconds and 20,000 papers still finish on a small machine.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agent.models import Paper
from agent.summarize.offline.background import background_df
from agent.summarize.offline.linkage import linkage, maxclust
from agent.summarize.offline.text import (
    STOPWORDS,
    analyze,
    extend_phrase,
    normalize_word,
    paper_text,
    surface_form,
    term_set,
)
from agent.summarize.offline.vectors import (
    Matrix,
    cosine_silhouette,
    l2_normalize,
    lsa,
    one_blas_thread,
    presence,
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


# ------------------------------------------------------------------- distinctive terms


def _doc_freq(texts: Sequence[str]) -> Counter[str]:
    df: Counter[str] = Counter()
    for text in texts:
        df.update(term_set(text))
    return df


Scored = list[tuple[str, float]]


def _contrast(p_in: float, p_out: float, term: str) -> float:
    """Share of the group using a term times the log-ratio to its share elsewhere."""
    score = p_in * math.log(p_in / p_out)
    return score * 1.35 if " " in term else score


def ranked_terms(
    inside: Sequence[str], outside: Sequence[str] | None = None, *, limit: int = 40
) -> Scored:
    """Terms that set `inside` apart from `outside` (or from the bundled background corpus)."""
    df_in = _doc_freq(inside)
    n_in = max(1, len(inside))
    if outside:
        df_out, n_out = _doc_freq(outside), len(outside)
    else:
        df_out, n_out = background_df()
    min_docs = 2 if n_in >= 4 else 1
    scored = []
    for term, count in df_in.items():
        p_in = count / n_in
        p_out = (df_out.get(term, 0) + 0.5) / (n_out + 1.0)
        if count >= min_docs and p_in > p_out:
            scored.append((-_contrast(p_in, p_out, term), term))
    scored.sort()
    return [(t, -s) for s, t in scored[:limit]]


def contrast_terms(vectors: Vectors, labels: np.ndarray, *, limit: int = 40) -> dict[int, Scored]:
    """Distinctive terms of every group in `labels`, each group against the rest of the day."""
    used = presence(vectors.matrix)
    df_all = np.asarray(used.sum(axis=0)).ravel()
    n = used.shape[0]
    # Columns are in alphabetical order, so a stable sort breaks score ties alphabetically.
    is_phrase = np.array([" " in t for t in vectors.terms.tolist()], dtype=bool)
    out: dict[int, Scored] = {}
    for label in sorted(set(labels.tolist())):
        mask = labels == label
        n_in = int(mask.sum())
        n_out = n - n_in
        df_in = np.asarray(used[mask].sum(axis=0)).ravel()
        p_in = df_in / max(1, n_in)
        p_out = (df_all - df_in + 0.5) / (n_out + 1.0)
        ok = (df_in >= (2 if n_in >= 4 else 1)) & (p_in > p_out)
        score = np.zeros_like(p_in)
        score[ok] = p_in[ok] * np.log(p_in[ok] / p_out[ok])
        score[is_phrase] *= 1.35
        order = np.argsort(-score, kind="stable")
        idx = order[ok[order]][:limit]
        out[label] = [(str(vectors.terms[i]), float(score[i])) for i in idx]
    return out


_TITLE_SAMPLE = 200


# Words that are topical inside a phrase but say little as a title on their own.
_GENERIC_WORDS = """
    model language text data learning training inference generation network system scale
    sequence token layer parameter application example feature size human researcher
    transformer attention performance accuracy quality cost memory compute computation
    capability ability input output information knowledge domain benchmark dataset
    evaluation analysis review survey design architecture structure representation process
    setting level impact open learn dimension direction future insight field area role
    train similar benefit long short global local corpus large small high low
    advancement advance improvement progress challenge scalability
    """
_GENERIC_ALONE = frozenset(_GENERIC_WORDS.split())


_GENERIC_PAIR = frozenset(("large", "deep", "neural", "natural", "pretrained", "pre"))
_NOT_PARTICIPLE = frozenset(("speed", "embed", "seed", "feed", "need", "breed", "shred"))


def _weak(term: str) -> bool:
    """Terms that make poor titles: participles ('trained'), fragments ('pre'), generic words."""
    words = term.split()
    if any(w in STOPWORDS for w in words if w != "of"):
        return True
    if all(w in _GENERIC_ALONE or w in _GENERIC_PAIR for w in words if w != "of"):
        return True  # "language model", "transformer model"
    if any(len(w) >= 5 and w.endswith("ed") and w not in _NOT_PARTICIPLE for w in words):
        return True
    if len(words) == 1 and words[0].endswith("ly"):
        return True  # adverbs: 'consistently'
    return len(words) == 1 and (len(words[0]) < 4 or words[0] in _GENERIC_ALONE)


_SMALL_GROUP = 5  # groups this small take their phrases from the papers' titles only


def title_phrases(
    scored: Scored, papers: Sequence[Paper], count: int = 3, *, min_share: float = 0.0
) -> list[str]:
    """Up to `count` readable, non-overlapping phrases for a group, best first.

    Candidates are the group's distinctive terms used by at least `min_share` of its papers.
    A single word gives way when one phrase carries most of its uses ('length' inside
    'sequence length'); terms found in the papers' titles get a boost (small groups use title
    terms only); each phrase is written the way the papers write it.
    """
    members = list(papers[:_TITLE_SAMPLE])
    ranked = _ranked_candidates(scored, members, min_share)
    return _written_phrases(ranked, members, count)


def _phrase_uses(df: dict[str, int]) -> tuple[dict[str, int], Counter[str]]:
    """Per word: the most documents any one phrase with it has, and its uses as a phrase's
    first word."""
    carried: dict[str, int] = {}
    leading: Counter[str] = Counter()
    for term, n in df.items():
        if " " in term:
            words = term.split()
            leading[words[0]] += n
            for w in words:
                carried[w] = max(carried.get(w, 0), n)
    return carried, leading


def _ranked_candidates(scored: Scored, members: Sequence[Paper], min_share: float) -> list[str]:
    """The usable terms, best first: shared enough, not weak, not a word that a phrase carries
    or that only modifies; boosted when in the titles and when a phrase."""
    in_titles = _doc_freq([p.title for p in members])
    df = _doc_freq([paper_text(p) for p in members])
    carried, leading = _phrase_uses(df)
    n = max(1, len(members))
    ranked = []
    for term, score in scored:
        if _weak(term) or df.get(term, 0) < min_share * n:
            continue
        if len(members) <= _SMALL_GROUP and not in_titles.get(term):
            continue
        if " " not in term and (
            carried.get(term, 0) >= 0.5 * df.get(term, 0)
            or leading[term] >= 0.8 * df.get(term, 0)  # a modifier: 'long', 'graph'
        ):
            continue
        boost = (1.0 + 2.0 * in_titles.get(term, 0) / n) * (1.5 if " " in term else 1.0)
        ranked.append((-score * boost, term))
    ranked.sort()
    return [term for _, term in ranked]


def _written_phrases(ranked: Sequence[str], members: Sequence[Paper], count: int) -> list[str]:
    """The first `count` terms that share no word with one already chosen, each extended and
    written the way the papers write it."""
    abstracts = [p.abstract for p in members if p.abstract]
    titles = [p.title for p in members]
    chosen: list[str] = []
    used: set[str] = set()
    for term in ranked:
        if " " in term:
            term = extend_phrase(term, abstracts + titles)
        words = {normalize_word(w) for w in term.split()} - {"of"}
        if words & used:
            continue
        form = surface_form(term, abstracts) or surface_form(term, titles)
        if not form or form.lower() in (c.lower() for c in chosen):
            continue
        chosen.append(form)
        used |= words
        if len(chosen) == count:
            break
    return chosen


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
