"""Compare the candidate with the baseline (and the offline floor), scorer by scorer.

A scorer's value for a variant is the mean over cases of one repeat; the table shows the mean
and the spread (sample standard deviation) of that over repeats. The candidate *regresses* on
a scorer when its mean is worse than the baseline's by more than the scorer's threshold, and
*breaks a bar* when a case threshold the baseline met is no longer met. Either means exit 1.
Being below the offline floor is reported, not fatal: the floor is what every prompt should
beat, and the table says where one does not.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from agent.evals.cases import EvalCase
from agent.evals.results import CaseResult
from agent.evals.scorers import SCORERS, Scorer

BASELINE, CANDIDATE, OFFLINE = "baseline", "candidate", "offline"


@dataclass(frozen=True)
class Stat:
    """Mean and spread over repeats of the per-repeat mean over cases."""

    mean: float
    spread: float
    repeats: int
    cases: int

    def show(self, fmt: str) -> str:
        text = fmt.format(self.mean)
        return f"{text} ± {fmt.format(self.spread)}" if self.repeats > 1 else text


def aggregate(results: Sequence[CaseResult], name: str) -> Stat | None:
    """The Stat of scorer `name` over `results` (one variant); None when no case has it."""
    by_repeat: dict[int, list[float]] = {}
    cases: set[str] = set()
    for result in results:
        score = result.score(name)
        if score is not None:
            by_repeat.setdefault(result.repeat, []).append(score.value)
            cases.add(result.case)
    if not by_repeat:
        return None
    means = [sum(values) / len(values) for values in by_repeat.values()]
    spread = statistics.stdev(means) if len(means) > 1 else 0.0
    return Stat(statistics.fmean(means), spread, len(means), len(cases))


@dataclass(frozen=True)
class Row:
    """One scorer across the variants."""

    scorer: Scorer
    offline: Stat | None
    baseline: Stat | None
    candidate: Stat | None

    @property
    def delta(self) -> float | None:
        if self.baseline is None or self.candidate is None:
            return None
        return self.candidate.mean - self.baseline.mean

    @property
    def regressed(self) -> bool:
        if self.baseline is None or self.candidate is None:
            return False
        return self.scorer.regressed(self.baseline.mean, self.candidate.mean)

    @property
    def improved(self) -> bool:
        if self.baseline is None or self.candidate is None:
            return False
        # Mirror of `regressed`: a difference within the threshold is "same", not "better".
        worse = self.scorer.worse_by(self.baseline.mean, self.candidate.mean)
        return worse < -(self.scorer.allowed(self.baseline.mean) + 1e-9)

    @property
    def below_floor(self) -> bool:
        if not self.scorer.floor or self.offline is None or self.candidate is None:
            return False
        return self.scorer.worse_by(self.offline.mean, self.candidate.mean) > 1e-9

    @property
    def allowed(self) -> float | None:
        return None if self.baseline is None else self.scorer.allowed(self.baseline.mean)

    @property
    def status(self) -> str:
        if self.regressed:
            return "REGRESSED"
        if self.improved:
            status = "better"
        elif self.baseline is not None and self.candidate is not None:
            status = "same"
        else:
            status = "ok"
        return status + (", below offline floor" if self.below_floor else "")


@dataclass(frozen=True)
class CaseCell:
    """One scorer on one case: the mean over repeats per variant, and the case's bar."""

    scorer: Scorer
    values: Mapping[str, float]  # variant -> mean over repeats
    reasons: Mapping[str, str]  # variant -> reason of the first repeat
    bar: float | None = None

    def meets(self, variant: str) -> bool | None:
        if self.bar is None or variant not in self.values:
            return None
        return self.scorer.meets(self.bar, self.values[variant])

    @property
    def broken(self) -> bool:
        """The baseline met the bar and the candidate does not."""
        return self.meets(BASELINE) is True and self.meets(CANDIDATE) is False


@dataclass(frozen=True)
class CaseComparison:
    case: str
    cells: tuple[CaseCell, ...]
    results: Mapping[str, CaseResult]  # variant -> the first repeat's result

    @property
    def broken(self) -> list[CaseCell]:
        return [cell for cell in self.cells if cell.broken]


@dataclass(frozen=True)
class Comparison:
    rows: tuple[Row, ...]
    cases: tuple[CaseComparison, ...]
    variants: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def regressions(self) -> list[str]:
        """One line per reason to fail: scorers that regressed, case bars newly broken."""
        lines = []
        for row in self.rows:
            if row.regressed and row.baseline and row.candidate and row.allowed is not None:
                fmt = row.scorer.fmt
                lines.append(
                    f"{row.scorer.name}: {fmt.format(row.baseline.mean)} -> "
                    f"{fmt.format(row.candidate.mean)} ({row.scorer.direction} is better; "
                    f"allowed {fmt.format(row.allowed)})"
                )
        for case in self.cases:
            for cell in case.broken:
                value = cell.scorer.fmt.format(cell.values[CANDIDATE])
                lines.append(
                    f"{case.case}: {cell.scorer.name} {value} misses the case bar {cell.bar:g}"
                )
        return lines

    @property
    def below_floor(self) -> list[str]:
        return [row.scorer.name for row in self.rows if row.below_floor]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions else 0


def _mean_by(results: Sequence[CaseResult], name: str) -> tuple[float | None, str]:
    values = [s.value for r in results if (s := r.score(name)) is not None]
    first = next(
        (s.reason for r in sorted(results, key=lambda r: r.repeat) if (s := r.score(name))), ""
    )
    return (sum(values) / len(values) if values else None), first


def compare(
    results: Sequence[CaseResult],
    cases: Sequence[EvalCase] = (),
    *,
    scorers: Sequence[Scorer] = SCORERS,
    notes: Sequence[str] = (),
) -> Comparison:
    """The comparison of the `candidate` results with the `baseline` ones (and `offline`)."""
    by_variant: dict[str, list[CaseResult]] = {}
    for result in results:
        by_variant.setdefault(result.variant, []).append(result)
    rows = []
    for scorer in scorers:
        stats = {
            v: aggregate(by_variant.get(v, []), scorer.name) for v in (OFFLINE, BASELINE, CANDIDATE)
        }
        if any(stats.values()):
            rows.append(Row(scorer, stats[OFFLINE], stats[BASELINE], stats[CANDIDATE]))
    bars = {case.name: case.thresholds for case in cases}
    case_names = list(dict.fromkeys([*(c.name for c in cases), *(r.case for r in results)]))
    compared = []
    for name in case_names:
        mine = {v: [r for r in rs if r.case == name] for v, rs in by_variant.items()}
        cells = []
        for scorer in scorers:
            values, reasons = {}, {}
            for variant, rs in mine.items():
                mean, reason = _mean_by(rs, scorer.name)
                if mean is not None:
                    values[variant], reasons[variant] = mean, reason
            if values:
                cells.append(CaseCell(scorer, values, reasons, bars.get(name, {}).get(scorer.name)))
        firsts = {v: min(rs, key=lambda r: r.repeat) for v, rs in mine.items() if rs}
        if firsts:
            compared.append(CaseComparison(name, tuple(cells), firsts))
    return Comparison(tuple(rows), tuple(compared), tuple(by_variant), tuple(notes))


__all__ = [
    "BASELINE",
    "CANDIDATE",
    "OFFLINE",
    "CaseCell",
    "CaseComparison",
    "Comparison",
    "Row",
    "Stat",
    "aggregate",
    "compare",
]
