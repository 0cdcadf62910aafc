"""BM25 over short texts: the terms of a text, their counts, and the scores of a query.

Shared by the topic search (`agent.select.search`) and the checks of what a model wrote
(`agent.summarize.checks`: which paper of a call a blurb describes), so that neither stage
imports the other.
"""

from __future__ import annotations

import math
import operator
import re
from collections import Counter
from collections.abc import Container, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "what",
        "which",
        "with",
        "we",
        "our",
        "new",
        "recent",
        "paper",
        "papers",
        "work",
        "using",
        "based",
        "via",
        "how",
        "about",
    ]
)


def tokens(text: str) -> list[str]:
    """Lower-cased words without stop words; hyphenated words also give their parts."""
    out: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        out.extend(_terms(token))
    return out


def term_counts(
    texts: Sequence[str], wanted: AbstractSet[str]
) -> tuple[list[Counter[str]], list[int]]:
    """Per text, Counter(tokens(text)) restricted to the `wanted` terms, and len(tokens(text)).

    Each distinct word of a text is counted once (in C), words known to give no wanted term
    are dropped with one set difference, and only the rest are looked at in Python.
    """
    useless: set[str] = set()
    docs: list[Counter[str]] = []
    lengths: list[int] = []
    for text in texts:
        words = Counter(_TOKEN.findall(text.lower()))
        lengths.append(sum(map(operator.mul, words.values(), map(_length, words))))
        counts: Counter[str] = Counter()
        for word in words.keys() - useless:
            found = [term for term in _terms(word) if term in wanted]
            if not found:
                useless.add(word)
            for term in found:
                counts[term] += words[word]
        docs.append(counts)
    return docs, lengths


@lru_cache(maxsize=200_000)
def _length(token: str) -> int:
    return len(_terms(token))


@lru_cache(maxsize=200_000)
def _terms(token: str) -> tuple[str, ...]:
    """The terms one word gives (cached: a corpus repeats its words many times over)."""
    if token in STOP_WORDS:
        return ()
    if "-" not in token:
        return (_stem(token),)
    parts = [_stem(part) for part in token.split("-") if part and part not in STOP_WORDS]
    return (_stem(token), *parts)


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    """A crude suffix stem; cached, as a corpus repeats its words many times over."""
    for suffix in ("ization", "izations", "ations", "ation", "ings", "ing", "ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def idf(term: str, docs: Sequence[Container[str]]) -> float:
    """BM25's inverse document frequency of `term` over `docs` (each a set or Counter of
    terms): always above 0, highest for a term that only one document has."""
    return _idf(len(docs), sum(1 for doc in docs if term in doc))


def _idf(n: int, df: int) -> float:
    """BM25's IDF of a term in `df` of `n` documents."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def score(
    terms: Sequence[str],
    weights: dict[str, float],
    doc: Counter[str],
    length: int,
    avg_length: float,
    *,
    k1: float = 1.5,
    b: float = 0.75,
) -> tuple[float, float]:
    """(BM25 score of one document for the query `terms`, the weight of the terms it has),
    with `weights` the terms' IDF."""
    total = matched = 0.0
    for term in terms:
        freq = doc.get(term, 0)
        if freq:
            matched += weights[term]
            total += (
                weights[term] * freq * (k1 + 1) / (freq + k1 * (1 - b + b * length / avg_length))
            )
    return total, matched


@dataclass(frozen=True)
class Match:
    """How well one text matches a query: its BM25 score and the query terms it has."""

    score: float
    terms: frozenset[str]


class Index:
    """A few texts (a call's papers, a case's), counted once, to score many queries against:
    IDF over these texts themselves."""

    def __init__(self, texts: Sequence[str], *, k1: float = 1.5, b: float = 0.75) -> None:
        self.docs = [Counter(tokens(text)) for text in texts]
        self.lengths = [sum(doc.values()) for doc in self.docs]
        self.df: Counter[str] = Counter(term for doc in self.docs for term in doc)
        self.avg_length = sum(self.lengths) / len(self.docs) if self.docs else 1.0
        self.avg_length = self.avg_length or 1.0
        self.k1, self.b = k1, b

    def matches(self, query: str) -> list[Match]:
        """How well each text matches `query`, in the texts' order."""
        terms = [t for t in dict.fromkeys(tokens(query)) if t in self.df]
        n = len(self.docs)
        weights = {t: _idf(n, self.df[t]) for t in terms}
        out = []
        for doc, length in zip(self.docs, self.lengths, strict=True):
            value = score(terms, weights, doc, length, self.avg_length, k1=self.k1, b=self.b)[0]
            out.append(Match(value, frozenset(t for t in terms if t in doc)))
        return out


__all__ = ["STOP_WORDS", "Index", "Match", "idf", "score", "term_counts", "tokens"]
