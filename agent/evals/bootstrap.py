"""Bootstrap confidence intervals for eval scores: resample cases, then repeats within a case.

Values come as case -> the scores of that case's repeats. A variant's interval is for its mean
over cases; the difference's interval pairs candidate and baseline by case (the same resampled
cases for both, repeats resampled separately), so a hard case weighs on both sides alike. The
random generator has a fixed seed: the same results always give the same interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

DRAWS = 2000
LEVEL = 0.95
SEED = 17

Values = Mapping[str, Sequence[float]]  # case -> one score per repeat


def _case_means(values: Values, cases: Sequence[str], rng: np.random.Generator) -> np.ndarray:
    """(DRAWS, cases): each case's mean over its repeats, resampled with replacement."""
    columns = []
    for case in cases:
        scores = np.asarray(values[case], dtype=float)
        picks = rng.integers(0, len(scores), size=(DRAWS, len(scores)))
        columns.append(scores[picks].mean(axis=1))
    return np.stack(columns, axis=1)


def _interval(draws: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def _over_cases(means: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(DRAWS,): the mean over a resample (with replacement) of the case columns."""
    picks = rng.integers(0, means.shape[1], size=(DRAWS, means.shape[1]))
    return np.take_along_axis(means, picks, axis=1).mean(axis=1)


def mean_interval(values: Values, *, level: float = LEVEL) -> tuple[float, float] | None:
    """The `level` interval of the mean over cases; None without any value."""
    cases = [case for case, scores in values.items() if len(scores)]
    if not cases:
        return None
    rng = np.random.default_rng(SEED)
    return _interval(_over_cases(_case_means(values, cases, rng), rng), level)


def difference_interval(
    baseline: Values, candidate: Values, *, level: float = LEVEL
) -> tuple[float, float] | None:
    """The `level` interval of candidate minus baseline, over the cases both have; None if none."""
    cases = [case for case in baseline if len(baseline[case]) and len(candidate.get(case, ()))]
    if not cases:
        return None
    rng = np.random.default_rng(SEED)
    diffs = _case_means(candidate, cases, rng) - _case_means(baseline, cases, rng)
    return _interval(_over_cases(diffs, rng), level)


__all__ = ["DRAWS", "LEVEL", "SEED", "difference_interval", "mean_interval"]
