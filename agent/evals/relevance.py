"""Relevance evals: does the selection put the reader's subject on top?

A relevance case (``evals/relevance/*.yaml``) is a reader profile built by reading a corpus:
a few seed papers as the library, and the ids of every other paper that is on the reader's
subject (all the others are off subject)::

    name: compression
    corpus: sample            # or a .jsonl/.json path relative to the case file
    k: 10                     # precision@k (default 10)
    min_precision: 0.7        # the bar: below it `digest eval` exits 1
    library: [dp-107, dp-051]
    on_subject: [dp-006, dp-162]
    interests: ""             # optional free text, include_keywords, not_interested
    include_keywords: []
    not_interested: ""

The scorer runs the real select stage, offline, over the corpus without the seeds, and
counts how many of the top k selected papers are on subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agent.errors import ConfigError
from agent.evals.cases import _corpus, _corpus_path
from agent.evals.results import Score
from agent.models import Paper
from agent.select import Interests, LibraryEntry, ReaderProfile, select_papers

_KEYS = frozenset(
    {
        "name",
        "description",
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
    path: Path | None = None


@dataclass(frozen=True)
class RelevanceResult:
    case: RelevanceCase
    score: Score
    selected: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.score.value >= self.case.min_precision


def entry_of(paper: Paper) -> LibraryEntry:
    return LibraryEntry(
        key=paper.id,
        title=paper.title,
        abstract=paper.abstract,
        authors=paper.authors,
        categories=paper.categories,
    )


def _ids(raw: Any, what: str, corpus: dict[str, Paper], where: Path) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
        raise ConfigError(f"relevance case {where}: {what} must be a list of paper ids")
    unknown = [i for i in raw if i not in corpus]
    if unknown:
        raise ConfigError(
            f"relevance case {where}: {what} has ids not in the corpus: {', '.join(unknown[:5])}"
        )
    return tuple(raw)


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
    corpus = _corpus(_corpus_path(data.get("corpus"), path))
    library = _ids(data.get("library"), "library", corpus, path)
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
        path=path,
    )


def load_relevance_cases(directory: Path) -> list[RelevanceCase]:
    return [load_relevance_case(path) for path in sorted(directory.glob("*.yaml"))]


def precision_at_k(case: RelevanceCase) -> RelevanceResult:
    """The scorer: the share of the top k selected papers that are on the reader's subject."""
    selection = select_papers(case.papers, max_papers=case.k, interests=case.interests)
    top = tuple(p.id for p in selection.selected[: case.k])
    hits = [pid for pid in top if pid in case.on_subject]
    misses = [pid for pid in top if pid not in case.on_subject]
    reason = f"{len(hits)} of {len(top)} on subject"
    if misses:
        reason += f"; off subject: {', '.join(misses)}"
    value = len(hits) / case.k
    return RelevanceResult(case, Score(f"precision@{case.k}", value, reason), top)


def default_relevance_dir() -> Path:
    """`evals/relevance` of the checkout this package runs from."""
    return Path(__file__).resolve().parents[2] / "evals" / "relevance"


def run_relevance(directory: Path) -> list[RelevanceResult]:
    """Every relevance case of `directory`, scored (an empty list when there is none)."""
    if not directory.is_dir():
        return []
    return [precision_at_k(case) for case in load_relevance_cases(directory)]


__all__ = [
    "RelevanceCase",
    "RelevanceResult",
    "default_relevance_dir",
    "load_relevance_case",
    "load_relevance_cases",
    "precision_at_k",
    "run_relevance",
]
