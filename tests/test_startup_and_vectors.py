"""Issue 13: what keeps start-up light (no heavy import where it is not needed), and the
NumPy replacements of scikit-learn steps computing what scikit-learn computes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from agent.core.resources import background_vocabulary_path, sample_corpus_path
from agent.sources.local import read_paper_file
from agent.stop_words import ENGLISH_STOP_WORDS
from agent.summarize.offline import background as offline_background
from agent.summarize.offline.grouping import centroid_similarity
from agent.summarize.offline.text import analyze, paper_text
from agent.summarize.offline.vectors import (
    cosine_silhouette,
    l2_normalize,
    lsa,
    tfidf,
    to_csr,
    to_dense,
)

PAPERS = read_paper_file(sample_corpus_path(), "sample")
TEXTS = [paper_text(p) for p in PAPERS]


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_the_cli_imports_neither_settings_nor_rich_nor_the_stages_to_print_help() -> None:
    loaded = _loaded_after("import agent.cli")
    heavy = {"pydantic", "pydantic_settings", "rich", "agent.pipeline", "agent.models", "numpy"}
    assert not heavy & loaded


def test_an_ordinary_offline_day_never_imports_scikit_learn_or_scipy() -> None:
    loaded = _loaded_after(
        "from agent.sources.local import read_paper_file\n"
        "from agent.core.resources import sample_corpus_path\n"
        "from agent.select import select_papers\n"
        "from agent.summarize.offline import OfflineEngine\n"
        "papers = read_paper_file(sample_corpus_path(), 'sample')\n"
        "summary = OfflineEngine().summarize(select_papers(papers, max_papers=30).selected)\n"
        "assert sum(len(t.papers) for t in summary.themes) == 30"
    )
    assert "agent.summarize.offline.grouping" in loaded
    assert "sklearn" not in loaded and "scipy" not in loaded


def test_the_word_vectors_load_without_importing_wordllama() -> None:
    """Importing the wordllama package costs 0.3 s CPU and sets the root logger's level;
    `agent.core.word_vectors` reads its files and pools the rows itself."""
    loaded = _loaded_after(
        "from agent.core import word_vectors\nassert word_vectors.embed(['a text']).any()"
    )
    assert "tokenizers" in loaded  # not a vacuous pass: the vectors were loaded
    assert not {m for m in loaded if m.split(".")[0] == "wordllama"}


def test_the_stop_words_are_scikit_learns() -> None:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as SKLEARN_STOP_WORDS

    assert frozenset(SKLEARN_STOP_WORDS) == ENGLISH_STOP_WORDS


def test_the_shipped_background_vocabulary_is_what_the_script_computes() -> None:
    shipped = offline_background.read(background_vocabulary_path())
    assert shipped == offline_background.compute()
    assert shipped[1] == len(PAPERS) and len(shipped[0]) > 5_000


@pytest.mark.parametrize(("n", "min_df", "max_df"), [(207, 2, 0.5), (12, 1, 1.0), (40, 2, 0.5)])
def test_tfidf_equals_scikit_learns(n: int, min_df: int, max_df: float) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = TEXTS[:n]
    expected = TfidfVectorizer(
        analyzer=analyze, sublinear_tf=True, min_df=min_df, max_df=max_df, dtype=np.float32
    )
    want = expected.fit_transform(texts)
    got, terms = tfidf(texts, analyze, min_df=min_df, max_df=max_df)
    assert terms.tolist() == expected.get_feature_names_out().tolist()
    assert got.dtype == np.float32 and got.shape == want.shape
    assert np.allclose(to_dense(got), want.toarray(), atol=1e-6)


@pytest.mark.parametrize(("n", "min_df", "max_df"), [(207, 2, 0.5), (30, 2, 0.5), (12, 1, 1.0)])
def test_tfidf_as_an_array_holds_the_numbers_of_the_sparse_matrix_to_the_last_bit(
    n: int, min_df: int, max_df: float
) -> None:
    dense, terms = tfidf(TEXTS[:n], analyze, min_df=min_df, max_df=max_df, dense=True)
    csr, csr_terms = tfidf(TEXTS[:n], analyze, min_df=min_df, max_df=max_df, dense=False)
    assert isinstance(dense, np.ndarray) and not isinstance(csr, np.ndarray)
    assert terms.tolist() == csr_terms.tolist()
    assert np.array_equal(dense, csr.toarray())
    assert np.array_equal(to_dense(csr), dense) and to_dense(dense) is dense
    again = to_csr(dense)
    assert np.array_equal(again.indptr, csr.indptr) and np.array_equal(again.indices, csr.indices)
    assert np.array_equal(again.data, csr.data) and again.dtype == np.float32


def test_an_ordinary_day_is_an_array_and_a_big_one_stays_sparse() -> None:
    small, _ = tfidf(TEXTS[:30], analyze, min_df=2, max_df=0.5)
    assert isinstance(small, np.ndarray)
    many = TEXTS * 30  # 6,210 documents: over the dense budget
    big, _ = tfidf(many, analyze, min_df=2, max_df=0.5)
    assert not isinstance(big, np.ndarray) and big.shape[0] == len(many)


def test_centroid_similarity_uses_the_sparse_form_of_a_small_day() -> None:
    # The day is small enough to be an array; the similarities use its sparse form.
    sims = centroid_similarity(PAPERS[10:30], [PAPERS[10:20], PAPERS[20:30]])
    assert sims.argmax(axis=1).tolist() == [0] * 10 + [1] * 10


def test_tfidf_raises_like_scikit_learn_when_nothing_is_left() -> None:
    with pytest.raises(ValueError, match="empty vocabulary"):
        tfidf(["the of and", "a an"], analyze)
    with pytest.raises(ValueError, match="no terms remain"):
        tfidf(["alpha beta", "gamma delta"], analyze, min_df=2)


def test_lsa_spans_the_same_space_as_truncated_svd_and_silhouettes_agree() -> None:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.metrics import silhouette_score

    matrix, _ = tfidf(TEXTS[:30], analyze)
    dims = 29
    ours = l2_normalize(lsa(matrix, dims, 0))
    theirs = l2_normalize(TruncatedSVD(dims, random_state=0).fit_transform(matrix))
    # The same cosine geometry (signs of components may differ, which cosines do not see).
    assert np.allclose(ours @ ours.T, theirs @ theirs.T, atol=1e-4)
    labels = np.arange(30) % 4
    want = silhouette_score(theirs, labels, metric="cosine")
    assert cosine_silhouette(ours, labels) == pytest.approx(want, abs=1e-4)
    # A sampled silhouette is the silhouette of our seeded sample (which rows scikit-learn would
    # sample is its own business, not our contract).
    big = np.random.default_rng(0).normal(size=(60, 5))
    labels = np.arange(60) % 3
    pick = np.random.RandomState(0).permutation(60)[:40]
    sampled = silhouette_score(big[pick], labels[pick], metric="cosine")
    assert cosine_silhouette(big, labels, sample_size=40, seed=0) == pytest.approx(sampled)
    assert cosine_silhouette(big, labels, sample_size=40, seed=1) != pytest.approx(sampled)


_SPACES = [" ", "\t", "\n", "\xa0", "\u2009", "\u3000", "\x1c", "\x85", "  \n "]


def _varied_abstracts() -> list[str]:
    """The sample's abstracts, also with odd whitespace, non-ASCII look-alikes and capitals."""
    import random

    rng = random.Random(3)
    out = []
    for p in PAPERS:
        a = p.abstract
        spaced = "".join(c if c != " " or rng.random() > 0.1 else rng.choice(_SPACES) for c in a)
        alike = a.replace("improv", "\u0131mprov").replace("we ", "We\xa0")  # dotless i
        out += [a, spaced, alike, a.upper()]
    return out


