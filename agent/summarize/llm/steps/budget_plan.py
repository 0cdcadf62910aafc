"""Fit a day's blurbs into the run's time at a slow local server's measured speed.

After the first call (the grouping) the server's speed is known (`run.pace`). The calls left
(a blurbs call per theme part, the headline, a topic's overview) are sized as they will be
asked, and their time estimated at that speed. When that passes what is left of the run's time
budget (`llm.run_budget_seconds`, less a margin), the blurbs are asked shorter
(SHORT_BLURB_WORDS words); when even that does not fit, the parts holding the lowest-ranked
papers are left to the offline engine, so the digest is complete on time. Each choice is a
DegradedNote the email and digest.json carry, and the log says it when it is made.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from agent.core.wording import duration, plural
from agent.models import TOO_SLOW, DegradedNote
from agent.summarize.llm.chat import ChatModel
from agent.summarize.llm.errors import BudgetExceeded
from agent.summarize.llm.run.pace import Pace
from agent.summarize.llm.steps.blurbs import SHORT_BLURB_WORDS, Blurbed, BlurbJob, BlurbWriter

MARGIN = 0.85  # of the time left: answers vary, and the offline engine and rendering follow


@dataclass
class TimePlan:
    """What the measured speed made the run do; empty for a hosted model or before a call."""

    seconds: float | None = None  # the estimate of the calls left, as planned
    speed: str = ""  # "7.4 tokens/s"
    left_out: frozenset[tuple[int, int]] = frozenset()  # (theme, part) the offline engine writes
    notes: list[DegradedNote] = field(default_factory=list)
    said: list[str] = field(default_factory=list)  # lines for the log

    def leaves_out(self, job: BlurbJob) -> bool:
        """Whether the plan gave `job` to the offline engine."""
        return (job.theme, job.part) in self.left_out

    def guard(
        self, write: Callable[[ChatModel, BlurbJob], Awaitable[Blurbed]]
    ) -> Callable[[ChatModel, BlurbJob], Awaitable[Blurbed]]:
        """`write`, except for the parts left out: those fail at once, with no call made, so
        the chain gives them to the offline engine."""
        if not self.left_out:
            return write

        async def guarded(model: ChatModel, job: BlurbJob) -> Blurbed:
            if self.leaves_out(job):
                raise BudgetExceeded(
                    f"{model.name}: {TOO_SLOW} (at {self.speed}, left to the offline engine)"
                )
            return await write(model, job)

        return guarded


def plan_time(
    pace: Pace | None,
    jobs: Sequence[BlurbJob],
    writer: BlurbWriter,
    texts: Callable[[], Sequence[tuple[int, int]]],
    ranked: Sequence[str],
    *,
    seconds_left: float,
    concurrency: int,
    calls_per_planned: float = 1.0,
) -> TimePlan:
    """The plan for `jobs` and the short `texts` (headline, overview: their sizes) at `pace`;
    `ranked` is the papers' ids, best first. Sets `writer.words` when blurbs must be shorter.
    `calls_per_planned` (at least 1) is how many calls this server needed per planned one on
    earlier runs: each planned call is expected to cost that many."""
    rates = pace.rates() if pace is not None else None
    if pace is None or rates is None or math.isinf(seconds_left):
        return TimePlan()
    speed = f"{rates.write:.1f} tokens/s"
    slots = max(1, concurrency)
    factor = max(1.0, calls_per_planned)
    sizes = list(texts())
    text_seconds = factor * sum(pace.seconds_for(*size) or 0.0 for size in sizes)

    def job_seconds() -> list[float]:
        return [factor * (pace.seconds_for(*writer.size(job)) or 0.0) for job in jobs]

    costs = job_seconds()
    needed = (text_seconds + sum(costs)) / slots
    calls = plural(len(jobs) + len(sizes), "model call") + " left"
    if factor > 1:
        expected = math.ceil(factor * (len(jobs) + len(sizes)))
        calls += f" (about {expected} with re-asks, as on earlier runs)"
    said = [f"the local model writes {speed}: the {calls} take about {duration(needed)}"]
    room = max(0.0, seconds_left) * MARGIN
    if needed <= room:
        return TimePlan(needed, speed, said=said)
    over = (
        f"At {speed}, the local model would have needed about {duration(needed)} for this "
        f"digest, more than the {duration(seconds_left)} left of the run's time budget "
        "(llm.run_budget_seconds)"
    )
    writer.words = SHORT_BLURB_WORDS
    costs = job_seconds()
    short = (text_seconds + sum(costs)) / slots
    if short <= room:
        told = f"{over}: it was asked for blurbs of at most {SHORT_BLURB_WORDS} words."
        return TimePlan(short, speed, notes=[_note(told, "shorter blurbs")], said=[*said, told])
    rank = {paper_id: index for index, paper_id in enumerate(ranked)}
    order = sorted(
        range(len(jobs)), key=lambda k: min(rank.get(p.id, len(rank)) for p in jobs[k].papers)
    )
    used, kept = text_seconds, set()
    for k in order:
        if (used + costs[k]) / slots <= room:
            kept.add(k)
            used += costs[k]
    out = [jobs[k] for k in range(len(jobs)) if k not in kept]
    if kept:
        papers = plural(sum(len(job.papers) for job in out), "lowest-ranked paper")
        told = (
            f"{over}: it was asked for blurbs of at most {SHORT_BLURB_WORDS} words, and the "
            f"offline engine wrote those of the {papers}."
        )
    else:
        told = f"{over}: the offline engine wrote every blurb."
    return TimePlan(
        used / slots,
        speed,
        left_out=frozenset((job.theme, job.part) for job in out),
        notes=[_note(told, "shorter blurbs, fewer by the model")],
        said=[*said, told],
    )


def _note(reason: str, fallback: str) -> DegradedNote:
    return DegradedNote(step="pace", reason=reason, fallback=fallback)


__all__ = ["MARGIN", "TimePlan", "plan_time"]
