"""The relevance benchmark itself: the measures, the case files, the simulated rating sessions
(what is shown, what is rated, what is scored) and `digest eval --relevance`."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.cli import main
from agent.errors import ConfigError
from agent.evals.relevance import (
    Measure,
    RelevanceCase,
    entry_of,
    load_relevance_case,
    load_relevance_cases,
    measure,
)
from agent.evals.relevance_report import failures
from agent.evals.sessions import (
    DAYS,
    DOWN,
    SEEDS,
    SHOWN,
    UP,
    Fold,
    SessionResult,
    run_session,
)
from agent.models import Paper
from agent.select import Interests, ReaderProfile

REPO = Path(__file__).resolve().parents[1]
RELEVANCE = REPO / "evals" / "relevance"


def test_precision_and_ndcg_by_hand() -> None:
    on = frozenset({"a", "b", "c"})
    result = measure(["a", "x", "b", "y", "z"], on, 4)
    assert result.precision == 2 / 4
    # gains at ranks 1 and 3; the ideal puts the two on-subject papers there are at ranks 1, 2
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert result.ndcg == pytest.approx((1 / math.log2(2) + 1 / math.log2(4)) / ideal)
    assert result.top == ("a", "x", "b", "y")
    assert measure(["x", "y"], on, 2).ndcg == 0.0  # nothing on subject there: 0, not a crash


def test_every_case_file_is_labelled_and_loads() -> None:
    cases = load_relevance_cases(RELEVANCE)
    assert len(cases) >= 4
    for case in cases:
        assert case.rule.startswith("On subject:") and "Off subject:" in case.rule, case.name
        assert 3 <= len(case.library) <= 5, case.name
        ids = {p.id for p in case.papers}
        assert case.on_subject <= ids and not ({e.key for e in case.library} & ids)
        # the recorded days are part of every profile's day, not only the sample
        assert any(not pid.startswith("dp-") for pid in ids), case.name
    breadth = sorted(len(case.on_subject) for case in cases)
    assert breadth[-1] >= 3 * breadth[0]  # profiles of different breadth


def test_a_case_reading_the_same_paper_from_two_corpora_is_refused(tmp_path: Path) -> None:
    case = tmp_path / "twice.yaml"
    case.write_text(
        f"corpus: [sample, {REPO / 'agent' / 'data' / 'sample-daily-papers.jsonl'}]\n"
        "library: [dp-001]\non_subject: []\n"
    )
    with pytest.raises(ConfigError, match="dp-001 is in two corpora"):
        load_relevance_case(case)
    case.write_text("library: []\non_subject: []\n")
    with pytest.raises(ConfigError, match="library needs at least one paper"):
        load_relevance_case(case)


def _paper(pid: str, on: bool) -> Paper:
    word = "quantization" if on else "weather"
    return Paper(id=pid, title=f"{word} {pid}", abstract=f"A study of {word}.")


def _toy_case(on_count: int = 24, off_count: int = 96) -> RelevanceCase:
    papers = tuple(
        [_paper(f"on-{i:03d}", True) for i in range(on_count)]
        + [_paper(f"off-{i:03d}", False) for i in range(off_count)]
    )
    seed = _paper("seed", True)
    return RelevanceCase(
        name="toy",
        description="",
        papers=papers,
        library=(entry_of(seed),),
        on_subject=frozenset(p.id for p in papers if p.id.startswith("on-")),
        k=10,
        min_precision=0.5,
        interests=Interests(profile=ReaderProfile(library=(entry_of(seed),))),
    )


class Recorder:
    """A ranker that puts every third paper first (so the shown mix both kinds) and records
    what it was asked to rank and with which ratings."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = []

    def __call__(self, papers: Sequence[Paper], interests: Interests) -> list[float]:
        profile = interests.profile
        self.calls.append(
            (
                tuple(p.id for p in papers),
                tuple(e.key for e in profile.liked),
                tuple(e.key for e in profile.disliked),
            )
        )
        return [1.0 if i % 3 == 0 else 0.0 for i in range(len(papers))]


