"""Grouping a small or ordinary day (8-60 papers) into themes by consensus, plus Other.

One TF-IDF tree cut at one k is brittle on 30 abstracts: a different title weight or a k one
higher moves papers between themes, and the silhouette picks k poorly at this size. So the day
is cut many ways and the grouping is what the cuts agree on (evidence accumulation):

- five views of the papers' terms (unigrams and bigrams of `text.analyze`): raw term counts
  with the title counted once, twice or three times, bigrams at half weight, and square-root
  counts; each is L2-normalised TF-IDF (smooth idf, terms in 2 to half of the papers);
- next to each view, at `_SENSE_WEIGHT`, the paper's word sense (`agent.core.word_vectors`: the
  title's and the abstract's SIF-weighted mean token vector, less the day's mean): it joins
  papers that say one thing in different words ("length extrapolation", "long context"), which TF-IDF
  over 30 abstracts cannot;
- each view's tree (average linkage, cosine) is cut at every k from a fifth to nearly half of
  the papers;
- the share of those cuts that put two papers together is their agreement; papers are joined
  by average linkage on 1 - agreement, up to the space's cut (papers on average together in
  35 % of the cuts), so the number of themes follows from how stable they are, not from a
  silhouette;
- a group of one goes to Other, and so do the smallest groups past the theme budget.

Without the word vectors (the package missing) the views are TF-IDF alone, with the Ward trees
and the cut that were tuned for them.

Tried and not kept (figures in docs/numbers.md): stability- or silhouette-chosen k, the true k,
bagged views, must-not-link, domain stop lists, a background IDF, other cut ranges, reassignment,
spectral clustering, k-means, LSA and NMF blocks, title-vector and TF-IDF-weighted vector blocks,
weight / cut re-tunes; modularity communities (Louvain, greedy) of the agreement or similarity k-NN
graph instead of the cut (held out -0.03 at best), paper-term co-clustering (bipartite Louvain,
SpectralCoclustering: tuning 0.37 at best against 0.49), and either as one more voter in the
agreement (held out -0.002 to -0.021); a soft cosine over the terms (word-vector term similarity)
instead of each view's cosine or as a sixth view (held out -0.005 to -0.058); snippet
clustering: Suffix Tree Clustering and Lingo alone (held out 0.12 and 0.31), either as one more
voter (-0.008, -0.018), STC phrases as must-links, phrase-presence and gapped-word-pair views
(-0.001, +0.011 +- 0.013 with the day cases -0.012).

Measured with `bench/offline_quality.py` (20 random 30-paper days of the labelled sample, and
the labelled day cases of evals/cases): see its docstring and the README for the figures.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agent.core import word_vectors
from agent.models import Paper
from agent.summarize.offline.grouping import OTHER
from agent.summarize.offline.linkage import Method, cut_at, linkage, linkage_of_distances, maxclust
from agent.summarize.offline.text import analyze
from agent.summarize.offline.vectors import l2_normalize

DAY_MIN, DAY_MAX = 8, 60  # papers: the sizes this grouping is for
SMALL_MAX = 19  # up to this many papers a day is small: at most `SMALL_THEMES` themes
SMALL_THEMES = 4
THEMES_MAX = 12
_REHOME = 0.3  # a paper of an unlabelled group joins a theme it was with this often
_K_LOW, _K_HIGH = 0.2, 0.45  # the cuts: k from a fifth to nearly half of the papers
_MAX_DF = 0.5


@dataclass(frozen=True)
class _View:
    """One way of counting a paper's terms: title weight, bigram weight, tf transform."""

    title: float
    bigram: float = 1.0
    sqrt: bool = False


_VIEWS = (_View(2.0), _View(2.0, bigram=0.5), _View(1.0), _View(3.0), _View(2.0, sqrt=True))


@dataclass(frozen=True)
class _Space:
    """How the views' trees are built and where the agreement tree is cut."""

    method: Method
    cut: float  # join groups while their papers were together in at least 1 - cut of the cuts


# Chosen on the 20 tuning days of bench/offline_quality.py (weights 0.5/0.7/1.0 x cuts
# 0.6/0.65/0.7; Ward trees did worse with the word vectors, average ones without). Re-checked
# with the SIF-weighted vectors (weights 0.5/0.7/1.0/1.5 x the same cuts): cut 0.6 scored 0.004
# higher on the tuning days but 0.01 lower held out and 0.04 lower on the day cases, so kept.
_SENSE_WEIGHT = 0.7
_WITH_SENSE = _Space("average", 0.65)
_TERMS_ONLY = _Space("ward", 0.6)


def is_ordinary_day(n: int) -> bool:
    """Whether a day of n papers is grouped here (else by `grouping.cluster`)."""
    return DAY_MIN <= n <= DAY_MAX


def theme_budget(n: int, max_themes: int) -> int:
    """How many themes (Other included) a day of n papers may have."""
    cap = SMALL_THEMES if n <= SMALL_MAX else min(THEMES_MAX, math.ceil(n / 3))
    return max(1, min(cap, max_themes))


