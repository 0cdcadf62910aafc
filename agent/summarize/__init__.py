"""The summarize stage: themes, blurbs and a headline, from the model engine or the offline one.

`llm/` is the model engine (use its public names: `from agent.summarize.llm import ...`),
`offline/` the offline engine (also the model engine's last fallback), `drafts` the theme
draft both share. This module picks the engine and runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from agent.config import EngineChoice, Settings
from agent.errors import ConfigError
from agent.models import Paper, Summary

if TYPE_CHECKING:
    from agent.store import Store
    from agent.summarize.llm import Budget

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
    if settings.llm_configured:
        from agent.summarize.llm import configured_model

        return EngineDecision("llm", f"language model {configured_model(settings)}")
    if choice == "llm":
        raise ConfigError(
            "--engine llm needs a model: set OPENAI_API_KEY (or DIGEST_LLM__API_KEY) or "
            "llm.base_url for a local OpenAI-compatible server"
        )
    return EngineDecision("offline", NO_MODEL_NOTICE)


def summarize(
    papers: Sequence[Paper],
    *,
    decision: EngineDecision,
    settings: Settings,
    store: Store | None,
    topic: str | None = None,
    use_cache: bool = True,
    progress: Callable[[str], None] | None = None,
    batch: bool = False,
    budget: Budget | None = None,
) -> Summary:
    """Run the chosen engine. The model engine falls back to the offline one by itself;
    `progress` hears the model stage's calls done / planned and the time left. `batch` lets
    the model engine use the provider's Batch API when `llm.batch` asks for it; `budget` is
    the run's (the model engine makes one from the settings without it)."""
    if decision.kind == "llm":
        from agent.summarize.llm import LLMEngine

        engine = LLMEngine(
            settings, store, use_cache=use_cache, progress=progress, batch=batch, budget=budget
        )
        return engine.summarize(papers, topic=topic)
    from agent.summarize.offline import OfflineEngine

    return OfflineEngine().summarize(papers, topic=topic)
