"""The language-model engine: grouping, then blurbs per theme in parallel with the headline
(and, for topics, the overview), each step its own fallback chain (primary model, fallback
model, offline engine: layer 3, `fallback`). Whatever fails, the Summary is complete: every
input paper is in exactly one theme, and each fallback or repair is a DegradedNote.

How many requests are in flight is the transport's business (the run's rate limit, shared by
every model); the engine starts a stage's calls all at once.

Against a local server the engine measures its speed on the first call (`run.pace`), says how
long the rest will take at that rate, and when that does not fit what is left of the run's
time (`llm.run_budget_seconds`) asks for shorter blurbs, then leaves the lowest-ranked parts
to the offline engine (`budget_plan`), so the digest is complete on time and says so.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from agent.config import LLMSettings
from agent.core.wording import join_phrases
from agent.errors import ConfigError
from agent.models import (
    DegradedNote,
    EngineName,
    ModelRun,
    Paper,
    PaperBlurb,
    Summary,
    Theme,
    Usage,
)
from agent.summarize import offline
from agent.summarize.drafts import ThemeDraft
from agent.summarize.llm.asking.ask import Asker
from agent.summarize.llm.asking.prompts import PromptSet
from agent.summarize.llm.chat import ChatAnswer, ChatModel
from agent.summarize.llm.factory import Shared, batches, build_chat_models
from agent.summarize.llm.fallback import OFFLINE, Outcome, StepCall, build_chain, link_name
from agent.summarize.llm.models.batch import BatchStats
from agent.summarize.llm.models.dialects import endpoint_of
from agent.summarize.llm.models.local import local_llm, local_server, model_label
from agent.summarize.llm.run.blurb_cache import BlurbCache
from agent.summarize.llm.run.budget import Budget
from agent.summarize.llm.run.limit import AdaptiveLimit
from agent.summarize.llm.run.meter import UsageMeter
from agent.summarize.llm.run.pace import CallsPerPlanned, Pace, Paced
from agent.summarize.llm.run.progress import CallProgress, Counted, Report
from agent.summarize.llm.run.window import ContextWindow
from agent.summarize.llm.steps.blurbs import Blurbed, BlurbJob, BlurbWriter
from agent.summarize.llm.steps.budget_plan import TimePlan, plan_time
from agent.summarize.llm.steps.grouping import Grouper, Grouping
from agent.summarize.llm.steps.headline import HeadlineInput, HeadlineWriter, OverviewInput
from agent.summarize.llm.steps.query_expansion import QueryExpander
from agent.summarize.llm.steps.rerank import Reranker, RerankInput, rerank_batches

if TYPE_CHECKING:
    from agent.store import ModelStore

logger = logging.getLogger(__name__)


class LLMEngine:
    """Summarize with chat models; `models` (tests, evals) replaces the ones the factory builds.

    `budget`, `limit` and `window` are the run's (`run_budget`, `run_limit`, `run_window`:
    every engine of a run draws on one budget and one rate limit, and plans for one context
    window); without them the engine makes its own from settings. Usage is read from `meter` (the factory's models feed it); when `models` are
    given without a `meter`, the engine feeds its own meter from the answers. The methods are
    coroutines: the command runs the event loop (`asyncio.run` in `agent.cli`, nowhere else).
    """

    def __init__(
        self,
        llm: LLMSettings,
        store: ModelStore | None,
        *,
        use_cache: bool = True,
        models: list[ChatModel] | None = None,
        prompts: PromptSet | None = None,
        meter: UsageMeter | None = None,
        progress: Report | None = None,
        batch: bool = False,
        keep_blurbs: bool = True,
        budget: Budget | None = None,
        limit: AdaptiveLimit | None = None,
        window: ContextWindow | None = None,
    ) -> None:
        self.llm = llm = local_llm(llm)
        # The context window calls are planned for: the run's, shrunk when a server refuses a
        # request as longer than its window (see run.window).
        self.window = window or ContextWindow(llm.context_window)
        self.progress = CallProgress(progress) if progress is not None else None
        self.prompts = (prompts or PromptSet.load()).with_language(llm.language)
        budget = budget or Budget.from_settings(llm)
        self.meter = meter or UsageMeter(llm.prices, budget)
        self._feed_meter = models is not None and meter is None
        # The run's rate limit: every request of every model takes a slot (see run.limit).
        self.limit = limit or AdaptiveLimit(llm.concurrency)
        self.batch: BatchStats | None = None  # set when the primary batches
        if models is None:
            models = self._build(store, use_cache=use_cache, batch=batch, report=progress)
        self.models = list(models)
        if not self.models:
            raise ConfigError("the model engine needs at least one chat model")
        # Blurbs kept per paper (shared by readers, topics, re-runs); evals keep none, so that
        # each case's calls are the ones its prompts make.
        self.blurb_cache = (
            BlurbCache(store, read=use_cache, meter=self.meter)
            if store is not None and keep_blurbs
            else None
        )
        self._answered: Counter[str] = Counter()  # the primary's answers, by the model they name
        self._dialects: Counter[str] = Counter()  # and by the dialect they were asked in
        # A local server's speed, measured on its answers (None: a hosted model, no need), and
        # how many calls it needed per planned call on earlier runs.
        self.pace = Pace() if local_server(llm) else None
        self.calls_per_planned = CallsPerPlanned(
            store if self.pace is not None else None, endpoint_of(llm.base_url), llm.model
        )
        self.time_plan: TimePlan | None = None  # what the measured speed made the run do
        self.prompt_cut: DegradedNote | None = None  # a server cut a prompt (said once)

    def _build(
        self, store: ModelStore | None, *, use_cache: bool, batch: bool, report: Report | None
    ) -> list[ChatModel]:
        """The configured models (`factory`), on the run's meter and rate limit."""
        if batches(self.llm, batch):
            self.batch = BatchStats(self.llm.batch_price_factor)
        shared = Shared(self.meter, self.limit, batch=self.batch, report=report)
        return build_chat_models(self.llm, store, shared, use_cache=use_cache)

    @property
    def name(self) -> str:
        """``llm:MODEL``, the model named by the server in its answers once there are some."""
        return f"llm:{self.answered_model}"

    @property
    def answered_model(self) -> str:
        """The model the primary's answers name (the most frequent), else the configured one,
        as labels show it (a model file's base name, not its path)."""
        name = self._answered.most_common(1)[0][0] if self._answered else self.models[0].name
        return model_label(name)

    def _on_answer(self, model: ChatModel, answer: ChatAnswer) -> None:
        if answer.model and model.name == self.models[0].name:
            self._answered[answer.model] += 1
            if answer.dialect is not None:
                self._dialects[answer.dialect] += 1
        if self._feed_meter:
            self.meter.add(answer.model, answer.usage)
        if answer.prompt_cut is not None and self.prompt_cut is None:
            self.prompt_cut = prompt_cut_note(model.name, *answer.prompt_cut)
            logger.warning("%s", self.prompt_cut.reason)

    def _asker(self) -> Asker:
        return Asker(
            self.prompts,
            self.llm,
            count_model=self.models[0].name,
            on_answer=self._on_answer,
            window=self.window,
        )

    def _counted(self) -> list[ChatModel]:
        """The models, each call counted on the progress line (when there is one) and timed
        for the server's speed (a local one)."""
        pace = self.pace
        models: list[ChatModel] = list(self.models)
        if pace is not None:
            models = [Paced(m, pace) for m in models]
        if self.progress is None:
            return models
        last = len(models) - 1
        return [
            Counted(m, self.progress, then_another_model=i < last) for i, m in enumerate(models)
        ]

    def _plan(self, calls: int) -> None:
        if self.progress is not None:
            self.progress.plan(calls)

    async def _close(self) -> None:
        for model in self.models:
            try:
                await model.aclose()
            except Exception:
                logger.debug("closing %r failed", model, exc_info=True)

    # -- summarize --------------------------------------------------------------------------------

    async def summarize(
        self, papers: Sequence[Paper], *, topic: str | None = None, total: int | None = None
    ) -> Summary:
        started = time.monotonic()
        before = self.meter.total()
        unique = list({p.id: p for p in reversed(papers)}.values())[::-1]
        try:
            if unique:
                summary = await self._run(unique, topic, total)
            else:
                summary = offline.OfflineEngine().summarize([], topic=topic)
                summary = summary.model_copy(update={"engine": self.name})
        finally:
            await self._close()
        usage = _since(before, self.meter.total(), time.monotonic() - started)
        return summary.model_copy(
            update={
                "usage": usage,
                "prompt_versions": dict(self.prompts.versions),
                "model_run": self._model_run(summary),
            }
        )

    def _model_run(self, summary: Summary) -> ModelRun:
        blurbs = [b for t in summary.themes for b in t.papers]
        return ModelRun(
            model=self.answered_model,
            requested=model_label(self.models[0].name),
            dialect=self._dialect(),
            blurbs=len(blurbs),
            offline_blurbs=sum(b.engine == "offline" for b in blurbs),
            cost_known=self.meter.cost_known,
            batch=self.batch.report() if self.batch is not None else None,
            tokens_per_second=self._speed(),
            estimated_seconds=self.time_plan.seconds if self.time_plan is not None else None,
        )

    def _speed(self) -> float | None:
        rate = self.pace.tokens_per_second() if self.pace is not None else None
        return round(rate, 1) if rate is not None else None

    def _dialect(self) -> str | None:
        """The dialect the primary's answers were asked in (the most frequent); with none,
        the configured one (None for a LangChain model: it has no dialects)."""
        if self._dialects:
            return self._dialects.most_common(1)[0][0]
        return None if self.llm.chat_model else self.llm.dialect

    async def _run(self, papers: list[Paper], topic: str | None, total: int | None) -> Summary:
        models = self._counted()
        asker = self._asker()
        grouper, texts = Grouper(asker), HeadlineWriter(asker)
        writer = BlurbWriter(asker, self.blurb_cache)
        by_id = {p.id: p for p in papers}

        grouping_chain = build_chain("grouping", models, grouper.group, grouper.offline)
        self._plan(1)  # at least one grouping call; batches and re-asks add to it as they come
        grouped: Outcome[Grouping] = await grouping_chain.ainvoke(StepCall(tuple(papers)))
        themes = grouped.value.themes
        notes: list[DegradedNote] = [*_noted(grouped, "grouping"), *grouped.value.notes]

        # Longest calls first: with a fixed number of slots this shortens the run's tail.
        jobs = sorted(writer.plan(themes, by_id), key=lambda job: -len(job.papers))
        headline_input = HeadlineInput(themes, by_id, topic, total)
        overview_input = OverviewInput(topic, themes, by_id, total) if topic else None

        def text_sizes() -> list[tuple[int, int]]:
            questions = [texts.headline_question(headline_input)]
            if overview_input is not None:
                questions.append(texts.overview_question(overview_input))
            return [asker.size(q) for q in questions]

        plan = self._fit_time(jobs, writer, text_sizes, [p.id for p in papers])
        notes += plan.notes
        texts_planned = 2 if overview_input is not None else 1
        planned = len(jobs) - len(plan.left_out) + texts_planned  # blurbs, headline, overview
        self._plan(planned)
        before = self.meter.total()
        blurbs_chain = build_chain("blurbs", models, plan.guard(writer.write), writer.offline)
        headline_chain = build_chain("headline", models, texts.headline, texts.offline_headline)
        blurbs_call = blurbs_chain.abatch([StepCall(job) for job in jobs])
        headline_call = headline_chain.ainvoke(StepCall(headline_input))
        overview: Outcome[str] | None = None
        if overview_input is not None:
            overview_chain = build_chain("overview", models, texts.overview, texts.offline_overview)
            overview_call = overview_chain.ainvoke(StepCall(overview_input))
            blurbed, headline, overview = await asyncio.gather(
                blurbs_call, headline_call, overview_call
            )
        else:
            blurbed, headline = await asyncio.gather(blurbs_call, headline_call)

        self._learn_pace(plan, planned, before, zip(jobs, blurbed, strict=True), headline, overview)
        built, theme_notes = _themes(themes, blurbed, by_id, grouped.engine)
        notes += theme_notes
        notes += _noted(headline, "headline")
        if overview is not None:
            notes += _noted(overview, "overview")
        if self.prompt_cut is not None:
            notes.append(self.prompt_cut)
        window_note = self.window.note()
        if window_note is not None:
            notes.append(window_note)
        by_step: dict[str, list[Outcome]] = {"grouping": [grouped], "blurbs": list(blurbed)}
        by_step["headline"] = [headline]
        if overview is not None:
            by_step["overview"] = [overview]
        return Summary(
            themes=built,
            headline=headline.value,
            overview=overview.value if overview is not None else None,
            engine=self._engine_label(by_step, built),
            degraded=tuple(self._shown(notes)),
        )

    def _fit_time(
        self,
        jobs: Sequence[BlurbJob],
        writer: BlurbWriter,
        texts: Callable[[], Sequence[tuple[int, int]]],
        ranked: Sequence[str],
    ) -> TimePlan:
        """What the blurbs may cost at a local server's measured speed (see `budget_plan`):
        said on the progress line and in the log, kept for the run's report."""
        plan = plan_time(
            self.pace,
            jobs,
            writer,
            texts,
            ranked,
            seconds_left=self.meter.budget.seconds_left(),
            concurrency=self.limit.maximum,
            calls_per_planned=self.calls_per_planned.factor(),
        )
        if plan.seconds is None:
            return plan
        self.time_plan = plan
        if self.progress is not None and plan.speed:
            self.progress.expect(plan.seconds, plan.speed)
        for line in plan.said:
            (logger.warning if plan.notes else logger.info)("%s", line)
        return plan

    def _learn_pace(
        self,
        plan: TimePlan,
        planned: int,
        before: Usage,
        blurbed: Iterable[tuple[BlurbJob, Outcome[Blurbed]]],
        *texts: Outcome[str] | None,
    ) -> None:
        """Remember the calls the `planned` ones took, when they tell about this server: a time
        plan was made, no answer came from a cache and its primary model answered each planned
        step (a fallback's or the offline engine's work is not this server's pace)."""
        now = self.meter.total()
        if plan.seconds is None or now.cache_hits != before.cache_hits:
            return
        asked: list[Outcome] = [o for job, o in blurbed if not plan.leaves_out(job)]
        asked += [o for o in texts if o is not None]
        if all(o.engine == "llm" and not o.fell_back for o in asked):
            self.calls_per_planned.record(planned, now.calls - before.calls)

    def _shown(self, notes: Sequence[DegradedNote]) -> list[DegradedNote]:
        """`notes`, each once, naming the models as the labels do: a model file's base name,
        never the path a local server lists (the errors behind a note name the model asked)."""
        names = {*(m.name for m in self.models), *self._answered}
        paths = {name: model_label(name) for name in names if model_label(name) != name}
        unique = list(dict.fromkeys(notes))
        if not paths:
            return unique

        def shown(text: str) -> str:
            for path in sorted(paths, key=len, reverse=True):
                text = text.replace(path, paths[path])
            return text

        return [
            n.model_copy(update={"reason": shown(n.reason), "fallback": shown(n.fallback)})
            for n in unique
        ]

    def _engine_label(self, steps: dict[str, list[Outcome]], themes: Sequence[Theme]) -> str:
        """What happened, in a few words: ``llm:MODEL``, then what a fallback model or the
        offline engine wrote (``llm:m, 6 of 10 blurbs by the offline engine``)."""
        outcomes = [o for step in steps.values() for o in step]
        if outcomes and all(o.answered_by == OFFLINE for o in outcomes):
            return f"{self.name} (unavailable; all by the offline engine)"
        label = self.name + self._fallback_words(outcomes)
        offline_parts = _offline_parts(steps, themes)
        if offline_parts:
            label += f", {join_phrases(offline_parts)} by the offline engine"
        return label

    def _fallback_words(self, outcomes: Sequence[Outcome]) -> str:
        """' (fallback: m2)', or ' (unavailable; used m2)' when the primary answered nothing."""
        primary = link_name(0, self.models[0])
        fallbacks = list(
            dict.fromkeys(
                model_label(o.answered_by.removeprefix("fallback model "))
                for o in outcomes
                if o.answered_by not in (primary, OFFLINE)
            )
        )
        if not fallbacks:
            return ""
        if not any(o.answered_by == primary for o in outcomes):
            return f" (unavailable; used {', '.join(fallbacks)})"
        return f" (fallback: {', '.join(fallbacks)})"

    # -- blurbs shared by several digests ---------------------------------------------------------

    async def prewrite_blurbs(self, papers: Sequence[Paper]) -> Usage:
        """Write and keep the blurbs of `papers` that are not kept yet, in as few calls as the
        budget allows and before any grouping, so that several readers' digests of one day ask
        for no blurb twice and pay each call's fixed prompt once. Returns what it cost; a
        failure leaves the blurbs to each digest's own chain."""
        started = time.monotonic()
        before = self.meter.total()
        try:
            if self.blurb_cache is not None:
                await self._prewrite_missing(papers)
        finally:
            await self._close()
        return _since(before, self.meter.total(), time.monotonic() - started)

    async def _prewrite_missing(self, papers: Sequence[Paper]) -> None:
        models = self._counted()
        writer = BlurbWriter(self._asker(), self.blurb_cache)
        unique = list({p.id: p for p in papers}.values())
        kept = writer.kept(models[0], unique)
        todo = [p for p in unique if p.id not in kept]
        if not todo:
            return
        by_id = {p.id: p for p in todo}
        untitled = ThemeDraft(title="", summary="", paper_ids=tuple(by_id))
        jobs = writer.plan([untitled], by_id)
        self._plan(len(jobs))
        chain = build_chain("blurbs", models, writer.write, writer.offline)
        outcomes: list[Outcome[Blurbed]] = await chain.abatch([StepCall(job) for job in jobs])
        for outcome in outcomes:
            _noted(outcome, "blurbs", "shared blurbs")  # logged; each digest notes its own

    # -- relevance pass -----------------------------------------------------------------------------

    async def rerank(self, data: RerankInput) -> tuple[dict[str, int], list[DegradedNote]]:
        """Model relevance scores (0-10) for the candidates, batched; papers whose batch no model
        answered get no score. Returns the scores and a note per batch that fell back."""
        reranker = Reranker(self._asker())
        chain = build_chain("rerank", self._counted(), reranker.score, reranker.offline)
        try:
            outcomes: list[Outcome[dict[str, int]]] = await chain.abatch(
                [StepCall(part) for part in rerank_batches(data)]
            )
        finally:
            await self._close()
        scores: dict[str, int] = {}
        notes: list[DegradedNote] = []
        for outcome in outcomes:
            scores.update(outcome.value)
            notes += _noted(outcome, "rerank")
        return scores, self._shown(notes)

    # -- topic queries ----------------------------------------------------------------------------

    async def expand_query(self, topic: str) -> list[str]:
        """2-4 arXiv search queries for a topic; ``[topic]`` when no model answers."""
        expander = QueryExpander(self._asker())
        chain = build_chain("expand_query", self._counted(), expander.expand, lambda t: [t])
        try:
            outcome: Outcome[list[str]] = await chain.ainvoke(StepCall(topic))
        finally:
            await self._close()
        if outcome.fell_back:
            logger.info("expand_query fell back to %s: %s", outcome.answered_by, outcome.failures)
        return outcome.value


def prompt_cut_note(model: str, read: int, sent: int) -> DegradedNote:
    """The note for a server that read only `read` of the `sent` prompt tokens (Ollama cuts a
    prompt to its context length and says so only in its own log)."""
    return DegradedNote(
        step="server",
        reason=(
            f"The model server read only {read:,} of the ~{sent:,} prompt tokens sent to "
            f"{model}: it cut the prompt to its context length, so answers may miss papers. "
            "Set the server's context length (Ollama: OLLAMA_CONTEXT_LENGTH) or "
            "llm.context_window to match it."
        ),
        fallback="answers to a cut prompt",
    )


def _noted(outcome: Outcome, step: str, scope: str = "digest") -> list[DegradedNote]:
    note = outcome.note(step, scope)
    if note is not None:
        logger.info("%s (%s) fell back to %s: %s", step, scope, note.fallback, note.reason)
    return [note] if note is not None else []


def _offline_parts(steps: dict[str, list[Outcome]], themes: Sequence[Theme]) -> list[str]:
    """What the offline engine wrote: '6 of 10 blurbs', 'the headline', ..."""
    blurbs = [b for t in themes for b in t.papers]
    offline_blurbs = sum(b.engine == "offline" for b in blurbs)
    parts = [f"{offline_blurbs} of {len(blurbs)} blurbs"] if offline_blurbs else []
    parts += [
        f"the {step}"
        for step, done in steps.items()
        if step != "blurbs" and any(o.answered_by == OFFLINE for o in done)
    ]
    return parts


def _themes(
    drafts: Sequence[ThemeDraft],
    blurbed: Sequence[Outcome[Blurbed]],
    by_id: dict[str, Paper],
    grouping_engine: str,
) -> tuple[tuple[Theme, ...], list[DegradedNote]]:
    """Themes from the drafts and their blurb parts, and the notes of what fell back."""
    parts: dict[int, list[Outcome[Blurbed]]] = {}
    for outcome in blurbed:
        parts.setdefault(outcome.value.job.theme, []).append(outcome)
    themes: list[Theme] = []
    notes: list[DegradedNote] = []
    for index, draft in enumerate(drafts):
        mine = sorted(parts.get(index, []), key=lambda o: o.value.job.part)
        blurbs: list[PaperBlurb] = [b for o in mine for b in o.value.blurbs]
        notes += _theme_notes(draft, mine)
        summary, engine = _theme_summary(draft, mine, by_id, grouping_engine)
        degraded = (
            any(b.engine == "offline" for b in blurbs)
            or any(o.fell_back for o in mine)
            or any(c.status == "sentence_dropped" for b in blurbs for c in b.checks)
        )
        themes.append(
            Theme(
                title=draft.title,
                summary=summary,
                papers=tuple(blurbs),
                engine=engine,
                title_engine="llm" if grouping_engine == "llm" else "offline",
                degraded=degraded,
            )
        )
    return tuple(themes), notes


def _theme_notes(draft: ThemeDraft, mine: Sequence[Outcome[Blurbed]]) -> list[DegradedNote]:
    """One fallback note per theme, however many calls it took, then the parts' own notes."""
    notes: list[DegradedNote] = []
    fell_back = [note for outcome in mine for note in _noted(outcome, "blurbs", draft.title)]
    if fell_back:
        reasons = list(dict.fromkeys(note.reason for note in fell_back))
        notes.append(fell_back[0].model_copy(update={"reason": "; ".join(reasons)}))
    for outcome in mine:
        notes += outcome.value.notes
    return notes


def _theme_summary(
    draft: ThemeDraft,
    mine: Sequence[Outcome[Blurbed]],
    by_id: dict[str, Paper],
    grouping_engine: str,
) -> tuple[str, EngineName]:
    """The blurbs call's summary (the first part a model answered), else the grouping's, else
    the offline engine's; and which engine wrote it."""
    written = next((o.value.summary for o in mine if o.engine == "llm" and o.value.summary), None)
    if written:
        return written, "llm"
    if grouping_engine == "llm" and draft.summary:
        return draft.summary, "llm"
    papers = [by_id[i] for i in draft.paper_ids]
    return draft.summary or offline.write_theme_summary(draft.title, papers), "offline"


def _since(before: Usage, after: Usage, wall_seconds: float) -> Usage:
    return Usage(
        calls=after.calls - before.calls,
        cache_hits=after.cache_hits - before.cache_hits,
        input_tokens=after.input_tokens - before.input_tokens,
        output_tokens=after.output_tokens - before.output_tokens,
        cached_tokens=after.cached_tokens - before.cached_tokens,
        cost_usd=round(after.cost_usd - before.cost_usd, 6),
        wall_seconds=round(wall_seconds, 3),
    )


__all__ = ["LLMEngine"]