def test_a_session_rates_what_it_shows_and_never_scores_a_rated_paper() -> None:
    case = _toy_case()
    recorder = Recorder()
    result = run_session(case, recorder, "recorder")
    # day 1 (the whole day), then per session (two per seed): five days and day 6 twice
    assert len(result.folds) == 2 * len(SEEDS)
    assert len(recorder.calls) == 1 + len(result.folds) * (DAYS + 2)
    assert recorder.calls[0][0] == tuple(p.id for p in case.papers)
    for number, fold in enumerate(result.folds):
        calls = recorder.calls[1 + number * (DAYS + 2) :][: DAYS + 2]
        days, (day6, _, _), (again, liked, disliked) = calls[:DAYS], calls[DAYS], calls[DAYS + 1]
        assert day6 == again and (liked, disliked) == (fold.up, fold.down)
        assert not set(day6) & (set(fold.up) | set(fold.down))  # a rated paper is never scored
        assert len(fold.up) == DAYS * UP and len(fold.down) == DAYS * DOWN
        for day, (ids, liked_then, _) in enumerate(days):
            order = sorted(range(len(ids)), key=lambda i: (i % 3 != 0, i))  # score, then place
            shown = [ids[i] for i in order[:SHOWN]]
            ups = [pid for pid in shown if pid.startswith("on-")][:UP]
            assert list(fold.up[day * UP : (day + 1) * UP]) == ups  # the first shown, by label
            assert liked_then == fold.up[: day * UP]  # each day knows the ratings so far
        # the halves keep the day's share of on-subject papers
        assert sum(pid.startswith("on-") for pid in day6) == len(case.on_subject) // 2
    assert {p for f in result.folds for p in f.up} <= case.on_subject
    assert not {p for f in result.folds for p in f.down} & case.on_subject
    assert run_session(case, Recorder(), "recorder") == result  # seeded: the same every time


def test_ratings_that_make_day_6_worse_fail_the_run() -> None:
    case = _toy_case()

    def contrary(papers: Sequence[Paper], interests: Interests) -> list[float]:
        """Follows the library until there are ratings, then ranks off-subject papers first."""
        rated = bool(interests.profile.liked)
        return [float(p.id.startswith("on-") != rated) for p in papers]

    result = run_session(case, contrary, "reader model")
    assert result.day1.precision == 1.0 and result.before[0] == 1.0
    assert result.after[0] == 0.0 and not result.ratings_help and result.ratings_hurt
    expected = (
        f"toy: ratings made day 6 worse beyond noise (precision@{case.k} -1.000 ± 0.000, "
        f"nDCG -1.000 ± 0.000 over {2 * len(SEEDS)} sessions)"
    )
    assert failures([result]) == [expected]


def _sessions(case: RelevanceCase, changes: Sequence[float]) -> SessionResult:
    """A result whose sessions each moved day 6's precision and nDCG by one of `changes`."""
    folds = tuple(
        Fold(Measure(0.5, 0.5, ()), Measure(0.5 + c, 0.5 + c, ()), (), ()) for c in changes
    )
    return SessionResult(case, "reader model", Measure(1.0, 1.0, ()), folds)


def test_one_session_that_loses_a_paper_is_noise_a_steady_loss_is_not() -> None:
    case = _toy_case()
    once = _sessions(case, [0.0] * 11 + [-0.1])  # one paper lost in one of twelve sessions
    assert not once.ratings_help  # strictly lower on the mean...
    assert not once.ratings_hurt and not failures([once])  # ...but within the noise
    mean, error = once.change()
    assert mean == pytest.approx(-0.1 / 12) and error == pytest.approx(0.1 / 12)
    steady = _sessions(case, [-0.1] * 8 + [0.0] * 4)  # a paper lost in most sessions
    assert steady.ratings_hurt and failures([steady])
    helped = _sessions(case, [0.1, 0.0, 0.2, -0.1] * 3)
    assert helped.ratings_help and not helped.ratings_hurt


