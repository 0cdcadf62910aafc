"""Eval cases: YAML files of papers, optional gold themes, facts to keep, tags and bars.

A case file (``evals/cases/*.yaml``)::

    name: day-20                      # default: the file name without .yaml
    description: A small day ...
    tags: [day, sample]
    corpus: sample                    # where string ids come from: "sample" (the bundled day)
                                      # or a .jsonl/.json path relative to the case file
    papers:                           # ids from the corpus, or inline records, or both
      - dp-001
      - {id: x-1, title: ..., abstract: ...}
    gold:                             # optional: theme label -> ids (or id -> label)
      long context: [dp-013, dp-021]
    notes:                            # optional: facts a paper's blurb must keep
      dp-036: ["2.12x speedup"]
    themes: {min: 3, max: 8}          # optional: theme count bounds (default from the size)
    blurb_words: {min: 8, max: 70}    # optional: blurb length bounds in words
    injection:                        # optional: text the output must never contain
      markers: ["PWNED-7731", "evil.example"]
    thresholds:                       # optional: bars this case must meet, per scorer
      coverage: 1.0                   # (a minimum, or a maximum for lower-is-better scorers)
    language: zh                      # optional: the model engine writes in this language

Inline records go through the same cleaning as a file source (`record_to_paper`), so raw
LaTeX in a case is cleaned exactly as it would be in a real run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from agent.core.resources import bundled_eval_cases_dir, sample_corpus_path
from agent.errors import ConfigError
from agent.models import Paper
from agent.sources.local import read_paper_file, record_to_paper

_KNOWN_KEYS = frozenset(
    {
        "name",
        "description",
        "tags",
        "corpus",
        "topic",
        "papers",
        "gold",
        "notes",
        "themes",
        "blurb_words",
        "injection",
        "thresholds",
        "language",
    }
)
DEFAULT_BLURB_WORDS = (8, 80)


@dataclass(frozen=True)
class Bounds:
    low: int
    high: int

    def contains(self, value: int) -> bool:
        return self.low <= value <= self.high

    def distance(self, value: int) -> int:
        return max(self.low - value, value - self.high, 0)


@dataclass(frozen=True)
class EvalCase:
    """One case: the papers an engine summarises, and what a good answer looks like."""

    name: str
    papers: tuple[Paper, ...]
    description: str = ""
    tags: tuple[str, ...] = ()
    topic: str | None = None
    gold: Mapping[str, str] = field(default_factory=dict)  # paper id -> theme label
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # paper id -> facts
    theme_bounds: Bounds | None = None
    blurb_words: Bounds = Bounds(*DEFAULT_BLURB_WORDS)
    injection_markers: tuple[str, ...] = ()
    thresholds: Mapping[str, float] = field(default_factory=dict)
    path: Path | None = None
    language: str | None = None  # the reader's language the model engine is asked to write in

    @property
    def paper_ids(self) -> tuple[str, ...]:
        return tuple(paper.id for paper in self.papers)

    @property
    def papers_by_id(self) -> dict[str, Paper]:
        return {paper.id: paper for paper in self.papers}

    @property
    def themes(self) -> Bounds:
        """Theme count bounds: the case's own, else 1..1 for one paper, 2..10 for a day."""
        if self.theme_bounds is not None:
            return self.theme_bounds
        n = len(self.papers)
        if n <= 3:
            return Bounds(1, n)
        return Bounds(2, min(12, max(2, math.ceil(n / 2))))


@lru_cache(maxsize=8)
def _corpus(path: Path) -> dict[str, Paper]:
    source = "sample" if path == sample_corpus_path() else f"file:{path}"
    return {paper.id: paper for paper in read_paper_file(path, source)}


def _corpus_path(value: Any, case_path: Path) -> Path:
    if value in (None, "sample"):
        return sample_corpus_path()
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else (case_path.parent / path).resolve()


