"""`digest eval` end to end: load cases, pick the variants, run, compare, save, report."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.core.resources import prompts_dir
from agent.errors import ConfigError
from agent.evals.baseline import PromptSource, resolve_prompts
from agent.evals.cases import EvalCase, load_cases
from agent.evals.compare import BASELINE, CANDIDATE, OFFLINE, Comparison, Stat, compare
from agent.evals.kept import smallest_case
from agent.evals.report import write_report
from agent.evals.runner import (
    EvalRun,
    Progress,
    Runner,
    Variant,
    default_cases_dir,
    default_runs_dir,
    run_file_name,
    run_meta,
    write_jsonl,
)
from agent.evals.scorers import SCORERS_BY_NAME
from agent.evals.scorers_judge import JudgePrompt
from agent.summarize import choose_engine

OFFLINE_SMOKE_NOTE = (
    "--engine offline: baseline and candidate are both the offline engine, so the prompts do "
    "not matter; this is a smoke run of the cases and scorers (and the offline floor's scores)."
)
IDENTICAL_NOTE = (
    "the candidate prompts are byte-identical to the baseline's: the candidate shares the "
    "baseline's answers, so no regression is possible"
)
# Runs of each case against a model that is not deterministic, unless --repeat says otherwise.
NONDETERMINISTIC_REPEAT = 3


@dataclass(frozen=True)
class EvalOptions:
    cases_dir: Path | None = None
    prompts: Path | None = None  # the candidate prompts (default: the bundled ones)
    baseline: str | None = None  # a directory or a git ref (default: HEAD, else bundled)
    engine: str | None = None  # "offline", "llm", or None for auto
    repeat: int | None = None  # None: 1, or NONDETERMINISTIC_REPEAT for such a model
    report: Path | None = None
    judge: bool = False
    out_dir: Path | None = None
    tags: tuple[str, ...] = ()


@dataclass
class EvalOutcome:
    run: EvalRun
    comparison: Comparison
    cases: list[EvalCase]
    labels: dict[str, str]
    jsonl: Path
    report: Path
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """130 when stopped by Ctrl-C (the report covers what finished), else the verdict's."""
        return 130 if self.run.interrupted else self.comparison.exit_code


def check_thresholds(cases: list[EvalCase]) -> None:
    for case in cases:
        unknown = sorted(set(case.thresholds) - set(SCORERS_BY_NAME))
        if unknown:
            raise ConfigError(
                f"eval case {case.path or case.name}: thresholds name unknown scorers "
                f"{', '.join(unknown)} (known: {', '.join(SCORERS_BY_NAME)})"
            )


@contextlib.contextmanager
def _variants(
    options: EvalOptions, engine: str, cwd: Path
) -> Iterator[tuple[list[Variant], dict[str, str], list[str]]]:
    candidate = (options.prompts or prompts_dir()).expanduser().resolve()
    if not candidate.is_dir():
        raise ConfigError(f"--prompts {candidate}: not a directory")
    offline = Variant(OFFLINE, "offline", description="offline engine")
    if engine == "offline":
        if options.baseline is not None:  # a named baseline must exist even when unused
            resolve_prompts(options.baseline, candidate=candidate, cwd=cwd).cleanup()
        labels = {
            OFFLINE: "offline engine",
            BASELINE: "offline engine",
            CANDIDATE: "offline engine",
        }
        yield (
            [offline, Variant(BASELINE, "offline"), Variant(CANDIDATE, "offline")],
            labels,
            [OFFLINE_SMOKE_NOTE],
        )
        return
    source: PromptSource = resolve_prompts(options.baseline, candidate=candidate, cwd=cwd)
    try:
        variants = [
            offline,
            Variant(BASELINE, "llm", source.directory, source.label),
            Variant(CANDIDATE, "llm", candidate, str(candidate)),
        ]
        labels = {OFFLINE: "offline engine", BASELINE: source.label, CANDIDATE: str(candidate)}
        notes = []
        if options.baseline is None:
            notes.append(f"baseline defaulted to {source.label}")
        yield variants, labels, notes
    finally:
        source.cleanup()


EVAL_SEED = 1234  # eval runs ask for repeatable sampling where the server takes a seed


def steady_settings(settings: Settings) -> Settings:
    """Settings for a repeatable eval: the local-server defaults, temperature 0 and a fixed
    seed (unless the config sets one), so identical prompts give identical answers."""
    from agent.summarize.llm import with_local_defaults

    settings = with_local_defaults(settings)
    update: dict[str, object] = {"temperature": 0.0}
    if settings.llm.seed is None:
        update["seed"] = EVAL_SEED
    return settings.model_copy(update={"llm": settings.llm.model_copy(update=update)})


def _engine_of(settings: Settings, options: EvalOptions) -> str:
    """ "offline" or "llm": as asked, else the model when one is configured."""
    if options.engine == "offline":
        return "offline"
    return choose_engine("llm" if options.engine == "llm" else "auto", settings).kind


def _report_path(options: EvalOptions, jsonl: Path) -> Path:
    """--report, else the results file's name with .md; ConfigError for another suffix."""
    report = (options.report or jsonl.with_suffix(".md")).expanduser().resolve()
    if report.suffix.lower() not in {".md", ".markdown", ".html", ".htm"}:
        raise ConfigError(f"--report {report}: use a .md or .html file name")
    return report


def _stat_record(stat: Stat | None) -> dict[str, Any] | None:
    if stat is None:
        return None
    return {"mean": stat.mean, "spread": stat.spread, "ci95": stat.interval}


