"""BM25 ranking of papers against a free-text query (for `digest topic`)."""

from __future__ import annotations

import math
import operator
import re
from collections import Counter
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache

from agent.models import Paper

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


@dataclass(frozen=True)
class Ranked:
    paper: Paper
    score: float


def rank_papers(
    queries: Sequence[str],
    papers: Sequence[Paper],
    *,
    expansion_weight: float = 0.8,
    k1: float = 1.5,
    b: float = 0.75,
    min_coverage: float = 0.5,
    min_relative: float = 0.3,
) -> list[Ranked]:
    """Papers relevant to any of the queries, best first; ties broken by recency, then input
    order. The first query counts fully, the others (expansions) `expansion_weight` as much.

    Per query, a paper counts when the query terms it contains carry at least `min_coverage`
    of the query's IDF weight and its score is at least `min_relative` of the best score.
    """
    if not papers:
        return []
    wanted = {term for query in queries for term in tokens(query)}
    docs, lengths = term_counts([f"{p.title} {p.title} {p.abstract}" for p in papers], wanted)
    best: dict[int, float] = {}
    for rank, query in enumerate(queries):
        weight = 1.0 if rank == 0 else expansion_weight
        scores = _bm25(query, docs, lengths, k1=k1, b=b, min_coverage=min_coverage)
        top = max(scores.values(), default=0.0)
        for index, score in scores.items():
            if score >= min_relative * top:
                best[index] = max(best.get(index, 0.0), score * weight)

    def order(index: int) -> tuple[float, float, int]:
        published = papers[index].published
        return (-round(best[index], 6), -(published.timestamp() if published else 0.0), index)

    return [Ranked(papers[index], best[index]) for index in sorted(best, key=order)]


def bm25_rank(query: str, papers: Sequence[Paper], **options: float) -> list[Ranked]:
    """Relevant papers for one query, best first (see rank_papers)."""
    return rank_papers([query], papers, **options)


def _bm25(
    query: str,
    docs: Sequence[Counter[str]],
    lengths: Sequence[int],
    *,
    k1: float,
    b: float,
    min_coverage: float,
) -> dict[int, float]:
    """BM25 score per document index, for documents covering enough of the query (`docs`
    count at least the query's terms; `lengths` are the documents' lengths in terms)."""
    terms = list(dict.fromkeys(tokens(query)))
    if not terms:
        return {}
    avg_length = sum(lengths) / len(docs) or 1.0
    n = len(docs)
    idf = {}
    for term in terms:
        df = sum(1 for doc in docs if term in doc)
        idf[term] = math.log(1 + (n - df + 0.5) / (df + 0.5))
    total_weight = sum(idf.values()) or 1.0
    scores: dict[int, float] = {}
    for index, doc in enumerate(docs):
        length = lengths[index]
        score = matched = 0.0
        for term in terms:
            freq = doc.get(term, 0)
            if freq:
                matched += idf[term]
                score += (
                    idf[term] * freq * (k1 + 1) / (freq + k1 * (1 - b + b * length / avg_length))
                )
        if score > 0 and matched / total_weight >= min_coverage:
            scores[index] = score
    return scores
