"""NumPy versions of the scikit-learn steps the offline grouping needs on an ordinary day.

Importing scikit-learn costs more CPU than a whole 30-paper digest (it imports scipy.stats),
and importing scipy.sparse about a fifth of one, so these few steps are written out here,
computing what scikit-learn computes: `TfidfVectorizer(analyzer=..., sublinear_tf=True,
min_df, max_df)` (a NumPy array when the day is small, scipy CSR only for big days),
`normalize`, `silhouette_score(metric="cosine")` and, when the randomized range finder would
span the whole row space anyway, `TruncatedSVD` (an exact SVD then gives the same subspace).
Tests compare each with scikit-learn, which stays the implementation for big days and k-means.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
from threadpoolctl import threadpool_limits

if TYPE_CHECKING:
    from scipy import sparse

Matrix: TypeAlias = "np.ndarray | sparse.csr_matrix"
_OVERSAMPLES = 10  # TruncatedSVD's randomized_svd default
_DENSE_MAX = 1 << 22  # numbers (16 MiB of float32): bigger TF-IDF matrices are kept sparse


def tfidf(
    texts: Sequence[str],
    analyzer: Callable[[str], list[str]],
    *,
    min_df: int = 1,
    max_df: float = 1.0,
    dense: bool | None = None,
) -> tuple[Matrix, np.ndarray]:
    """L2-normalised sublinear TF-IDF rows (float32) and the sorted terms of the columns.

    As scikit-learn's TfidfVectorizer: smooth idf, terms in more than `max_df` of the
    documents or fewer than `min_df` dropped; ValueError when no term is left. The rows are
    a NumPy array when they fit in `_DENSE_MAX` numbers (an ordinary day: no scipy import),
    else a scipy CSR matrix; `dense` forces one or the other. Both hold the same numbers."""
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    indices: list[int] = []
    counts: list[int] = []
    for i, text in enumerate(texts):
        row = Counter(analyzer(text))
        indices.extend([vocabulary.setdefault(term, len(vocabulary)) for term in row])
        counts.extend(row.values())
        rows.extend([i] * len(row))
    if not vocabulary:
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    n = len(texts)
    terms = np.array(sorted(vocabulary), dtype=object)
    order = np.empty(len(terms), dtype=np.int64)  # old column -> sorted column
    order[[vocabulary[t] for t in terms.tolist()]] = np.arange(len(terms))
    cols = order[np.array(indices, dtype=np.int64)]
    row_index = np.array(rows, dtype=np.int64)
    df = np.bincount(cols, minlength=len(terms))  # each (document, term) pair occurs once
    keep = (df >= min_df) & (df <= max_df * n)
    if not keep.any():
        raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
    values = np.array(counts, dtype=np.float32)
    if not keep.all():
        kept = keep[cols]
        row_index, values = row_index[kept], values[kept]
        cols = (np.cumsum(keep) - 1)[cols[kept]]
        terms, df = terms[keep], df[keep]
    idf = np.log(np.float32(n + 1) / (df.astype(np.float32) + 1)) + np.float32(1)
    np.log(values, out=values)
    values += 1
    values *= idf[cols]
    if dense is None:
        dense = n * len(terms) <= _DENSE_MAX
    if dense:
        matrix = np.zeros((n, len(terms)), dtype=np.float32)
        matrix[row_index, cols] = values
        return _normalize_dense(matrix), terms
    from scipy import sparse

    csr = sparse.csr_matrix((values, (row_index, cols)), shape=(n, len(terms)))
    csr.sort_indices()
    return _normalize_csr(csr), terms


def _normalize_dense(matrix: np.ndarray) -> np.ndarray:
    """Rows to unit length, the squares summed as scipy sums a CSR row (np.add.reduceat over
    the row's nonzeros), so both forms hold the same numbers to the last bit."""
    rows, cols = np.nonzero(matrix)  # row by row, columns in order: CSR's order
    values = matrix[rows, cols]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    squares = np.zeros(len(matrix), dtype=np.float32)
    squares[rows[starts]] = np.add.reduceat(values * values, starts)
    norms = np.sqrt(squares)
    norms[norms == 0] = 1
    matrix /= norms[:, np.newaxis]
    return matrix


def _normalize_csr(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    squares = matrix.multiply(matrix).sum(axis=1).A1
    norms = np.sqrt(squares).astype(matrix.dtype)
    norms[norms == 0] = 1
    matrix.data /= np.repeat(norms, np.diff(matrix.indptr))
    return matrix


def to_dense(matrix: Matrix) -> np.ndarray:
    """The rows as a NumPy array."""
    return matrix if isinstance(matrix, np.ndarray) else matrix.toarray()


def to_csr(matrix: Matrix) -> sparse.csr_matrix:
    """The rows as a scipy CSR matrix (the same numbers, in the same order)."""
    if not isinstance(matrix, np.ndarray):
        return matrix
    from scipy import sparse

    return sparse.csr_matrix(matrix)


def one_blas_thread() -> threadpool_limits:
    """One BLAS thread for the libraries loaded so far: the engine's matrices are small and
    thread hand-offs cost more than they save (measured 2x slower wall time on a busy 2-core
    machine). threadpoolctl limits only libraries already loaded, so code that imports scipy
    or scikit-learn late (big days) enters it again after the import."""
    return threadpool_limits(limits=1, user_api="blas")


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; (near-)zero rows left as they are."""
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    norms[norms < 10 * np.finfo(norms.dtype).eps] = 1
    return x / norms[:, np.newaxis]


def lsa(matrix: Matrix, dims: int, seed: int) -> np.ndarray:
    """The rows projected on the top `dims` singular directions (TruncatedSVD's U * S).

    Exact SVD when TruncatedSVD's randomized range finder (`dims` + 10 columns) would span the
    whole row or column space: the same subspace, computed without importing scikit-learn.
    Signs may differ from scikit-learn's, which cosine distances do not see."""
    if dims + _OVERSAMPLES >= min(matrix.shape):
        u, s, _ = np.linalg.svd(to_dense(matrix).astype(np.float64), full_matrices=False)
        return (u[:, :dims] * s[:dims]).astype(matrix.dtype)
    from sklearn.decomposition import TruncatedSVD

    svd = TruncatedSVD(n_components=dims, random_state=seed, algorithm="randomized")
    # Degenerate days (all papers alike) have zero variance: no warning for that.
    with one_blas_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return svd.fit_transform(to_csr(matrix))


def cosine_silhouette(
    z: np.ndarray, labels: np.ndarray, *, sample_size: int | None = None, seed: int = 0
) -> float:
    """Mean silhouette coefficient with cosine distance, as sklearn's silhouette_score (the
    same random sample when `sample_size` is given)."""
    if sample_size is not None:
        pick = np.random.RandomState(seed).permutation(len(z))[:sample_size]
        z, labels = z[pick], labels[pick]
    unit = l2_normalize(z.astype(np.float64))
    dist = np.clip(1.0 - unit @ unit.T, 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    _, codes = np.unique(labels, return_inverse=True)
    k = int(codes.max()) + 1
    if not 1 < k < len(z):
        raise ValueError(f"Number of labels is {k}. Valid values are 2 to n_samples - 1")
    onehot = np.zeros((len(z), k))
    onehot[np.arange(len(z)), codes] = 1.0
    sums = dist @ onehot  # distance of each point to all points of each cluster
    sizes = onehot.sum(axis=0)
    own = sizes[codes] - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        a = sums[np.arange(len(z)), codes] / own
        means = sums / sizes
        means[np.arange(len(z)), codes] = np.inf
        b = means.min(axis=1)
        s = (b - a) / np.maximum(a, b)
    s[own == 0] = 0.0
    return float(np.mean(np.nan_to_num(s)))