def _comparison_record(comparison: Comparison, interrupted: bool) -> dict[str, Any]:
    """The last line of the results file: the verdict and every scorer's row."""
    return {
        "type": "comparison",
        "exit_code": 130 if interrupted else comparison.exit_code,
        "interrupted": interrupted,
        "regressions": comparison.regressions,
        "below_floor": comparison.below_floor,
        "rows": [
            {
                "scorer": row.scorer.name,
                "direction": row.scorer.direction,
                OFFLINE: _stat_record(row.offline),
                BASELINE: _stat_record(row.baseline),
                CANDIDATE: _stat_record(row.candidate),
                "delta": row.delta,
                "delta_ci95": row.delta_interval,
                "regressed": row.regressed,
                "status": row.status,
            }
            for row in comparison.rows
        ],
    }


async def _repeats(
    runner: Runner,
    options: EvalOptions,
    engine: str,
    variants: list[Variant],
    cases: list[EvalCase],
    notes: list[str],
) -> int:
    """How many times each case runs: --repeat, else 1, or NONDETERMINISTIC_REPEAT when the
    candidate differs from the baseline and the model is not deterministic (one request asked
    twice got two answers). Says why in `notes`."""
    from agent.summarize.llm import PromptSet

    prompts = {v.label: PromptSet.load(v.prompts) for v in variants if v.engine == "llm"}
    if engine != "llm" or BASELINE not in prompts or CANDIDATE not in prompts:
        return options.repeat or 1
    if prompts[BASELINE].versions == prompts[CANDIDATE].versions:
        notes.append(IDENTICAL_NOTE)
        return options.repeat or 1
    case = smallest_case(cases)
    if case is None:
        return options.repeat or 1
    runner.progress(f"asking one request of {case.name} twice: is the model deterministic?")
    same = await runner.deterministic(case, prompts[BASELINE])
    if same is None:
        return options.repeat or 1
    if same:
        if options.repeat is None:
            notes.append(
                "the model gave the same answer to one request asked twice, so each case ran "
                f"once (one request is a small sample: --repeat {NONDETERMINISTIC_REPEAT} for a "
                "verdict on intervals)"
            )
        return options.repeat or 1
    asked = "the same request asked twice got two different answers (temperature 0, a seed)"
    if options.repeat is None:
        notes.append(
            f"the model is not deterministic: {asked}; so each case ran "
            f"{NONDETERMINISTIC_REPEAT} times and each verdict is taken on the 95% interval "
            "of the difference (--repeat N to choose)"
        )
        return NONDETERMINISTIC_REPEAT
    if options.repeat == 1:
        notes.append(
            f"the model is not deterministic: {asked}; with --repeat 1 a difference may be "
            f"noise (use --repeat {NONDETERMINISTIC_REPEAT} or more for a verdict on intervals)"
        )
    else:
        notes.append(f"the model is not deterministic: {asked}")
    return options.repeat


async def run_eval_session(
    settings: Settings, options: EvalOptions, *, cwd: Path, progress: Progress | None = None
) -> EvalOutcome:
    """Run the eval as `digest eval` does; raises ConfigError for bad input."""
    if options.repeat is not None and options.repeat < 1:
        raise ConfigError("--repeat must be at least 1")
    cases_dir = (options.cases_dir or default_cases_dir(cwd)).expanduser().resolve()
    cases = load_cases(cases_dir, tags=options.tags)
    check_thresholds(cases)
    engine = _engine_of(settings, options)
    if options.judge and not settings.llm_configured:
        raise ConfigError("--judge needs a model: set OPENAI_API_KEY or llm.base_url")
    out_dir = (options.out_dir or default_runs_dir(settings)).expanduser().resolve()
    jsonl = out_dir / run_file_name(directory=out_dir)
    report = _report_path(options, jsonl)
    store = None
    if engine == "llm" or options.judge:
        from agent.store import Store

        settings = steady_settings(settings)

        store = Store.open(settings.home)
    try:
        with _variants(options, engine, cwd) as (variants, labels, notes):
            if engine != "llm" and options.engine is None:
                notes.append("no model is configured, so this is an offline-engine run")
            judge = JudgePrompt.find(options.prompts) if options.judge else None
            runner = Runner(
                settings,
                store,
                judge=judge,
                progress=progress or (lambda _: None),
                journal=jsonl,
            )
            runner.repeat = await _repeats(runner, options, engine, variants, cases, notes)
            meta = run_meta(
                settings,
                engine=engine,
                cases_dir=cases_dir,
                cases=cases,
                repeat=runner.repeat,
                judge=options.judge,
            )
            run = await runner.run(cases, variants, meta)
    finally:
        if store is not None:
            store.close()
    if run.interrupted:
        notes.append(
            f"interrupted (Ctrl-C) after {len(run.results)} of {run.planned} runs: "
            "this report covers only what finished"
        )
    comparison = compare(run.results, cases, notes=notes)
    write_jsonl(jsonl, run, extra=[_comparison_record(comparison, run.interrupted)])
    write_report(report, comparison, cases, meta={**run.meta, "labels": labels}, labels=labels)
    return EvalOutcome(run, comparison, cases, labels, jsonl, report, notes)


__all__ = [
    "IDENTICAL_NOTE",
    "NONDETERMINISTIC_REPEAT",
    "OFFLINE_SMOKE_NOTE",
    "EvalOptions",
    "EvalOutcome",
    "run_eval_session",
]
