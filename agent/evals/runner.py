"""Run eval cases through the engines: baseline prompts, candidate prompts, and the offline floor.

Every variant sees the same cases with the same model and the same answers: the run's cache,
and every answer an eval got, valid or not, kept under DIGEST_HOME (`kept`), so an eval
repeated with unchanged prompts makes no model calls and gives the same scores. Each repeat
after the first gets its own entries (the request's prompt version is tagged with the repeat
number), so `--repeat N` samples the model N times once, and is free ever after. A variant
whose prompts are byte-identical to an earlier one's shares its results: the same prompts
cannot regress against themselves, whatever the model does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from agent.config import Settings, model_needed
from agent.core.wording import plural
from agent.errors import ConfigError
from agent.evals.cases import EvalCase, find_cases_dir
from agent.evals.kept import KeptAnswers, same_answers, twice_asked
from agent.evals.results import CaseResult
from agent.evals.scorers import SCORERS, Scorer, score_result
from agent.evals.scorers_judge import JudgePrompt, judge_case
from agent.models import Summary
from agent.store import Store
from agent.summarize.llm import (
    Budget,
    ChatAnswer,
    ChatModel,
    ChatRequest,
    Limits,
    Shared,
    UsageMeter,
    cache_key,
    count_message_tokens,
    count_tokens,
    run_budget,
)

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
EngineKind = Literal["llm", "offline"]
_CHECKOUT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Variant:
    """One column of the comparison: an engine and, for the model engine, a prompts directory."""

    label: str  # "baseline", "candidate", "offline"
    engine: EngineKind
    prompts: Path | None = None
    description: str = ""


@dataclass
class EvalRun:
    meta: dict[str, Any]
    results: list[CaseResult] = field(default_factory=list)
    planned: int = 0  # (variant, case, repeat) runs asked for
    interrupted: bool = False  # stopped by Ctrl-C: `results` holds what finished

    def of(self, variant: str) -> list[CaseResult]:
        return [r for r in self.results if r.variant == variant]

    @property
    def variants(self) -> list[str]:
        return list(dict.fromkeys(r.variant for r in self.results))


def default_cases_dir(cwd: Path | None = None) -> Path:
    """./evals/cases when it exists, else the cases shipped with the package."""
    return find_cases_dir(cwd or Path.cwd())


def default_runs_dir(settings: Settings) -> Path:
    """`evals/runs` of the checkout (git-ignored), else DIGEST_HOME/evals/runs."""
    checkout = _CHECKOUT / "evals"
    return checkout / "runs" if checkout.is_dir() else settings.home / "evals" / "runs"


# -- recording the model calls of one case ----------------------------------------------------


class LatencyMemo:
    """How long each fresh (uncached) model call took, by its cache key, so that a cached
    re-run still reports the latency the prompts really have. A JSON file in DIGEST_HOME."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.data: dict[str, float] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {}

    def save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.data, indent=0, sort_keys=True), encoding="utf-8")
        except OSError as exc:
            logger.warning("eval latency memo not written: %s", exc)

    def seconds(self, key: str, answer: ChatAnswer, measured: float) -> float | None:
        """The call's latency: measured when fresh (and remembered), remembered when cached."""
        if not answer.cached:
            self.data[key] = round(measured, 4)
        return self.data.get(key)


@dataclass
class CallLog:
    """What the engine asked and got during one case: tokens, validity and model time."""

    model: str
    dialect: str
    memo: LatencyMemo
    tokens_in: int = 0
    tokens_out: int = 0
    answers: int = 0
    cached: int = 0
    untimed: int = 0  # cached answers whose fresh latency is unknown (cached by a normal run)
    model_seconds: float = 0.0
    invalid: int = 0
    invalid_example: str | None = None

    def add(self, request: ChatRequest, answer: ChatAnswer, measured: float) -> None:
        self.answers += 1
        self.cached += bool(answer.cached)
        self.tokens_in += count_message_tokens(request.messages, self.model)
        self.tokens_out += count_tokens(answer.text, self.model)
        seconds = self.memo.seconds(cache_key(self.model, self.dialect, request), answer, measured)
        if seconds is None:
            self.untimed += 1
        else:
            self.model_seconds += seconds
        try:
            request.schema.model_validate_json(answer.text)
        except ValidationError as exc:
            self.invalid += 1
            if self.invalid_example is None:
                first = exc.errors(include_url=False)[0]
                where = ".".join(str(p) for p in first["loc"]) or "answer"
                self.invalid_example = f"{request.step}: {where}: {first['msg']}"[:200]

    def latency_source(self) -> str:
        text = f"model time of {plural(self.answers, 'call')}, {self.cached} from the cache"
        if self.untimed:
            text += f" ({self.untimed} cached before any eval: time unknown, counted 0)"
        return text


