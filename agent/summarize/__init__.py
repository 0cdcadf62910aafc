"""The summarize stage: themes, blurbs and a headline, from the model engine or the offline one.

`llm/` is the model engine (use its public names: `from agent.summarize.llm import ...`),
`offline/` the offline engine (also the model engine's last fallback), `drafts` the theme
draft both share. This module picks the engine and runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from agent.config import EngineChoice, Settings, model_needed
from agent.models import Paper, Summary

if TYPE_CHECKING:
    from agent.summarize.llm import LLMEngine

EngineKind = Literal["llm", "offline"]

NO_MODEL_NOTICE = (
    "No language model is configured (no OPENAI_API_KEY or llm.base_url), so the offline "
    "engine grouped the papers and wrote the blurbs."
)


@dataclass(frozen=True)
class EngineDecision:
    kind: EngineKind
    reason: str


def choose_engine(choice: EngineChoice, settings: Settings) -> EngineDecision:
    """auto: the model when a key or base URL is configured, else offline. Says which and why."""
    if choice == "offline":
        return EngineDecision("offline", "offline engine (asked for with --engine offline)")
    if settings.llm.configured:
        from agent.summarize.llm import configured_model

        return EngineDecision("llm", f"language model {configured_model(settings)}")
    if choice == "llm":
        raise model_needed("--engine llm")
    return EngineDecision("offline", NO_MODEL_NOTICE)


async def summarize(
    papers: Sequence[Paper],
    engine: LLMEngine | None,
    *,
    topic: str | None = None,
    total: int | None = None,
) -> Summary:
    """The stage's entry point: the model `engine` of the run when there is one (it falls back
    to the offline engine by itself, per step and part), else the offline engine. `total` is
    how many papers `papers` were chosen from (the day's new papers, a topic's matches), so the
    headline does not call the summarised ones all there were."""
    if engine is not None:
        return await engine.summarize(papers, topic=topic, total=total)
    from agent.summarize.offline import OfflineEngine

    return OfflineEngine().summarize(papers, topic=topic, total=total)
