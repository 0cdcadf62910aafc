"""Compare the candidate with the baseline (and the offline floor), scorer by scorer.

A scorer's value for a variant is the mean over cases of one repeat; the table shows the mean
and the spread (sample standard deviation) of that over repeats. The candidate *regresses* on
a scorer when its mean is worse than the baseline's by more than the scorer's threshold, and
*breaks a bar* when a case threshold the baseline met is no longer met. With repeats (`--repeat
N`, N > 1) each mean gets a 95% bootstrap interval (`bootstrap.py`) and the verdict is taken on
the interval of the difference: a regression only when all of it is worse than the threshold,
an improvement only when all of it is better; anything else is "same". Either means exit 1.
Being below the offline floor is reported, not fatal: the floor is what every prompt should
beat, and the table says where one does not.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from agent.evals.bootstrap import LEVEL, Values, difference_interval, mean_interval
from agent.evals.cases import EvalCase
from agent.evals.results import CaseResult
from agent.evals.scorers import SCORERS, Scorer

BASELINE, CANDIDATE, OFFLINE = "baseline", "candidate", "offline"


@dataclass(frozen=True)
class Stat:
    """Mean and spread over repeats of the per-repeat mean over cases, and the mean's interval."""

    mean: float
    spread: float
    repeats: int
    cases: int
    interval: tuple[float, float] | None = None  # bootstrap over cases and repeats

    def show(self, fmt: str) -> str:
        text = fmt.format(self.mean)
        if self.repeats <= 1 or self.interval is None:
            return text
        low, high = self.interval
        return f"{text} [{fmt.format(low)}..{fmt.format(high)}]"


def case_values(results: Sequence[CaseResult], name: str) -> dict[str, list[float]]:
    """case -> the values of scorer `name`, one per repeat, over `results` (one variant)."""
    out: dict[str, list[float]] = {}
    for result in sorted(results, key=lambda r: r.repeat):
        score = result.score(name)
        if score is not None:
            out.setdefault(result.case, []).append(score.value)
    return out


def aggregate(results: Sequence[CaseResult], name: str) -> Stat | None:
    """The Stat of scorer `name` over `results` (one variant); None when no case has it."""
    by_repeat: dict[int, list[float]] = {}
    for result in results:
        score = result.score(name)
        if score is not None:
            by_repeat.setdefault(result.repeat, []).append(score.value)
    if not by_repeat:
        return None
    values = case_values(results, name)
    means = [sum(values) / len(values) for values in by_repeat.values()]
    spread = statistics.stdev(means) if len(means) > 1 else 0.0
    interval = mean_interval(values) if len(means) > 1 else None
    return Stat(statistics.fmean(means), spread, len(means), len(values), interval)


@dataclass(frozen=True)
class Row:
    """One scorer across the variants."""

    scorer: Scorer
    offline: Stat | None
    baseline: Stat | None
    candidate: Stat | None
    delta_interval: tuple[float, float] | None = None  # candidate - baseline, with repeats

    @property
    def delta(self) -> float | None:
        if self.baseline is None or self.candidate is None:
            return None
        return self.candidate.mean - self.baseline.mean

    def _worse(self) -> tuple[float, float] | None:
        """How much worse the candidate is: (least, most); one point without an interval."""
        if self.baseline is None or self.candidate is None:
            return None
        if self.delta_interval is None:
            worse = self.scorer.worse_by(self.baseline.mean, self.candidate.mean)
            return worse, worse
        low, high = self.delta_interval
        return (-high, -low) if self.scorer.higher_is_better else (low, high)

    @property
    def regressed(self) -> bool:
        worse, allowed = self._worse(), self.allowed
        return worse is not None and allowed is not None and worse[0] > allowed + 1e-9

    @property
    def improved(self) -> bool:
        # Mirror of `regressed`: a difference within the threshold is "same", not "better".
        worse, allowed = self._worse(), self.allowed
        return worse is not None and allowed is not None and worse[1] < -(allowed + 1e-9)

    @property
    def sureness(self) -> str:
        """How sure the verdict is, from the interval of the difference ("" without one)."""
        if self.delta_interval is None or self.allowed is None:
            return ""
        if self.regressed or self.improved:
            fmt = self.scorer.fmt
            low, high = (fmt.format(v) for v in self.delta_interval)
            return f"{LEVEL:.0%} CI of Δ {low}..{high}"
        worse = self._worse()
        assert worse is not None
        inside = -self.allowed - 1e-9 <= worse[0] and worse[1] <= self.allowed + 1e-9
        return "CI within the threshold" if inside else "CI spans the threshold"

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
        sure = f" ({self.sureness})" if self.sureness else ""
        if self.regressed:
            return "REGRESSED" + sure
        if self.improved:
            status = "better"
        elif self.baseline is not None and self.candidate is not None:
            status = "same"
        else:
            status = "ok"
        return status + sure + (", below offline floor" if self.below_floor else "")


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
                    f"allowed {fmt.format(row.allowed)}"
                    + (f"; {row.sureness})" if row.sureness else ")")
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


def _delta_interval(
    by_variant: Mapping[str, Sequence[CaseResult]], name: str
) -> tuple[float, float] | None:
    values: dict[str, Values] = {
        v: case_values(by_variant.get(v, []), name) for v in (BASELINE, CANDIDATE)
    }
    return difference_interval(values[BASELINE], values[CANDIDATE])


def _row(scorer: Scorer, by_variant: Mapping[str, list[CaseResult]]) -> Row | None:
    """One scorer over every case, per variant; the Δ interval when both sides repeated."""
    stats = {
        v: aggregate(by_variant.get(v, []), scorer.name) for v in (OFFLINE, BASELINE, CANDIDATE)
    }
    if not any(stats.values()):
        return None
    base, cand = stats[BASELINE], stats[CANDIDATE]
    interval = None
    if base and cand and base.repeats > 1 and cand.repeats > 1:
        interval = _delta_interval(by_variant, scorer.name)
    return Row(scorer, stats[OFFLINE], base, cand, interval)


def _case_cell(
    scorer: Scorer, mine: Mapping[str, list[CaseResult]], bar: float | None
) -> CaseCell | None:
    """One scorer on one case: each variant's mean and reason, against the case's bar."""
    values, reasons = {}, {}
    for variant, rs in mine.items():
        mean, reason = _mean_by(rs, scorer.name)
        if mean is not None:
            values[variant], reasons[variant] = mean, reason
    return CaseCell(scorer, values, reasons, bar) if values else None


def _case_comparison(
    name: str,
    by_variant: Mapping[str, list[CaseResult]],
    scorers: Sequence[Scorer],
    bars: Mapping[str, float],
) -> CaseComparison | None:
    """One case: a cell per scorer, and each variant's first repeat (for its examples)."""
    mine = {v: [r for r in rs if r.case == name] for v, rs in by_variant.items()}
    cells = [_case_cell(scorer, mine, bars.get(scorer.name)) for scorer in scorers]
    firsts = {v: min(rs, key=lambda r: r.repeat) for v, rs in mine.items() if rs}
    if not firsts:
        return None
    return CaseComparison(name, tuple(c for c in cells if c is not None), firsts)


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
    rows = [row for scorer in scorers if (row := _row(scorer, by_variant)) is not None]
    bars = {case.name: case.thresholds for case in cases}
    case_names = list(dict.fromkeys([*(c.name for c in cases), *(r.case for r in results)]))
    compared = [
        found
        for name in case_names
        if (found := _case_comparison(name, by_variant, scorers, bars.get(name, {}))) is not None
    ]
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
    "case_values",
    "compare",
]