def test_the_blurb_fast_paths_give_what_the_patterns_give() -> None:
    import re

    from agent.summarize.offline import blurbs

    texts = _varied_abstracts()
    sentences = [s for text in texts for s in blurbs.split_sentences(text)]
    sentences += [s.replace("available", "AVAILABLE") for s in sentences if "available" in s]
    assert sum(blurbs._RESULT.search(s) is not None for s in sentences) > 100
    assert sum(blurbs._SKIP.search(s) is not None for s in sentences) > 5
    for pattern in blurbs._TWINS:  # written in lower case: the twin trick relies on it
        assert pattern.pattern == pattern.pattern.lower() and pattern.flags & re.IGNORECASE
    for s in sentences:  # the pre-tests and twins never hide or invent a match
        assert blurbs._result_words(s) == len(blurbs._RESULT.findall(s)), s
        assert blurbs._has(blurbs._CONTRIB, s) == (blurbs._CONTRIB.search(s) is not None), s
        assert blurbs._skipped(s) == (blurbs._SKIP.search(s) is not None), s
    for text in texts:  # str.split() collapses exactly the whitespace that \s+ does
        assert " ".join(text.split()) == re.sub(r"\s+", " ", text).strip()
    assert blurbs._result_words("Our \u0131mproved model.") == 1  # non-ASCII: the pattern decides
