"""BM25 ranking of papers against a free-text query (for `digest topic`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from agent.core import bm25
from agent.core.bm25 import STOP_WORDS, term_counts, tokens
from agent.models import Paper


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
    weights = {term: bm25.idf(term, docs) for term in terms}
    total_weight = sum(weights.values()) or 1.0
    scores: dict[int, float] = {}
    for index, doc in enumerate(docs):
        value, matched = bm25.score(terms, weights, doc, lengths[index], avg_length, k1=k1, b=b)
        if value > 0 and matched / total_weight >= min_coverage:
            scores[index] = value
    return scores


__all__ = ["STOP_WORDS", "Ranked", "bm25_rank", "rank_papers", "term_counts", "tokens"]