class RecordingModel(ChatModel):
    """Wraps a (cached) chat model: tags repeats into the cache key and logs every answer."""

    def __init__(self, inner: ChatModel, log: CallLog, repeat: int) -> None:
        self.inner, self.log, self.repeat = inner, log, repeat
        self.name = inner.name

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        if self.repeat:
            version = f"{request.prompt_version}+repeat{self.repeat}"
            request = dataclasses.replace(request, prompt_version=version)
        started = time.perf_counter()
        answer = await self.inner.complete(request)
        self.log.add(request, answer, time.perf_counter() - started)
        return answer

    async def aclose(self) -> None:
        await self.inner.aclose()


# -- running --------------------------------------------------------------------------------------


@dataclass
class Runner:
    """Runs every (variant, case, repeat), judges when asked, and scores each result."""

    settings: Settings
    store: Store | None
    repeat: int = 1
    judge: JudgePrompt | None = None
    scorers: Sequence[Scorer] = SCORERS
    progress: Progress = lambda text: None
    memo: LatencyMemo | None = None
    journal: Path | None = None  # JSONL written as results finish (meta line first)

    def __post_init__(self) -> None:
        if self.memo is None:
            self.memo = LatencyMemo(self.settings.home / "evals" / "latency.json")

    async def run(
        self, cases: Sequence[EvalCase], variants: Sequence[Variant], meta: dict[str, Any]
    ) -> EvalRun:
        prompt_sets = {v.label: _load_prompts(v) for v in variants if v.engine == "llm"}
        run = EvalRun(
            meta={**meta, "variants": [_describe(v, prompt_sets.get(v.label)) for v in variants]}
        )
        run.planned = len(variants) * len(cases) * self.repeat
        # (what ran: "offline" or the prompts' versions, case, repeat) -> its judged result:
        # the offline engine is deterministic, and identical prompts share their answers.
        done: dict[tuple[str, str, int], CaseResult] = {}
        if self.journal is not None:
            write_jsonl(self.journal, run)
        try:
            for variant in variants:
                what = _what_runs(variant, prompt_sets.get(variant.label))
                for case in cases:
                    for repeat in range(self.repeat):
                        self.progress(_progress_line(run, variant, case, repeat, self.repeat))
                        key = (what, case.name, repeat)
                        if key not in done:
                            done[key] = await self._judged_result(
                                case, repeat, variant, prompt_sets
                            )
                        result = done[key].model_copy(update={"variant": variant.label})
                        run.results.append(score_result(case, result, self.scorers))
                        if self.journal is not None:
                            append_result(self.journal, run.results[-1])
                        await asyncio.sleep(0)  # Ctrl-C (the task cancelled) stops here
        except (KeyboardInterrupt, asyncio.CancelledError):
            run.interrupted = True  # keep what finished; the caller reports it
        finally:
            if self.memo is not None:
                self.memo.save()
        return run

    async def _judged_result(
        self, case: EvalCase, repeat: int, variant: Variant, prompt_sets: dict[str, Any]
    ) -> CaseResult:
        if variant.engine == "offline":
            result = self._offline(case, repeat)
        else:
            result = await self._llm(case, repeat, prompt_sets[variant.label])
        if self.judge is not None and result.summary is not None:
            result = await self._judged(case, result)
        return result

    async def deterministic(self, case: EvalCase, prompts: Any) -> bool | None:
        """Whether the model gives the same answer to the same request: `case`'s first
        request asked twice (the answers kept, so a repeated eval asks nothing), past the
        run's cache; None when no answer came."""
        from agent.summarize.llm import LLMEngine, build_chat_models

        meter = UsageMeter(self.settings.llm.prices, run_budget(self.settings.llm))
        models = build_chat_models(self.settings.llm, self.store, Shared(meter), use_cache=False)
        if not models:
            return None
        probe = twice_asked(models[0], self.store, self.settings.llm.dialect, meter)
        engine = LLMEngine(
            self.settings.llm, self.store, models=[probe], prompts=prompts, meter=meter,
            keep_blurbs=False,
        )  # fmt: skip
        try:
            await engine.summarize(case.papers, topic=case.topic)
        except Exception:
            logger.debug("determinism probe failed on %s", case.name, exc_info=True)
        return same_answers(probe)

    def _offline(self, case: EvalCase, repeat: int) -> CaseResult:
        from agent.summarize.offline import OfflineEngine

        started = time.perf_counter()
        try:
            summary: Summary | None = OfflineEngine().summarize(case.papers, topic=case.topic)
            error = None
        except Exception as exc:
            logger.debug("offline engine failed on %s", case.name, exc_info=True)
            summary, error = None, f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - started
        return CaseResult(
            variant="offline",
            case=case.name,
            repeat=repeat,
            engine="offline",
            summary=summary,
            error=error,
            seconds=round(seconds, 4),
            wall_seconds=round(seconds, 4),
        )

    async def _llm(self, case: EvalCase, repeat: int, prompts: Any) -> CaseResult:
        from agent.summarize.llm import LLMEngine, build_chat_models

        meter = UsageMeter(self.settings.llm.prices, run_budget(self.settings.llm))  # per case
        models = build_chat_models(self.settings.llm, self.store, Shared(meter), use_cache=True)
        if not models:
            raise model_needed("--engine llm")
        assert self.memo is not None
        dialect = self.settings.llm.dialect
        log = CallLog(models[0].name, dialect, self.memo)
        wrapped: list[ChatModel] = [
            RecordingModel(KeptAnswers(m, self.store, dialect, meter=meter), log, repeat)
            for m in models
        ]
        llm = self.settings.llm
        if case.language:  # the case asks for the reader's language
            llm = llm.model_copy(update={"language": case.language})
        engine = LLMEngine(
            llm, self.store, models=wrapped, prompts=prompts, meter=meter, keep_blurbs=False
        )
        started = time.perf_counter()
        summary: Summary | None
        try:
            summary, error = await engine.summarize(case.papers, topic=case.topic), None
        except Exception as exc:
            logger.debug("model engine failed on %s", case.name, exc_info=True)
            summary, error = None, f"{type(exc).__name__}: {exc}"
        wall = time.perf_counter() - started
        return CaseResult(
            variant="",
            case=case.name,
            repeat=repeat,
            engine=summary.engine if summary else engine.name,
            summary=summary,
            error=error,
            seconds=round(log.model_seconds, 4),
            wall_seconds=round(wall, 4),
            latency_source=log.latency_source(),
            usage=summary.usage if summary else meter.total(),
            tokens_in=log.tokens_in,
            tokens_out=log.tokens_out,
            cost_usd=meter.estimate_cost(log.model, log.tokens_in, log.tokens_out),
            answers=log.answers,
            cached_answers=log.cached,
            invalid_answers=log.invalid,
            invalid_example=log.invalid_example,
        )

    async def _judged(self, case: EvalCase, result: CaseResult) -> CaseResult:
        verdicts, error = await self._judge(case, result)
        return result.model_copy(update={"judge": verdicts, "judge_error": error})

    async def _judge(self, case: EvalCase, result: CaseResult) -> Any:
        from agent.summarize.llm import build_chat_models

        assert self.judge is not None
        budget = Budget(Limits(seconds=self.settings.llm.run_budget_seconds))  # no cost cap
        meter = UsageMeter(self.settings.llm.prices, budget)
        models = build_chat_models(self.settings.llm, self.store, Shared(meter), use_cache=True)
        if not models:
            raise model_needed("--judge")
        try:
            return await judge_case(models[0], self.judge, case, result)
        finally:
            for model in models:
                await model.aclose()


