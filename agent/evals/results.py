"""What one eval run of one case produced, and the scores it got: the JSONL record."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from agent.models import Summary, Usage


@dataclass(frozen=True)
class Score:
    """One scorer's verdict on one result: a number and a reason a person can check."""

    name: str
    value: float
    reason: str = ""


class JudgeVerdict(BaseModel):
    """The model-graded scores of one blurb (1 to 5, with reasons)."""

    model_config = ConfigDict(frozen=True)

    paper_id: str
    faithfulness: int = Field(ge=1, le=5)
    faithfulness_reason: str = ""
    clarity: int = Field(ge=1, le=5)
    clarity_reason: str = ""


class CaseResult(BaseModel):
    """One (variant, case, repeat): the summary or the error, what it cost, and its scores.

    `seconds` is the latency compared: for the model engine, the summed time of its model calls,
    where a cached answer counts the time its fresh call took (remembered in DIGEST_HOME), so a
    cached eval is compared on the latency the prompts really have, whatever the concurrency;
    for the offline engine, its wall time. `wall_seconds` is this run's wall time. Token counts
    are estimated with tiktoken from the messages and answers, cached or not, so they measure
    the prompt, not the cache.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    variant: str  # "baseline", "candidate" or "offline"
    case: str
    repeat: int = 0
    engine: str = "offline"
    summary: Summary | None = None
    error: str | None = None
    seconds: float = 0.0
    wall_seconds: float = 0.0
    latency_source: str = "wall time"
    usage: Usage = Usage()  # as the engine reported it (cache hits cost no tokens)
    tokens_in: int = 0  # estimated with tiktoken, cache or not
    tokens_out: int = 0
    cost_usd: float = 0.0  # estimated from tokens_in/out and the price table
    answers: int = 0  # model answers seen (cached or not)
    cached_answers: int = 0
    invalid_answers: int = 0  # answers that did not validate against their schema
    invalid_example: str | None = None
    judge: tuple[JudgeVerdict, ...] | None = None
    judge_error: str | None = None
    scores: tuple[Score, ...] = ()

    def score(self, name: str) -> Score | None:
        return next((score for score in self.scores if score.name == name), None)

    def blurbs(self) -> dict[str, str]:
        """paper id -> blurb (the first one when the output repeats an id)."""
        out: dict[str, str] = {}
        for theme in self.summary.themes if self.summary else ():
            for item in theme.papers:
                out.setdefault(item.paper_id, item.blurb)
        return out


__all__ = ["CaseResult", "JudgeVerdict", "Score"]
