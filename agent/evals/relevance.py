"""Relevance cases: reader profiles labelled by hand, and the two measures of a ranking.

A relevance case (``evals/relevance/*.yaml``) is a reader profile built by reading a corpus:
a few seed papers as the library, the labelling rule, and the ids of every other paper that is
on the reader's subject (all the others are off subject)::

    name: compression
    description: model compression (4 seed papers)
    rule: >-                  # how the papers were labelled, in words
      On subject: quantization, pruning ... Off subject: ...
    corpus: [sample, ../corpora/hf-daily-2026-06-12.jsonl]   # one or several days
    k: 10                     # precision@k and nDCG@k (default 10)
    min_precision: 0.8        # the bar on day 1: below it `digest eval` exits 1
    library: [dp-107, dp-051]
    on_subject: [dp-006, dp-162]
    interests: ""             # optional free text, include_keywords, not_interested
    include_keywords: []
    not_interested: ""

`agent.evals.sessions` runs the simulated rating sessions over these cases.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agent.errors import ConfigError
from agent.evals.cases import _corpus, _corpus_path
from agent.models import Paper
from agent.select import Interests, LibraryEntry, ReaderProfile

_KEYS = frozenset(
    {
        "name",
        "description",
        "rule",
        "corpus",
        "k",
        "min_precision",
        "library",
        "on_subject",
        "interests",
        "include_keywords",
        "not_interested",
    }
)


@dataclass(frozen=True)
class RelevanceCase:
    name: str
    description: str
    papers: tuple[Paper, ...]  # the day: the corpus without the seeds
    library: tuple[LibraryEntry, ...]
    on_subject: frozenset[str]
    k: int
    min_precision: float
    interests: Interests
    rule: str = ""
    path: Path | None = None


@dataclass(frozen=True)
class Measure:
    """How good one ranking is for a case: precision@k, nDCG@k, and the top k ids."""

    precision: float
    ndcg: float
    top: tuple[str, ...]

    def reason(self, on_subject: frozenset[str]) -> str:
        misses = [pid for pid in self.top if pid not in on_subject]
        text = f"{len(self.top) - len(misses)} of {len(self.top)} on subject"
        return text + (f"; off subject: {', '.join(misses)}" if misses else "")


def entry_of(paper: Paper) -> LibraryEntry:
    return LibraryEntry(
        key=paper.id,
        title=paper.title,
        abstract=paper.abstract,
        authors=paper.authors,
        categories=paper.categories,
    )


def measure(ranked: Sequence[str], on_subject: frozenset[str], k: int) -> Measure:
    """precision@k (hits in the top k over k) and binary nDCG@k (1 for an on-subject paper at
    rank r counts 1/log2(r + 1); divided by the best order of the on-subject papers there are)."""
    top = tuple(ranked[:k])
    gains = [1.0 if pid in on_subject else 0.0 for pid in top]
    dcg = sum(g / math.log2(rank + 2) for rank, g in enumerate(gains))
    there = sum(1 for pid in ranked if pid in on_subject)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(k, there)))
    return Measure(sum(gains) / k, dcg / ideal if ideal else 0.0, top)


def _ids(raw: Any, what: str, corpus: dict[str, Paper], where: Path) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
        raise ConfigError(f"relevance case {where}: {what} must be a list of paper ids")
    unknown = [i for i in raw if i not in corpus]
    if unknown:
        raise ConfigError(
            f"relevance case {where}: {what} has ids not in the corpus: {', '.join(unknown[:5])}"
        )
    return tuple(raw)


def _corpora(raw: Any, where: Path) -> dict[str, Paper]:
    """The papers of one corpus or several (a list), in order; an id in two of them is an error."""
    papers: dict[str, Paper] = {}
    for value in raw if isinstance(raw, list) else [raw]:
        for pid, paper in _corpus(_corpus_path(value, where)).items():
            if pid in papers:
                raise ConfigError(f"relevance case {where}: paper {pid} is in two corpora")
            papers[pid] = paper
    return papers


def load_relevance_case(path: Path) -> RelevanceCase:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"relevance case {path}: cannot be read: {' '.join(str(exc).split())}"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"relevance case {path}: expected a mapping")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(f"relevance case {path}: unknown keys {', '.join(unknown)}")
    corpus = _corpora(data.get("corpus"), path)
    library = _ids(data.get("library"), "library", corpus, path)
    if not library:
        raise ConfigError(f"relevance case {path}: library needs at least one paper")
    on_subject = _ids(data.get("on_subject"), "on_subject", corpus, path)
    k = data.get("k", 10)
    bar = data.get("min_precision", 0.0)
    if not isinstance(k, int) or k < 1 or not isinstance(bar, int | float) or not 0 <= bar <= 1:
        raise ConfigError(
            f"relevance case {path}: k must be a positive integer, min_precision 0..1"
        )
    seeds = set(library)
    interests = Interests(
        text=str(data.get("interests") or ""),
        include_keywords=tuple(data.get("include_keywords") or ()),
        profile=ReaderProfile(
            library=tuple(entry_of(corpus[i]) for i in library),
            not_interested=str(data.get("not_interested") or ""),
        ),
    )
    return RelevanceCase(
        name=str(data.get("name") or path.stem),
        description=str(data.get("description") or ""),
        papers=tuple(p for pid, p in corpus.items() if pid not in seeds),
        library=interests.profile.library,
        on_subject=frozenset(on_subject) - seeds,
        k=k,
        min_precision=float(bar),
        interests=interests,
        rule=" ".join(str(data.get("rule") or "").split()),
        path=path,
    )


def load_relevance_cases(directory: Path) -> list[RelevanceCase]:
    return [load_relevance_case(path) for path in sorted(directory.glob("*.yaml"))]


def default_relevance_dir() -> Path:
    """`evals/relevance` of the checkout this package runs from."""
    return Path(__file__).resolve().parents[2] / "evals" / "relevance"


__all__ = [
    "Measure",
    "RelevanceCase",
    "default_relevance_dir",
    "entry_of",
    "load_relevance_case",
    "load_relevance_cases",
    "measure",
]