def _progress_line(
    run: EvalRun, variant: Variant, case: EvalCase, repeat: int, repeats: int
) -> str:
    """'case i/N: …' plus the model calls answered so far, so a slow local model shows it works."""
    answers = sum(r.answers for r in run.results)
    cached = sum(r.cached_answers for r in run.results)
    calls = f"{plural(answers, 'model answer')} so far"
    if cached:
        calls += f", {cached} from the cache"
    return (
        f"case {len(run.results) + 1}/{run.planned}: {variant.label} {case.name} "
        f"(repeat {repeat + 1}/{repeats}); {calls}"
    )


def _what_runs(variant: Variant, prompts: Any) -> str:
    """What a variant runs, for sharing results: "offline", or its prompts' versions."""
    if variant.engine == "offline" or prompts is None:
        return "offline"
    return json.dumps(prompts.versions, sort_keys=True)


def _load_prompts(variant: Variant) -> Any:
    from agent.summarize.llm import PromptSet

    return PromptSet.load(variant.prompts)


def _describe(variant: Variant, prompts: Any) -> dict[str, Any]:
    return {
        "label": variant.label,
        "engine": variant.engine,
        "prompts": str(variant.prompts) if variant.prompts else None,
        "description": variant.description,
        "prompt_versions": dict(prompts.versions) if prompts is not None else {},
    }


