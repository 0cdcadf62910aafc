"""NumPy versions of the scikit-learn steps the offline grouping needs on an ordinary day.

Importing scikit-learn costs more CPU than a whole 30-paper digest (it imports scipy.stats),
so these few steps are written out here, computing what scikit-learn computes:
`TfidfVectorizer(analyzer=..., sublinear_tf=True, min_df, max_df)`, `normalize`,
`silhouette_score(metric="cosine")` and, when the randomized range finder would span the whole
row space anyway, `TruncatedSVD` (an exact SVD then gives the same subspace). Tests compare
each with scikit-learn, which stays the implementation for big days and for k-means.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse

_OVERSAMPLES = 10  # TruncatedSVD's randomized_svd default


def tfidf(
    texts: Sequence[str],
    analyzer: Callable[[str], list[str]],
    *,
    min_df: int = 1,
    max_df: float = 1.0,
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """L2-normalised sublinear TF-IDF rows (float32 CSR) and the sorted terms of the columns.

    As scikit-learn's TfidfVectorizer: smooth idf, terms in more than `max_df` of the
    documents or fewer than `min_df` dropped; ValueError when no term is left."""
    vocabulary: dict[str, int] = {}
    indices: list[int] = []
    counts: list[int] = []
    indptr = [0]
    for text in texts:
        row = Counter(analyzer(text))
        indices.extend([vocabulary.setdefault(term, len(vocabulary)) for term in row])
        counts.extend(row.values())
        indptr.append(len(indices))
    if not vocabulary:
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    n = len(texts)
    terms = np.array(sorted(vocabulary), dtype=object)
    order = np.empty(len(terms), dtype=np.int64)  # old column -> sorted column
    order[[vocabulary[t] for t in terms.tolist()]] = np.arange(len(terms))
    matrix = sparse.csr_matrix(
        (np.array(counts, dtype=np.float32), order[np.array(indices, dtype=np.int64)], indptr),
        shape=(n, len(terms)),
    )
    matrix.sort_indices()
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    keep = (df >= min_df) & (df <= max_df * n)
    if not keep.any():
        raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
    if not keep.all():
        matrix, terms, df = matrix[:, np.flatnonzero(keep)], terms[keep], df[keep]
    idf = np.log(np.float32(n + 1) / (df.astype(np.float32) + 1)) + np.float32(1)
    np.log(matrix.data, out=matrix.data)
    matrix.data += 1
    matrix.data *= idf[matrix.indices]
    return _normalize_csr(matrix), terms


def _normalize_csr(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    squares = matrix.multiply(matrix).sum(axis=1).A1
    norms = np.sqrt(squares).astype(matrix.dtype)
    norms[norms == 0] = 1
    matrix.data /= np.repeat(norms, np.diff(matrix.indptr))
    return matrix


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; (near-)zero rows left as they are."""
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    norms[norms < 10 * np.finfo(norms.dtype).eps] = 1
    return x / norms[:, np.newaxis]


def lsa(matrix: sparse.csr_matrix, dims: int, seed: int) -> np.ndarray:
    """The rows projected on the top `dims` singular directions (TruncatedSVD's U * S).

    Exact SVD when TruncatedSVD's randomized range finder (`dims` + 10 columns) would span the
    whole row or column space: the same subspace, computed without importing scikit-learn.
    Signs may differ from scikit-learn's, which cosine distances do not see."""
    if dims + _OVERSAMPLES >= min(matrix.shape):
        u, s, _ = np.linalg.svd(matrix.toarray().astype(np.float64), full_matrices=False)
        return (u[:, :dims] * s[:dims]).astype(matrix.dtype)
    from sklearn.decomposition import TruncatedSVD

    svd = TruncatedSVD(n_components=dims, random_state=seed, algorithm="randomized")
    with warnings.catch_warnings():  # degenerate days (all papers alike) have zero variance
        warnings.simplefilter("ignore", RuntimeWarning)
        return svd.fit_transform(matrix)


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
