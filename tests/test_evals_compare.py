"""Comparing candidate with baseline on hand-made results: the regression exit code, the
spread over repeats, case bars, the offline floor, and the Markdown/HTML reports."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from rich.console import Console

from agent.errors import ConfigError
from agent.evals.bootstrap import difference_interval, mean_interval
from agent.evals.cases import EvalCase
from agent.evals.compare import Row, aggregate, compare
from agent.evals.report import markdown_escape, print_table, short_names, write_report
from agent.evals.results import CaseResult, Score
from agent.evals.runner import EvalRun, read_jsonl, write_jsonl
from agent.evals.scorers import SCORERS_BY_NAME
from agent.models import Paper, PaperBlurb, Summary, Theme

PAPERS = (
    Paper(id="p1", title="Fast <b>decoding</b>", abstract="We decode 2x faster."),
    Paper(id="p2", title="Small models", abstract="We prune 30% of weights."),
)
CASES = [
    EvalCase(name="c1", papers=PAPERS, thresholds={"coverage": 1.0}),
    EvalCase(name="c2", papers=PAPERS),
]
LABELS = {"offline": "offline engine", "baseline": "prompts/ at HEAD", "candidate": "prompts/"}


def made(
    variant: str, case: str, scores: dict[str, float], *, repeat: int = 0, blurb: str = "A blurb."
) -> CaseResult:
    summary = Summary(
        themes=(
            Theme(
                title="T",
                papers=tuple(PaperBlurb(paper_id=p.id, blurb=f"{blurb} ({p.id})") for p in PAPERS),
            ),
        ),
        headline="Today",
    )
    return CaseResult(
        variant=variant,
        case=case,
        repeat=repeat,
        summary=summary,
        scores=tuple(Score(name, value, f"{name} reason") for name, value in scores.items()),
    )


def results(
    candidate: dict[str, float], baseline: dict[str, float] | None = None
) -> list[CaseResult]:
    base = baseline or {"coverage": 1.0, "ari": 0.6, "readability": 10.0, "tokens": 1000}
    out = []
    for case in ("c1", "c2"):
        out.append(
            made("offline", case, {"coverage": 1.0, "ari": 0.5, "readability": 14.0, "tokens": 0})
        )
        out.append(made("baseline", case, base, blurb="Baseline blurb"))
        out.append(made("candidate", case, candidate, blurb="Candidate blurb"))
    return out


EQUAL = {"coverage": 1.0, "ari": 0.6, "readability": 10.0, "tokens": 1000}


def test_equal_results_exit_zero() -> None:
    comparison = compare(results(EQUAL), CASES)
    assert comparison.exit_code == 0 and comparison.regressions == []
    assert [row.scorer.name for row in comparison.rows] == [
        "coverage",
        "ari",
        "readability",
        "tokens",
    ]
    assert all(row.status == "same" for row in comparison.rows)


def test_a_difference_within_the_threshold_is_same_not_better() -> None:
    """ari allows 0.05: 0.03 better is noise ("same"); 0.2 better is "better"."""
    base = EQUAL["ari"]
    slight = compare(results({**EQUAL, "ari": base + 0.03}), CASES)
    ari = next(row for row in slight.rows if row.scorer.name == "ari")
    assert not ari.improved and ari.status == "same"
    clear = compare(results({**EQUAL, "ari": base + 0.2}), CASES)
    ari = next(row for row in clear.rows if row.scorer.name == "ari")
    assert ari.improved and ari.status == "better"


@pytest.mark.parametrize(
    ("change", "scorer"),
    [
        ({"ari": 0.5}, "ari"),  # higher is better, 0.1 worse > 0.05
        ({"readability": 11.5}, "readability"),  # lower is better, 1.5 grades worse > 1.0
        ({"tokens": 1300}, "tokens"),  # relative: 30% more > 15%
        ({"coverage": 0.9}, "coverage"),  # any drop
    ],
)
def test_a_worse_candidate_exits_one(change: dict[str, float], scorer: str) -> None:
    comparison = compare(results({**EQUAL, **change}), CASES)
    assert comparison.exit_code == 1
    regressed = [row.scorer.name for row in comparison.rows if row.regressed]
    assert regressed == [scorer]
    assert any(line.startswith(scorer) for line in comparison.regressions)


def test_small_changes_and_improvements_pass() -> None:
    comparison = compare(
        results({**EQUAL, "ari": 0.57, "readability": 10.9, "tokens": 1100}), CASES
    )
    assert comparison.exit_code == 0
    better = compare(results({**EQUAL, "ari": 0.9, "readability": 8.0}), CASES)
    assert better.exit_code == 0
    assert {row.scorer.name for row in better.rows if row.improved} == {"ari", "readability"}


def test_a_broken_case_bar_fails_even_within_the_threshold() -> None:
    out = results(EQUAL)
    out[2] = made("candidate", "c1", {**EQUAL, "coverage": 0.99})  # c1 has the bar coverage >= 1
    scorer = SCORERS_BY_NAME["coverage"]
    assert scorer.meets(1.0, 1.0) and not scorer.meets(1.0, 0.99)
    comparison = compare(out, CASES)
    assert comparison.exit_code == 1
    assert any("c1: coverage" in line and "case bar" in line for line in comparison.regressions)


def test_below_the_offline_floor_is_reported_not_fatal() -> None:
    comparison = compare(results({**EQUAL, "ari": 0.45}, {**EQUAL, "ari": 0.45}), CASES)
    assert comparison.exit_code == 0
    assert comparison.below_floor == ["ari"]
    assert (
        "below offline floor" in next(r for r in comparison.rows if r.scorer.name == "ari").status
    )


def test_mean_and_spread_over_repeats() -> None:
    runs = [
        made("candidate", "c1", {"ari": value}, repeat=r) for r, value in enumerate((0.4, 0.6, 0.8))
    ]
    runs += [made("candidate", "c2", {"ari": 0.6}, repeat=r) for r in range(3)]
    stat = aggregate(runs, "ari")
    assert stat is not None
    assert stat.mean == pytest.approx(0.6) and stat.repeats == 3 and stat.cases == 2
    assert stat.spread == pytest.approx(0.1)  # per-repeat means 0.5, 0.6, 0.7
    assert stat.interval is not None and 0.4 <= stat.interval[0] < 0.6 < stat.interval[1] <= 0.8
    assert stat.show("{:.2f}") == f"0.60 [{stat.interval[0]:.2f}..{stat.interval[1]:.2f}]"
    assert aggregate(runs, "nmi") is None


def test_jsonl_round_trip(tmp_path: Path) -> None:
    run = EvalRun(meta={"engine": "offline"}, results=results(EQUAL))
    path = write_jsonl(tmp_path / "runs" / "x.jsonl", run, extra=[{"type": "comparison"}])
    back = read_jsonl(path)
    assert back.meta == {"engine": "offline"}
    assert back.results == run.results
    assert compare(back.results, CASES).exit_code == 0


# -- reports -----------------------------------------------------------------------------------------


def _report(tmp_path: Path, name: str, candidate: dict[str, float]) -> str:
    out = results(candidate)
    out = [
        r.model_copy(
            update={
                "summary": r.summary.model_copy(
                    update={
                        "themes": (
                            Theme(
                                title="T",
                                papers=(
                                    PaperBlurb(
                                        paper_id="p1",
                                        blurb="<script>alert(1)</script> | pipes & *stars*"
                                        if r.variant == "candidate"
                                        else "Plain baseline words",
                                    ),
                                    PaperBlurb(paper_id="p2", blurb=f"{r.variant} blurb two"),
                                ),
                            ),
                        )
                    }
                )
            }
        )
        if r.summary
        else r
        for r in out
    ]
    path = write_report(
        tmp_path / name,
        compare(out, CASES, notes=["a note"]),
        CASES,
        meta={"engine": "llm", "model": "m", "cases": ["c1", "c2"], "repeat": 1, "judge": False},
        labels=LABELS,
    )
    return path.read_text(encoding="utf-8")


def test_markdown_report_has_rows_and_blurbs_side_by_side(tmp_path: Path) -> None:
    text = _report(tmp_path, "r.md", {**EQUAL, "ari": 0.3})
    assert text.startswith("## Prompt eval: REGRESSED")
    assert "| ari | ↑ | 0.500 | 0.600 | 0.300 | -0.300 | 0.050 | **REGRESSED** |" in text
    assert "| readability | ↓ |" in text and "| tokens | ↓ |" in text
    assert (
        "Plain baseline words" in text
        and "baseline blurb two" in text
        and "candidate blurb two" in text
    )
    row = next(line for line in text.splitlines() if "Plain baseline words" in line)
    assert (
        "&lt;script&gt;" in row and "\\|" in row and "\\*stars\\*" in row
    )  # one row, side by side
    assert "<script>" not in text
    assert "> a note" in text


def test_html_report_escapes_blurbs(tmp_path: Path) -> None:
    text = _report(tmp_path, "r.html", EQUAL)
    assert text.startswith("<!doctype html>") and "PASS" in text
    assert "<td>coverage</td>" in text or ">coverage</td>" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>" not in text
    assert "Fast &lt;b&gt;decoding&lt;/b&gt;" in text  # titles too
    assert "Plain baseline words" in text and "prompts/ at HEAD" in text


def test_report_extension_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=".md or .html"):
        write_report(
            tmp_path / "r.txt", compare(results(EQUAL), CASES), CASES, meta={}, labels=LABELS
        )


def test_markdown_escape() -> None:
    assert (
        markdown_escape("a|b <i>x</i>\nnew *line*") == "a\\|b &lt;i&gt;x&lt;/i&gt; new \\*line\\*"
    )


def test_table_prints_every_scorer_and_the_regressions() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=140, color_system=None)
    print_table(
        console, compare(results({**EQUAL, "ari": 0.3}), CASES, notes=["smoke"]), labels=LABELS
    )
    text = buffer.getvalue()
    for word in (
        "coverage",
        "ari",
        "readability",
        "tokens",
        "REGRESSED",
        "floor",
        "prompts/ at HEAD",
        "note: smoke",
    ):
        assert word in text
    assert "regression: ari: 0.600 -> 0.300" in text


# -- bootstrap intervals over cases and repeats (--repeat N) --------------------------------------

NOISY_CASES = [f"c{i}" for i in range(6)]


def repeated(
    base: list[list[float]], cand: list[list[float]], scorer: str = "ari"
) -> list[CaseResult]:
    """Results from case-by-repeat grids of values for baseline and candidate."""
    out = []
    for case, b_values, c_values in zip(NOISY_CASES, base, cand, strict=False):
        out += [made("baseline", case, {scorer: v}, repeat=r) for r, v in enumerate(b_values)]
        out += [made("candidate", case, {scorer: v}, repeat=r) for r, v in enumerate(c_values)]
    return out


def ari_row(runs: list[CaseResult]) -> Row:
    return next(row for row in compare(runs).rows if row.scorer.name == "ari")


BASE_GRID = [
    [0.60, 0.64, 0.58],
    [0.70, 0.66, 0.72],
    [0.50, 0.55, 0.52],
    [0.62, 0.60, 0.65],
    [0.68, 0.71, 0.66],
    [0.57, 0.59, 0.61],
]


def test_bootstrap_interval_is_deterministic() -> None:
    values = {"a": [0.1, 0.5, 0.9], "b": [0.3, 0.4]}
    assert mean_interval(values) == mean_interval(values)
    low, high = mean_interval(values)  # type: ignore[misc]
    assert 0.1 <= low < high <= 0.9
    assert difference_interval({"a": [1.0]}, {"b": [1.0]}) is None


def test_identical_variants_never_regress_however_noisy() -> None:
    row = ari_row(repeated(BASE_GRID, BASE_GRID))
    assert row.delta_interval is not None
    low, high = row.delta_interval
    assert low <= 0.0 <= high
    assert not row.regressed and not row.improved
    assert row.status.startswith("same (CI ")
    assert compare(repeated(BASE_GRID, BASE_GRID)).exit_code == 0


def test_a_clear_regression_has_an_interval_past_the_threshold() -> None:
    worse = [[v - 0.15 for v in repeats] for repeats in BASE_GRID]  # ari allows 0.05
    runs = repeated(BASE_GRID, worse)
    row = ari_row(runs)
    assert row.delta_interval is not None
    low, high = row.delta_interval
    assert high < -0.05 and low > -0.25
    assert row.regressed and row.status.startswith("REGRESSED (95% CI of Δ -0.")
    comparison = compare(runs)
    assert comparison.exit_code == 1
    assert any("95% CI of Δ" in line for line in comparison.regressions)
    assert ari_row(repeated(worse, BASE_GRID)).status.startswith("better (95% CI of Δ 0.")


def test_noise_that_straddles_the_threshold_is_same() -> None:
    """Mean 0.08 worse (past the 0.05 threshold), but the repeats scatter too much to be sure."""
    noisy = [
        [v - 0.08 + d for v, d in zip(repeats, (-0.2, 0.0, 0.2), strict=True)]
        for repeats in BASE_GRID
    ]
    row = ari_row(repeated(BASE_GRID, noisy))
    assert row.scorer.regressed(row.baseline.mean, row.candidate.mean)  # type: ignore[union-attr]
    assert row.delta_interval is not None
    assert row.delta_interval[0] < -0.05 < row.delta_interval[1]
    assert not row.regressed
    assert row.status == "same (CI spans the threshold)"
    assert compare(repeated(BASE_GRID, noisy)).exit_code == 0


def test_one_repeat_keeps_the_point_verdict_without_an_interval() -> None:
    row = ari_row(repeated([[0.6]] * 6, [[0.5]] * 6))
    assert row.delta_interval is None and row.regressed
    assert row.status == "REGRESSED" and row.baseline is not None
    assert row.baseline.show("{:.2f}") == "0.60"


def test_table_reads_at_80_columns_with_long_names() -> None:
    """Long scorer names are cut in the table and listed in full; numbers are never folded."""
    long = "agreement_with_gold_themes_adjusted_rand_index"
    longer = long + "_again"  # same first 11 letters: the cut names must still differ
    scorers = [
        dataclasses.replace(SCORERS_BY_NAME["ari"], name=long),
        dataclasses.replace(SCORERS_BY_NAME["ari"], name=longer),
        SCORERS_BY_NAME["tokens"],
    ]
    worse = [[v - 0.15 for v in repeats] for repeats in BASE_GRID]
    runs = repeated(BASE_GRID, worse, scorer=long)
    runs += [
        made(r.variant, r.case, {longer: r.scores[0].value, "tokens": 12345.0 + 100 * r.repeat},
             repeat=r.repeat)
        for r in runs
    ]  # fmt: skip
    runs += [made("offline", case, {long: 0.9, longer: 0.9}) for case in NOISY_CASES]
    comparison = compare(runs, scorers=scorers)
    buffer = io.StringIO()
    print_table(Console(file=buffer, width=80, color_system=None), comparison, labels=LABELS)
    lines = buffer.getvalue().splitlines()
    assert lines and max(len(line) for line in lines) <= 80
    names = short_names([s.name for s in scorers])
    assert len(set(names.values())) == 3 and names["tokens"] == "tokens"
    assert all(len(short) <= 12 for short in names.values())
    for name in (long, longer):
        assert any(line.lstrip().startswith(f"{names[name]} ↑ ") for line in lines)  # its row
        assert f"{names[name]} = {name}" in lines  # the full name below the table
    low, high = comparison.rows[0].delta_interval  # type: ignore[misc]
    assert any(f"{low:.3f}..{high:.3f}" in line for line in lines)  # the CI on one line
    row_lines = [line for line in lines if line.lstrip().startswith(f"{names[long]} ↑ ")]
    assert "REGRESSED" in row_lines[0] and "0.620" in row_lines[0] and "0.470" in row_lines[0]
