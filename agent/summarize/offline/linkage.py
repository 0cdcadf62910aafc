"""Agglomerative clustering in NumPy: what `scipy.cluster.hierarchy.linkage` (Ward, average)
and `fcluster` (criterion "maxclust" or "distance") compute, without importing scipy.

Importing scipy.cluster.hierarchy pulls in scipy.spatial and scipy.linalg: about a sixth of
a whole offline digest's CPU. The trees here are small (an ordinary day, or the fixed sample
of a big one), so scipy's algorithms are written out step by step: the nearest-neighbour
chain with the Lance-Williams updates, rows sorted by height and numbered as scipy numbers
them, and the flat cut with scipy's search for the threshold and its order of cluster numbers.
Tests compare both with scipy on the bundled corpora and on tied inputs.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Method = Literal["ward", "average"]
_BLOCK = 1 << 18  # numbers per block of coordinate differences (2 MiB)


def linkage(x: np.ndarray, method: Method) -> np.ndarray:
    """The (n-1) x 4 linkage matrix of the rows of x: Euclidean distance for Ward, cosine
    distance for average linkage (as scipy's `linkage(x, method)` and
    `linkage(x, "average", metric="cosine")`)."""
    x = np.asarray(x, dtype=np.float64)
    if method == "ward":
        dist = _euclidean(x)
    elif method == "average":
        dist = _cosine(x)
    else:
        raise ValueError(f"unknown linkage method {method!r}")
    if not np.isfinite(dist).all():
        raise ValueError("The condensed distance matrix must contain only finite values.")
    return _nn_chain(dist, method)


def linkage_of_distances(distances: np.ndarray, method: Method) -> np.ndarray:
    """The linkage matrix of a square, symmetric matrix of distances between n items (what
    scipy's `linkage(squareform(distances), method)` computes)."""
    dist = np.array(distances, dtype=np.float64)  # a copy: the chain uses it up
    if dist.ndim != 2 or dist.shape[0] != dist.shape[1] or len(dist) < 2:
        raise ValueError("distances must be a square matrix of at least two items")
    if not np.isfinite(dist).all():
        raise ValueError("The condensed distance matrix must contain only finite values.")
    if method not in ("ward", "average"):
        raise ValueError(f"unknown linkage method {method!r}")
    return _nn_chain(dist, method)


def _euclidean(x: np.ndarray) -> np.ndarray:
    """Distances from the coordinate differences (as scipy's pdist), a block of rows at a time."""
    n, d = x.shape
    out = np.empty((n, n))
    rows = max(1, _BLOCK // max(1, n * d))
    for start in range(0, n, rows):
        diff = x[start : start + rows, np.newaxis, :] - x[np.newaxis, :, :]
        out[start : start + rows] = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    return out


def _cosine(x: np.ndarray) -> np.ndarray:
    """1 - cos, a block of rows at a time: one n x n array (a big day's tree has 2,500 rows)."""
    n = len(x)
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    out = np.empty((n, n))
    rows = max(1, _BLOCK // max(1, n))
    for start in range(0, n, rows):
        block = slice(start, start + rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[block] = 1.0 - (x[block] @ x.T) / np.outer(norms[block], norms)
    return np.clip(out, 0.0, 2.0, out=out)


def _nn_chain(d: np.ndarray, method: Method) -> np.ndarray:
    """scipy's nn_chain: merges of mutual nearest neighbours, the lower index first. Uses up
    the distance matrix `d`."""
    n = len(d)
    np.fill_diagonal(d, np.inf)
    size = np.ones(n)
    merges = np.empty((n - 1, 4))
    chain: list[int] = []
    for k in range(n - 1):
        if not chain:
            chain.append(int(np.flatnonzero(size > 0)[0]))
        while True:
            x = chain[-1]
            row = d[x]
            y = int(np.argmin(row))  # the first of equal minima, as scipy's scan
            if len(chain) > 1:
                previous = chain[-2]
                if not row[y] < row[previous]:  # scipy keeps the predecessor on ties
                    y = previous
                if y == previous:
                    break
            chain.append(y)
        y, x = chain.pop(), chain.pop()
        height = d[x, y]
        if x > y:
            x, y = y, x
        nx, ny = size[x], size[y]
        merges[k] = (x, y, height, nx + ny)
        alive = size > 0
        alive[[x, y]] = False
        ni = size[alive]
        d_xi, d_yi = d[x, alive], d[y, alive]
        if method == "ward":
            t = 1.0 / (nx + ny + ni)
            new = np.sqrt(
                (ni + nx) * t * d_xi * d_xi + (ni + ny) * t * d_yi * d_yi - ni * t * height * height
            )
        else:
            new = (nx * d_xi + ny * d_yi) / (nx + ny)
        d[y, alive] = new
        d[alive, y] = new
        d[x, :] = np.inf
        d[:, x] = np.inf
        size[x], size[y] = 0, nx + ny
    merges = merges[np.argsort(merges[:, 2], kind="mergesort")]
    return _relabel(merges, n)


def _relabel(merges: np.ndarray, n: int) -> np.ndarray:
    """Cluster ids as scipy gives them: the i-th merge creates cluster n + i (union-find)."""
    parent = list(range(2 * n - 1))

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    for i in range(n - 1):
        a, b = find(int(merges[i, 0])), find(int(merges[i, 1]))
        merges[i, 0], merges[i, 1] = min(a, b), max(a, b)
        parent[a] = parent[b] = n + i
    return merges


def maxclust(tree: np.ndarray, k: int) -> np.ndarray:
    """Flat clusters 1..m (m <= k) of the leaves: scipy's `fcluster(tree, k, "maxclust")`.

    The cut is at the lowest merge height that leaves at most k clusters (found by scipy's
    binary search, so ties at the cut leave fewer); clusters are numbered in scipy's
    traversal order."""
    n = len(tree) + 1
    if k >= n:
        return np.arange(1, n + 1)
    children, height = _children_and_heights(tree)
    parent = np.full(2 * n - 1, -1, dtype=np.int64)
    parent[children.ravel()] = np.repeat(np.arange(n, 2 * n - 1), 2)
    node_height = np.concatenate([np.full(n, -np.inf), height])  # leaves: below any cut
    parent_height = np.full(2 * n - 1, np.inf)  # the root has no parent: above any cut
    parent_height[:-1] = node_height[parent[:-1]]

    def count(threshold: float) -> int:
        """Clusters at this threshold: the topmost nodes whose height is within it."""
        return int(((node_height <= threshold) & (parent_height > threshold)).sum())

    lower, upper = -1, n - 1  # the lowest merge height whose cut leaves at most k clusters
    while upper - lower > 1:
        i = (lower + upper) >> 1
        if count(height[i]) > k:
            lower = i
        else:
            upper = i
    return _cut(children, height, height[min(upper, n - 2)], n)


def cut_at(tree: np.ndarray, threshold: float) -> np.ndarray:
    """Flat clusters 1..m of the leaves: no two leaves of one cluster further apart (in the
    tree) than `threshold`; scipy's `fcluster(tree, threshold, "distance")`."""
    n = len(tree) + 1
    if n == 1:
        return np.ones(1, dtype=np.int64)
    children, height = _children_and_heights(tree)
    return _cut(children, height, threshold, n)


def _children_and_heights(tree: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two children of each merge, and the highest merge below each (scipy's monocrit)."""
    n = len(tree) + 1
    children = tree[:, :2].astype(np.int64)
    height = np.empty(n - 1)
    for i in range(n - 1):
        h = tree[i, 2]
        for c in children[i]:
            if c >= n and height[c - n] > h:
                h = height[c - n]
        height[i] = h
    return children, height


def _cut(children: np.ndarray, height: np.ndarray, cutoff: float, n: int) -> np.ndarray:
    """scipy's cluster_monocrit: a depth-first walk numbering clusters as it meets them."""
    labels = np.zeros(n, dtype=np.int64)
    count = 0
    leader = -1
    visited = np.zeros(2 * n - 1, dtype=bool)
    stack = [2 * n - 2]
    while stack:
        root = stack[-1] - n
        left, right = int(children[root, 0]), int(children[root, 1])
        if leader == -1 and height[root] <= cutoff:
            leader = root
            count += 1
        if left >= n and not visited[left]:
            visited[left] = True
            stack.append(left)
            continue
        if right >= n and not visited[right]:
            visited[right] = True
            stack.append(right)
            continue
        for leaf in (left, right):
            if leaf < n:
                if leader == -1:
                    count += 1
                labels[leaf] = count
        if leader == root:
            leader = -1
        stack.pop()
    return labels
