"""Issue 13: the NumPy agglomerative clustering computes what scipy.cluster.hierarchy computes
(Ward and average linkage, the maxclust cut), so the offline grouping does not need scipy at
start-up. Where no distances tie (the bundled corpora, random points) the trees are equal to
scipy's; where they tie, several trees are correct and scipy's choice among them changes between
releases (1.17 merged tied pairs in another order), so those tests check that our tree is a
correct agglomeration and that our cut of it is scipy's cut of it."""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster
from scipy.cluster.hierarchy import linkage as scipy_linkage
from scipy.spatial.distance import squareform

from agent.core.resources import sample_corpus_path
from agent.evals.cases import load_cases
from agent.sources.local import read_paper_file
from agent.summarize.offline import daygroups as offline_daygroups
from agent.summarize.offline import grouping as offline_grouping
from agent.summarize.offline.grouping import _embed, vectorize
from agent.summarize.offline.linkage import cut_at, linkage, linkage_of_distances, maxclust
from agent.summarize.offline.text import paper_text

ROOT = Path(__file__).resolve().parent.parent
PAPERS = read_paper_file(sample_corpus_path(), "sample")


def _days() -> dict[str, list]:
    """The labelled day cases, the whole sample and random days of 10 to 80 papers."""
    days = {c.name: list(c.papers) for c in load_cases(ROOT / "evals" / "cases", tags=("day",))}
    days["sample-207"] = PAPERS
    for n in (10, 25, 30, 45, 60, 80):
        days[f"random-{n}"] = random.Random(n).sample(PAPERS, n)
    return days


DAYS = _days()


@cache
def _vectors(day: str) -> offline_grouping.Vectors:
    return vectorize([paper_text(p) for p in DAYS[day]])


@cache
def _lsa(day: str) -> np.ndarray:
    z = _embed(_vectors(day))
    return z[np.linalg.norm(z, axis=1) > 1e-6]


def _reference(x: np.ndarray, method: str) -> np.ndarray:
    if method == "ward":
        return scipy_linkage(x, method="ward")
    return scipy_linkage(x, method="average", metric="cosine")


def _assert_same(x: np.ndarray, method: str) -> None:
    want, got = _reference(x, method), linkage(x, method)  # type: ignore[arg-type]
    assert np.array_equal(got[:, [0, 1, 3]], want[:, [0, 1, 3]])
    assert np.allclose(got[:, 2], want[:, 2], rtol=0, atol=1e-12)
    n = len(x)
    for k in [*range(1, min(n, 16)), n - 1, n, n + 1]:
        assert np.array_equal(maxclust(got, k), fcluster(want, t=k, criterion="maxclust")), k


@pytest.mark.parametrize("method", ["ward", "average"])
@pytest.mark.parametrize("day", sorted(DAYS))
def test_linkage_and_cut_equal_scipys_on_the_lsa_vectors_of_real_days(day: str, method: str):
    z = _lsa(day)
    assert len(z) >= 10
    _assert_same(z, method)


@pytest.mark.parametrize("method", ["ward", "average"])
def test_linkage_and_cut_equal_scipys_when_no_distances_tie(method: str) -> None:
    rng = np.random.default_rng(11)
    for _ in range(20):
        n, d = int(rng.integers(3, 50)), int(rng.integers(2, 12))
        _assert_same(rng.normal(size=(n, d)), method)