def _counts(papers: Sequence[Paper]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Title counts, abstract counts, idf and bigram mask over the day's usable terms (in 2 to
    half of the papers; all terms in two or more papers when that leaves nothing)."""
    titles = [Counter(analyze(p.title)) for p in papers]
    abstracts = [Counter(analyze(p.abstract)) for p in papers]
    df: Counter[str] = Counter()
    for t, a in zip(titles, abstracts, strict=True):
        df.update(set(t) | set(a))
    n = len(papers)
    terms = sorted(t for t, d in df.items() if 2 <= d <= _MAX_DF * n)
    if not terms:
        terms = sorted(t for t, d in df.items() if d >= 2)
    column = {t: j for j, t in enumerate(terms)}
    title_counts = np.zeros((n, len(terms)))
    abstract_counts = np.zeros((n, len(terms)))
    for i, (t, a) in enumerate(zip(titles, abstracts, strict=True)):
        for term, c in t.items():
            if term in column:
                title_counts[i, column[term]] = c
        for term, c in a.items():
            if term in column:
                abstract_counts[i, column[term]] = c
    idf = np.array([math.log((n + 1) / (df[t] + 1)) + 1 for t in terms])
    bigram = np.array([" " in t for t in terms], dtype=bool)
    return title_counts, abstract_counts, idf, bigram


def word_sense(papers: Sequence[Paper]) -> np.ndarray | None:
    """Unit rows: each paper's title and abstract vectors summed, less the day's mean (what
    every paper of the day shares says nothing about which go together); None without the
    word vectors."""
    if not word_vectors.available():
        return None
    rows = word_vectors.embed([p.title for p in papers])
    rows += word_vectors.embed([p.abstract for p in papers])
    return l2_normalize(rows - rows.mean(axis=0))


def _space(sense: np.ndarray | None) -> _Space:
    return _TERMS_ONLY if sense is None else _WITH_SENSE


def agreement(papers: Sequence[Paper], sense: np.ndarray | None = None) -> np.ndarray:
    """The share of all cuts (views x k) that put each pair of papers in one group; `sense`
    (see `word_sense`) joins each view when given."""
    n = len(papers)
    title_counts, abstract_counts, idf, bigram = _counts(papers)
    ks = range(max(2, round(_K_LOW * n)), max(3, round(_K_HIGH * n)) + 1)
    method = _space(sense).method
    together = np.zeros((n, n))
    cuts = 0
    for view in _VIEWS:
        tf = view.title * title_counts + abstract_counts
        if view.sqrt:
            tf = np.sqrt(tf)
        weights = idf * np.where(bigram, view.bigram, 1.0)
        x = l2_normalize(tf * weights)
        if sense is not None:
            x = l2_normalize(np.hstack([x, _SENSE_WEIGHT * sense]))
        used = np.flatnonzero(np.linalg.norm(x, axis=1) > 0)
        if len(used) < 3:
            continue
        tree = linkage(x[used], method)
        for k in ks:
            labels = np.full(n, -1)
            labels[used] = maxclust(tree, min(k, len(used)))
            same = labels[:, None] == labels[None, :]
            same &= (labels >= 0)[:, None]
            together += same
            cuts += 1
    if cuts == 0:
        return np.eye(n)
    out = together / cuts
    np.fill_diagonal(out, 1.0)
    return out


def cluster_day(papers: Sequence[Paper], *, max_themes: int = THEMES_MAX) -> np.ndarray:
    """One label per paper: 0..k-1 for themes (numbered by first appearance), OTHER for the
    papers no other paper goes with, and for the smallest groups past the theme budget."""
    return day_groups(papers, max_themes=max_themes)[0]


def day_groups(
    papers: Sequence[Paper], *, max_themes: int = THEMES_MAX
) -> tuple[np.ndarray, np.ndarray]:
    """`cluster_day`'s labels and the agreement matrix they were cut from."""
    n = len(papers)
    if n < 3:
        return np.zeros(n, dtype=int), np.ones((n, n))
    sense = word_sense(papers)
    together = agreement(papers, sense)
    groups = cut_at(linkage_of_distances(1.0 - together, "average"), _space(sense).cut)
    return _budget(groups, theme_budget(n, max_themes)), together


def closest_group(paper: int, groups: Sequence[Sequence[int]], together: np.ndarray) -> int | None:
    """The group whose papers `paper` was most often cut with, when on average at least
    `_REHOME` of the time; None otherwise."""
    best, best_share = None, _REHOME - 1e-9
    for g, members in enumerate(groups):
        share = float(together[paper, list(members)].mean()) if members else 0.0
        if share > best_share:
            best, best_share = g, share
    return best


def _budget(groups: np.ndarray, budget: int) -> np.ndarray:
    """Groups of one, then the smallest groups (later first on ties) go to OTHER until the
    themes and Other fit the budget; the rest renumbered by first appearance."""
    sizes = np.bincount(groups)
    first = {int(g): i for i, g in reversed(list(enumerate(groups.tolist())))}
    ranked = sorted(range(len(sizes)), key=lambda g: (-sizes[g], first.get(g, 0)))
    kept = [g for g in ranked if sizes[g] >= 2]
    while kept and len(kept) + (len(kept) < len(ranked)) > budget:
        kept.pop()
    if not kept:  # nothing holds together: one theme of all, titled from what they share
        return np.zeros(len(groups), dtype=int)
    out = np.full(len(groups), OTHER, dtype=int)
    numbers: dict[int, int] = {}
    keep = set(kept)
    for i, g in enumerate(groups.tolist()):
        if g in keep:
            out[i] = numbers.setdefault(g, len(numbers))
    return out