@pytest.fixture()
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    for name in list(os.environ):
        if name.startswith(("DIGEST_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "80")
    return {"DIGEST_HOME": str(tmp_path / "home")}


def _small_case(directory: Path, bar: float, k: int, profile: str = "long-context") -> Path:
    """A profile (long-context by default) over 60 papers of the sample: a quick run of the
    real thing."""
    import json

    case = load_relevance_case(RELEVANCE / f"{profile}.yaml")
    sample = [p for p in case.papers if p.id.startswith("dp-")]
    on = [p for p in sample if p.id in case.on_subject][:24]
    off = [p for p in sample if p.id not in case.on_subject][:36]
    records = [{"id": p.id, "title": p.title, "abstract": p.abstract} for p in on + off]
    records += [{"id": e.key, "title": e.title, "abstract": e.abstract} for e in case.library]
    (directory / "day.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
    )
    path = directory / "small.yaml"
    path.write_text(
        "name: small\ncorpus: day.jsonl\nrule: 'On subject: long inputs. Off subject: the rest.'\n"
        f"k: {k}\nmin_precision: {bar}\nlibrary: [{', '.join(e.key for e in case.library)}]\n"
        f"on_subject: [{', '.join(p.id for p in on)}]\n",
        encoding="utf-8",
    )
    return path


def test_digest_eval_relevance_prints_the_table_and_fails_below_a_bar(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    cases = tmp_path / "relevance"
    cases.mkdir()
    _small_case(cases, 1.0, 30)  # 30 of the top 30 on subject: more than there are here
    result = CliRunner().invoke(main, ["eval", "--relevance", str(cases)], env=cli_env)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    table = lines[: next(i for i, line in enumerate(lines) if line.startswith("day 1:"))]
    assert max(len(line) for line in table) <= 80  # the table reads at 80 columns
    rows = [line.split() for line in table if line.split()[:1] == ["small"]]
    assert rows and rows[0][1:3] == ["reader", "model"] and "24 on subject" in result.output
    assert any("LinearSVC" in line for line in table) and any("mean" in line for line in table)
    assert "small: precision@30 on day 1" in result.output and "below its bar 1.00" in result.output


def test_digest_eval_relevance_without_cases_is_a_usage_error(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    result = CliRunner().invoke(
        main, ["eval", "--relevance", str(tmp_path / "nowhere")], env=cli_env
    )
    assert result.exit_code == 2 and "no such directory of relevance cases" in result.output


def _results_block(readme: str) -> list[str]:
    """The lines of the table under evals/README.md's '**Results**' paragraph."""
    after = readme.split("**Results** (`digest eval --relevance`", 1)[1]
    block = after.split("```\n", 2)[1]
    return [line.rstrip() for line in block.splitlines() if line.strip()]


@pytest.mark.slow
def test_the_shipped_ranker_meets_its_bars_ratings_help_and_it_beats_linear_svc() -> None:
    """The whole benchmark (about 60 s): every profile's day-1 bar, ratings that make day 6
    worse on no profile beyond the sessions' noise and better on the mean, the LinearSVC
    baseline beaten on the means, and evals/README.md's table is what the command prints (a
    figure written from a working state rather than the committed ranker fails here)."""
    from rich.console import Console

    from agent.evals.relevance_report import print_relevance
    from agent.evals.sessions import SHIPPED, default_rankers, run_sessions

    results = run_sessions(RELEVANCE, default_rankers())
    assert not failures(results)
    console = Console(file=io.StringIO(), width=120, color_system=None, highlight=False)
    print_relevance(console, results)
    printed = [line.rstrip() for line in console.file.getvalue().splitlines() if line.strip()]
    table = _results_block((REPO / "evals" / "README.md").read_text(encoding="utf-8"))
    assert len(table) > 10
    at = printed.index(table[0]) if table[0] in printed else -1
    assert printed[at : at + len(table)] == table, "evals/README.md's table is stale"

    def means(name: str) -> tuple[float, float, float, float]:
        mine = [r for r in results if r.ranker == name]
        return (
            sum(r.day1.precision for r in mine) / len(mine),
            sum(r.day1.ndcg for r in mine) / len(mine),
            sum(r.after[0] for r in mine) / len(mine),
            sum(r.after[1] for r in mine) / len(mine),
        )

    ours, svm = means(SHIPPED), means("LinearSVC")
    shipped_results = [r for r in results if r.ranker == SHIPPED]
    for m in (0, 1):  # precision@10 and nDCG@10 on day 6: better after the ratings
        assert sum(r.after[m] for r in shipped_results) > sum(r.before[m] for r in shipped_results)
    # precision@10 on day 1 and after the ratings, nDCG@10 after: better; nDCG@10 on day 1:
    # level with it (0.7905 against 0.7911 when measured)
    assert ours[0] > svm[0] and ours[2] > svm[2] and ours[3] >= svm[3], (ours, svm)
    assert ours[1] >= svm[1] - 0.01, (ours, svm)