def _tied_inputs() -> list[np.ndarray]:
    """Duplicated rows (zero distances) and grid points (many equal distances)."""
    rng = np.random.default_rng(7)
    out = []
    for trial in range(40):
        n, d = int(rng.integers(3, 50)), int(rng.integers(2, 12))
        x = rng.normal(size=(n, d))
        x[rng.integers(0, n, size=n // 3)] = x[0]  # duplicates: zero distances
        if trial % 2:
            x = np.round(x) + 0.5  # a grid: many equal distances, no zero vector
        out.append(x.astype(np.float32).astype(np.float64))
    return out


def _cluster_distances(x: np.ndarray, clusters: list[list[int]], method: str) -> np.ndarray:
    """The linkage distances between all pairs of clusters, from the points themselves: Ward's
    sqrt(2 na nb / (na + nb)) |mean a - mean b|, or the mean cosine distance over all pairs of
    members (1 - mean unit vector of a . mean unit vector of b)."""
    if method == "average":
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
    means = np.array([x[c].mean(axis=0) for c in clusters])
    if method == "average":
        out = 1.0 - means @ means.T
    else:
        sizes = np.array([len(c) for c in clusters], dtype=np.float64)
        gaps = np.linalg.norm(means[:, None, :] - means[None, :, :], axis=2)
        out = np.sqrt(2.0 * np.outer(sizes, sizes) / np.add.outer(sizes, sizes)) * gaps
    np.fill_diagonal(out, np.inf)
    return out


def _assert_valid_agglomeration(x: np.ndarray, tree: np.ndarray, method: str) -> None:
    """Every merge joins two current clusters at the smallest linkage distance among all
    pairs of current clusters, and its height is that distance: what any correct
    agglomerative clustering promises, whichever of several tied pairs it merges first."""
    n = len(x)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    assert np.all(np.diff(tree[:, 2]) >= -1e-12), "heights go down"
    for step, (a, b, height, size) in enumerate(tree):
        a, b = int(a), int(b)
        assert a in members and b in members, (step, a, b)
        ids = sorted(members)
        dist = _cluster_distances(x, [members[i] for i in ids], method)
        assert height == pytest.approx(dist[ids.index(a), ids.index(b)], abs=1e-9), step
        assert height <= dist.min() + 1e-9, (step, height, dist.min())
        members[n + step] = members.pop(a) + members.pop(b)
        assert size == len(members[n + step])


def _partition(labels: np.ndarray) -> set[frozenset[int]]:
    """Flat clusters up to their names."""
    groups: dict[int, set[int]] = {}
    for leaf, label in enumerate(labels.tolist()):
        groups.setdefault(label, set()).add(leaf)
    return {frozenset(g) for g in groups.values()}


@pytest.mark.parametrize("method", ["ward", "average"])
def test_tied_distances_give_a_correct_tree_and_the_cut_scipy_gives_of_it(method: str) -> None:
    """Tied distances admit several correct trees: scipy releases differ in which tied pair
    they merge first, so this test asserts the contract, not one library's tie order."""
    for x in _tied_inputs():
        tree = linkage(x, method)  # type: ignore[arg-type]
        _assert_valid_agglomeration(x, tree, method)
        assert np.array_equal(tree, linkage(x, method)), "not deterministic"  # type: ignore[arg-type]
        reference = _reference(x, method)
        assert tree[0, 2] == pytest.approx(reference[0, 2], abs=1e-9)  # the closest pair
        n = len(x)
        twins = np.flatnonzero(np.all(x == x[0], axis=1))
        distinct = len(np.unique(x, axis=0))
        for k in [*range(1, min(n, 16)), n - 1, n, n + 1]:
            labels = maxclust(tree, k)
            assert _partition(labels) == _partition(fcluster(tree, t=k, criterion="maxclust")), k
            assert len(set(labels.tolist())) <= k
            if k <= distinct:  # identical rows are never split
                assert len(set(labels[twins].tolist())) == 1, k


def test_linkage_rejects_what_scipy_rejects() -> None:
    with pytest.raises(ValueError, match="unknown linkage method"):
        linkage(np.ones((3, 2)), "single")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        linkage(np.array([[1.0, 0.0], [np.nan, 1.0], [0.0, 1.0]]), "ward")


def _scipy_cut(tree: np.ndarray, k: int) -> np.ndarray:
    return fcluster(tree, t=k, criterion="maxclust")


def _scipy_linkage_of_distances(d: np.ndarray, method: str) -> np.ndarray:
    return scipy_linkage(squareform(d, checks=False), method=method)


def _scipy_cut_at(tree: np.ndarray, threshold: float) -> np.ndarray:
    return fcluster(tree, t=threshold, criterion="distance")


@pytest.mark.parametrize("day", sorted(DAYS))
def test_the_agreement_tree_and_its_cut_equal_scipys(day: str) -> None:
    """The day grouping's second tree: average linkage on 1 - agreement (a precomputed
    distance matrix), cut at a height; equal to scipy's at every height."""
    papers = DAYS[day][:60]
    distance = 1.0 - offline_daygroups.agreement(papers)
    ours, want = (
        linkage_of_distances(distance, "average"),
        _scipy_linkage_of_distances(distance, "average"),
    )
    assert np.allclose(ours[:, 2], want[:, 2], rtol=0, atol=1e-12)
    for threshold in (0.0, 0.3, 0.5, 0.6, 0.8, 1.0):
        assert _partition(cut_at(ours, threshold)) == _partition(_scipy_cut_at(want, threshold)), (
            threshold
        )
        assert np.array_equal(cut_at(want, threshold), _scipy_cut_at(want, threshold))


@pytest.mark.parametrize("method", ["ward", "average"])
def test_linkage_of_distances_equals_scipys_when_no_distances_tie(method: str) -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        n, d = int(rng.integers(3, 40)), int(rng.integers(2, 8))
        x = rng.normal(size=(n, d))
        dist = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2))
        ours, want = linkage_of_distances(dist, method), _scipy_linkage_of_distances(dist, method)  # type: ignore[arg-type]
        assert np.array_equal(ours[:, [0, 1, 3]], want[:, [0, 1, 3]])
        assert np.allclose(ours[:, 2], want[:, 2], rtol=0, atol=1e-12)
        for threshold in np.quantile(want[:, 2], [0.0, 0.25, 0.5, 0.9, 1.0]):
            assert np.array_equal(cut_at(ours, threshold), _scipy_cut_at(want, threshold))


def test_linkage_of_distances_rejects_what_it_cannot_use() -> None:
    with pytest.raises(ValueError, match="square"):
        linkage_of_distances(np.ones((2, 3)), "average")
    with pytest.raises(ValueError, match="finite"):
        linkage_of_distances(np.array([[0.0, np.inf], [np.inf, 0.0]]), "average")
    with pytest.raises(ValueError, match="unknown linkage method"):
        linkage_of_distances(np.zeros((2, 2)), "single")  # type: ignore[arg-type]


@pytest.mark.parametrize("day", sorted(DAYS))
def test_the_grouping_gives_the_same_themes_as_with_scipys_linkage(day: str, monkeypatch) -> None:
    papers = DAYS[day][:60]
    vectors = _vectors(day)
    ours_day = offline_daygroups.cluster_day(papers)
    ours_big = offline_grouping.cluster(vectors)
    monkeypatch.setattr(offline_daygroups, "linkage", _reference)
    monkeypatch.setattr(offline_daygroups, "maxclust", _scipy_cut)
    monkeypatch.setattr(offline_daygroups, "linkage_of_distances", _scipy_linkage_of_distances)
    monkeypatch.setattr(offline_daygroups, "cut_at", _scipy_cut_at)
    monkeypatch.setattr(offline_grouping, "linkage", _reference)
    monkeypatch.setattr(offline_grouping, "maxclust", _scipy_cut)
    assert _partition(offline_daygroups.cluster_day(papers)) == _partition(ours_day)
    assert offline_grouping.cluster(vectors).tolist() == ours_big.tolist()
    if len(papers) >= 20:  # not a vacuous comparison: the day has themes
        assert len(set(ours_day.tolist())) > 2