def run_meta(
    settings: Settings,
    *,
    engine: str,
    cases_dir: Path,
    cases: Sequence[EvalCase],
    repeat: int,
    judge: bool,
) -> dict[str, Any]:
    """What a run was (no secrets: neither the key nor the base URL)."""
    return {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "engine": engine,
        "model": settings.llm.model if engine == "llm" else None,
        "cases_dir": str(cases_dir),
        "cases": [case.name for case in cases],
        "repeat": repeat,
        "judge": judge,
        "python": platform.python_version(),
    }


# -- JSONL ------------------------------------------------------------------------------------------


def write_jsonl(path: Path, run: EvalRun, extra: Sequence[dict[str, Any]] = ()) -> Path:
    """One `meta` line, one `result` line per (variant, case, repeat), then `extra` lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps({"type": "meta", **run.meta}, ensure_ascii=False) + "\n")
    for result in run.results:
        append_result(path, result)
    with path.open("a", encoding="utf-8") as handle:
        for line in extra:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path


def append_result(path: Path, result: CaseResult) -> None:
    """Add one `result` line to a run's JSONL as soon as it finishes (survives a Ctrl-C)."""
    with path.open("a", encoding="utf-8") as handle:
        record = {"type": "result", **result.model_dump(mode="json")}
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> EvalRun:
    """An EvalRun back from `write_jsonl`'s file (other line types are skipped)."""
    run = EvalRun(meta={})
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            kind = record.pop("type", None)
            if kind == "meta":
                run.meta = record
            elif kind == "result":
                run.results.append(CaseResult.model_validate(record))
        except (ValueError, ValidationError) as exc:
            raise ConfigError(f"{path}:{number}: not an eval result line: {exc}") from None
    return run


def run_file_name(now: dt.datetime | None = None, directory: Path | None = None) -> str:
    """`YYYYMMDD-HHMMSS-micro.jsonl`: sorts by time, and two runs never share a file."""
    now = now or dt.datetime.now(dt.UTC)
    while True:
        name = now.strftime("%Y%m%d-%H%M%S-%f") + ".jsonl"
        if directory is None or not (directory / name).exists():
            return name
        now += dt.timedelta(microseconds=1)


__all__ = [
    "CallLog",
    "EvalRun",
    "LatencyMemo",
    "RecordingModel",
    "Runner",
    "Variant",
    "append_result",
    "default_cases_dir",
    "default_runs_dir",
    "read_jsonl",
    "run_file_name",
    "run_meta",
    "write_jsonl",
]
