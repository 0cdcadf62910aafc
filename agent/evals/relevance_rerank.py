"""The optional `[llm] rerank` on the relevance benchmark (`digest eval --relevance --rerank`).

For each relevance case, day 1 as the benchmark ranks it (the shipped ranker, the whole day,
library only), then the configured model's rerank of the top `[llm] rerank_candidates` of that
order, as a daily run does it: the same engine call (`LLMEngine.rerank`) on the case's library
titles, interests and `not_interested`, and the same stable reorder (`agent.select.rerank`).
A model that fails leaves the offline order, with the engine's note. The answers go through
the response cache of the home's store, so a second run asks nothing. The day-6 sessions stay
offline: they rate what the offline ranker shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.config import Settings
from agent.evals.relevance import Measure, RelevanceCase, measure
from agent.evals.sessions import day_one_order
from agent.models import DegradedNote, Usage
from agent.select.rerank import reordered
from agent.store import ModelStore

if TYPE_CHECKING:
    from agent.summarize.llm import AdaptiveLimit, UsageMeter


@dataclass(frozen=True)
class RerankedDay:
    """One case's day 1: offline, and after the model's rerank of the top candidates."""

    case: RelevanceCase
    offline: Measure
    reranked: Measure  # the offline order again when the model scored nothing
    candidates: int  # papers sent to the model
    scored: int  # papers the model gave a score
    notes: tuple[DegradedNote, ...] = ()  # the engine's: a batch that fell back, and why

    @property
    def applied(self) -> bool:
        return self.scored > 0


@dataclass(frozen=True)
class RerankRun:
    days: tuple[RerankedDay, ...]
    model: str  # the model the answers name (else the configured one)
    usage: Usage  # calls, cache hits, tokens and cost of every case's rerank
    cost_known: bool  # False when the model has no configured price


async def rerank_day(
    case: RelevanceCase,
    settings: Settings,
    store: ModelStore | None,
    *,
    meter: UsageMeter | None = None,
    limit: AdaptiveLimit | None = None,
) -> tuple[RerankedDay, str]:
    """One case's day 1 reranked by the model, and the model that answered."""
    from agent.pipeline.pick import rerank_input
    from agent.summarize.llm import LLMEngine

    order = day_one_order(case)
    count = settings.llm.rerank_candidates
    by_id = {p.id: p for p in case.papers}
    pool = order[:count]
    engine = LLMEngine(settings.llm, store, meter=meter, limit=limit)
    scores, notes = await engine.rerank(rerank_input(case.interests, [by_id[p] for p in pool]))
    ranked = [*reordered(pool, scores), *order[count:]] if scores else order
    day = RerankedDay(
        case,
        offline=measure(order, case.on_subject, case.k),
        reranked=measure(ranked, case.on_subject, case.k),
        candidates=len(pool),
        scored=len([pid for pid in pool if pid in scores]),
        notes=tuple(notes),
    )
    return day, engine.answered_model


async def rerank_days(
    cases: Sequence[RelevanceCase], settings: Settings, store: ModelStore | None
) -> RerankRun:
    """Every case's day 1 reranked by the configured model, on one budget, meter and rate
    limit (as the engines of one daily run share them)."""
    from agent.summarize.llm import UsageMeter, configured_model, run_budget, run_limit

    meter = UsageMeter(settings.llm.prices, run_budget(settings.llm))
    limit = run_limit(settings.llm)
    days: list[RerankedDay] = []
    models: list[str] = []
    for case in cases:
        day, model = await rerank_day(case, settings, store, meter=meter, limit=limit)
        days.append(day)
        models.append(model)
    model = max(set(models), key=models.count) if models else configured_model(settings)
    return RerankRun(tuple(days), model, meter.total(), meter.cost_known)


async def rerank_benchmark(settings: Settings, cases: Sequence[RelevanceCase]) -> RerankRun:
    """`rerank_days` on the home's store (its response cache: a second run asks nothing)."""
    from agent.store import Store

    store = Store.open(settings.home)
    try:
        return await rerank_days(cases, settings, store)
    finally:
        store.close()


__all__ = ["RerankRun", "RerankedDay", "rerank_benchmark", "rerank_day", "rerank_days"]
