"""The run context: one object per run of a command, made once by the command and passed to
every step of the pipeline, which takes it and its own inputs, nothing else.

A `Run` holds the command's settings, the open store, the digest date, the engine decision,
whether model answers may come from the cache, the progress line and the clock; and, made at
the run's first model work, the model budget, rate limit and context window every engine of the
run draws on (the relevance pass, the shared blurbs and each reader's digest alike).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.config import Settings
from agent.store import Store
from agent.summarize import EngineDecision

if TYPE_CHECKING:
    from agent.summarize.llm import AdaptiveLimit, Budget, ContextWindow, LLMEngine

Progress = Callable[[str], None]
Clock = Callable[[], float]


def ignore(_: str) -> None:
    """A progress line nobody shows."""
    return


class ModelShare:
    """The run's model budget, rate limit and context window, made at the first model work
    (the budget's seconds count from there, not from the fetch) and then the same for every
    engine."""

    def __init__(self) -> None:
        self._budget: Budget | None = None
        self._limit: AdaptiveLimit | None = None
        self._window: ContextWindow | None = None

    def budget(self, settings: Settings, clock: Clock) -> Budget:
        if self._budget is None:
            from agent.summarize.llm import run_budget

            self._budget = run_budget(settings.llm, clock=clock)
        return self._budget

    def limit(self, settings: Settings) -> AdaptiveLimit:
        if self._limit is None:
            from agent.summarize.llm import run_limit

            self._limit = run_limit(settings.llm)
        return self._limit

    def window(self, settings: Settings) -> ContextWindow:
        if self._window is None:
            from agent.summarize.llm import run_window

            self._window = run_window(settings.llm)
        return self._window


@dataclass(frozen=True)
class Run:
    """One run of a command (`daily`, `topic`): what every step of it shares."""

    settings: Settings  # the command's (a named reader's own are `Reader.settings`)
    store: Store
    date: dt.date
    engine: EngineDecision
    use_cache: bool = True  # False: --no-cache (model answers and blurbs are asked anew)
    progress: Progress = ignore
    clock: Clock = time.monotonic
    models: ModelShare = field(default_factory=ModelShare)

    def said(self, prefix: str) -> Run:
        """This run with its progress lines prefixed (one reader's steps: 'alice: ...')."""
        if not prefix:
            return self
        progress = self.progress
        return dataclasses.replace(self, progress=lambda text: progress(f"{prefix}{text}"))

    @property
    def budget(self) -> Budget | None:
        """The run's model budget; None for the offline engine."""
        return self.models.budget(self.settings, self.clock) if self.engine.kind == "llm" else None

    def model_engine(
        self, settings: Settings, *, progress: Progress | None = None, batch: bool = False
    ) -> LLMEngine:
        """A model engine of this run for `settings` (a reader's, for their language): the
        run's store, cache choice, budget and rate limit. `batch`: it may use the Batch API."""
        from agent.summarize.llm import LLMEngine

        return LLMEngine(
            settings.llm,
            self.store,
            use_cache=self.use_cache,
            progress=progress,
            batch=batch,
            budget=self.models.budget(self.settings, self.clock),
            limit=self.models.limit(self.settings),
            window=self.models.window(self.settings),
        )

    def summarizer(
        self, settings: Settings, progress: Progress, *, batch: bool
    ) -> LLMEngine | None:
        """The engine `summarize` runs: this run's model engine, or None for the offline one."""
        if self.engine.kind != "llm":
            return None
        return self.model_engine(settings, progress=progress, batch=batch)


@contextmanager
def open_run(
    settings: Settings,
    date: dt.date,
    engine: EngineDecision,
    *,
    use_cache: bool = True,
    progress: Progress = ignore,
) -> Iterator[Run]:
    """The store of `settings.home` opened for one run, and the run's context; the store is
    closed when the block ends. (A run that writes holds the run lock around this.)"""
    with Store.open(settings.home) as store:
        yield Run(settings, store, date, engine, use_cache, progress)


__all__ = ["Clock", "ModelShare", "Progress", "Run", "ignore", "open_run"]