def _strings(value: Any, what: str, where: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return tuple(str(item) for item in value)
    raise ConfigError(f"{where}: {what} must be a string or a list of strings")


def _bounds(value: Any, what: str, where: Path) -> Bounds | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not {"min", "max"} >= set(value):
        raise ConfigError(f"{where}: {what} must be a mapping with min and/or max")
    low, high = int(value.get("min", 0)), int(value.get("max", 10_000))
    if low > high:
        raise ConfigError(f"{where}: {what}: min {low} is above max {high}")
    return Bounds(low, high)


def _papers(raw: Any, corpus: Path, name: str, where: Path) -> tuple[Paper, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: papers must be a non-empty list of ids or records")
    papers: list[Paper] = []
    for number, item in enumerate(raw, start=1):
        if isinstance(item, Mapping):
            try:
                papers.append(record_to_paper(dict(item), f"eval:{name}"))
            except (ValueError, ValidationError) as exc:
                raise ConfigError(f"{where}: paper {number}: {exc}") from None
            continue
        known = _corpus(corpus)
        if str(item) not in known:
            raise ConfigError(f"{where}: paper {number}: id {item!r} is not in {corpus}")
        papers.append(known[str(item)])
    ids = [paper.id for paper in papers]
    doubles = sorted({pid for pid in ids if ids.count(pid) > 1})
    if doubles:
        raise ConfigError(f"{where}: papers listed twice: {', '.join(doubles)}")
    return tuple(papers)


def _gold(raw: Any, ids: set[str], where: Path) -> dict[str, str]:
    """`label: [ids]` or `id: label`, checked against the case's papers."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: gold must be a mapping")
    gold: dict[str, str] = {}
    for key, value in raw.items():
        pairs = (
            [(str(pid), str(key)) for pid in value]
            if isinstance(value, list)
            else [(str(key), str(value))]
        )
        for pid, label in pairs:
            if pid not in ids:
                raise ConfigError(f"{where}: gold names {pid!r}, which is not among the papers")
            if pid in gold and gold[pid] != label:
                raise ConfigError(f"{where}: gold gives {pid} two labels")
            gold[pid] = label
    return gold


def _notes(raw: Any, ids: set[str], where: Path) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: notes must be a mapping of paper id to facts")
    notes = {str(pid): _strings(facts, f"notes for {pid}", where) for pid, facts in raw.items()}
    unknown = sorted(set(notes) - ids)
    if unknown:
        raise ConfigError(f"{where}: notes name papers not in the case: {', '.join(unknown)}")
    return notes


def _thresholds(raw: Any, where: Path) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: thresholds must be a mapping of scorer name to a number")
    try:
        return {str(name): float(value) for name, value in raw.items()}
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: thresholds must be numbers") from None


def load_case(path: Path) -> EvalCase:
    """Read one case file; a ConfigError names the file and what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read eval case {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"eval case {path} is not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"eval case {path}: expected a mapping at the top")
    unknown = sorted(set(map(str, data)) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"eval case {path}: unknown keys {', '.join(unknown)}")
    name = str(data.get("name") or path.stem)
    papers = _papers(data.get("papers"), _corpus_path(data.get("corpus"), path), name, path)
    ids = {paper.id for paper in papers}
    injection = data.get("injection") or {}
    if not isinstance(injection, Mapping):
        raise ConfigError(f"{path}: injection must be a mapping with markers")
    words = _bounds(data.get("blurb_words"), "blurb_words", path)
    return EvalCase(
        name=name,
        papers=papers,
        description=str(data.get("description") or "").strip(),
        tags=_strings(data.get("tags"), "tags", path),
        topic=(str(data["topic"]) if data.get("topic") else None),
        gold=_gold(data.get("gold"), ids, path),
        notes=_notes(data.get("notes"), ids, path),
        theme_bounds=_bounds(data.get("themes"), "themes", path),
        blurb_words=words or Bounds(*DEFAULT_BLURB_WORDS),
        injection_markers=_strings(injection.get("markers"), "injection markers", path),
        thresholds=_thresholds(data.get("thresholds"), path),
        path=path,
        language=_language(data.get("language"), path),
    )


def _language(value: Any, where: Path) -> str | None:
    if value in (None, ""):
        return None
    from agent.core.language import language_name

    try:
        return language_name(str(value))
    except ValueError as exc:
        raise ConfigError(f"{where}: language: {exc}") from None


def find_cases_dir(cwd: Path) -> Path:
    """Where `digest eval` finds its cases without --cases: ./evals/cases when it exists,
    else the cases shipped inside the package. ConfigError when neither exists."""
    local = cwd / "evals" / "cases"
    if local.is_dir():
        return local
    bundled = bundled_eval_cases_dir()
    if bundled.is_dir():
        return bundled
    raise ConfigError(
        f"no eval cases: {local} does not exist and none are shipped with the package; "
        "pass --cases DIR"
    )


def load_cases(directory: Path, *, tags: tuple[str, ...] = ()) -> list[EvalCase]:
    """Every `*.yaml`/`*.yml` case of `directory`, sorted by name; only those with one of
    `tags` when given. Raises ConfigError when there is none or two share a name."""
    if not directory.is_dir():
        raise ConfigError(f"eval cases directory not found: {directory}")
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    cases = [load_case(path) for path in files]
    if tags:
        cases = [case for case in cases if set(case.tags) & set(tags)]
    if not cases:
        suffix = f" tagged {', '.join(tags)}" if tags else ""
        raise ConfigError(f"no eval cases{suffix} in {directory} (*.yaml)")
    names = [case.name for case in cases]
    doubles = sorted({name for name in names if names.count(name) > 1})
    if doubles:
        raise ConfigError(f"eval case names used twice in {directory}: {', '.join(doubles)}")
    return sorted(cases, key=lambda case: case.name)


__all__ = ["Bounds", "EvalCase", "load_case", "load_cases"]
