"""Domain types shared by every stage (Pydantic v2, frozen)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from agent.core.safe_text import strip_hidden, visible_names

MAX_UPVOTES = 10_000_000
MAX_TITLE_CHARS = 10_000
MAX_ABSTRACT_CHARS = 10_000
EngineName = Literal["llm", "offline"]
DigestKind = Literal["daily", "topic"]
HealthStatus = Literal["ok", "empty", "failed"]


OTHER_THEME = "Other"  # the theme of papers that fit no other (not counted as a theme)


def clamp_count(value: object) -> int | None:
    """A count that is only a hint (upvotes, stars): non-numbers are ignored (a paper is never
    refused for one), negatives become 0, huge ones clamp (a 401-digit integer included)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if isinstance(value, int):
        return min(max(value, 0), MAX_UPVOTES)
    if isinstance(value, str):
        value = value.strip()
        if len(value) > 40:  # no count is written with more characters than this
            return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    if math.isnan(number):
        return None
    return int(min(max(number, 0), MAX_UPVOTES))


class Frozen(BaseModel):
    """Base for immutable domain values."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Paper(Frozen):
    """One paper as every stage sees it: cleaned text, ids without version."""

    id: str = Field(min_length=1)
    version: int | None = None
    title: str = Field(min_length=1)
    abstract: str = ""
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    primary_category: str | None = None
    url: str | None = None
    pdf_url: str | None = None
    published: dt.datetime | None = None
    updated: dt.datetime | None = None
    source: str = "unknown"
    upvotes: int | None = None
    announce_type: str | None = None
    code_url: str | None = None  # the code repository (GitHub/GitLab), when known
    stars: int | None = None  # the code repository's stars, when the source says
    hf_url: str | None = None  # the paper's Hugging Face page, for Hugging Face papers

    @field_validator("id", mode="before")
    @classmethod
    def _visible_id(cls, value: object) -> object:
        """Without hidden characters: an id is printed (the terminal, for `digest rate`) and
        written (the email, the feed) wherever its paper is, whatever source sent it."""
        return strip_hidden(value).strip() if isinstance(value, str) else value

    @field_validator("title", "abstract", mode="before")
    @classmethod
    def _visible_text(cls, value: object, info: ValidationInfo) -> object:
        """Without hidden characters, and of a length a real paper has: a title of more than
        MAX_TITLE_CHARS or an abstract of more than MAX_ABSTRACT_CHARS (arXiv's own limit is
        1,920) is cut, so that no later step works on megabytes a source sent as a title."""
        if not isinstance(value, str):
            return value
        text = strip_hidden(value).strip()
        limit = MAX_TITLE_CHARS if info.field_name == "title" else MAX_ABSTRACT_CHARS
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

    @field_validator("authors", mode="before")
    @classmethod
    def _visible_authors(cls, value: object) -> object:
        return visible_names(value)

    @field_validator("upvotes", "stars", mode="before")
    @classmethod
    def _clamp_count(cls, value: object) -> int | None:
        return clamp_count(value)


CheckName = Literal["right_paper", "numbers", "says_something"]
CheckStatus = Literal["passed", "asked_again", "sentence_dropped", "offline"]
# What each check says the blurbs it caught did, in a note's reason; the email's plain words
# for a fallback (`render.view.plain_reason`) are found by these phrases.
CAUGHT_WORDS: dict[CheckName, str] = {
    "right_paper": "described another paper",
    "numbers": "gave figures their abstract does not",
    "says_something": "said nothing about their paper",
}
# In the reason of each blurbs part a slow local server was not given (steps.budget_plan).
TOO_SLOW = "too slow for the run's time budget"


class BlurbCheck(Frozen):
    """One check of what the model wrote for a paper, and what came of it: `passed` (the
    model's blurb passed), `asked_again` (an answer was caught, a later one passed),
    `sentence_dropped` (the sentence with a figure the abstract does not give was dropped) or
    `offline` (the offline engine wrote the blurb instead). `caught` says what was caught."""

    name: CheckName
    status: CheckStatus
    caught: str | None = None


class PaperBlurb(Frozen):
    paper_id: str
    blurb: str = Field(min_length=1)
    why_it_matters: str | None = None
    engine: EngineName = "offline"
    checks: tuple[BlurbCheck, ...] = ()  # what was verified of a model's blurb (none offline)

    def check(self, name: CheckName) -> BlurbCheck | None:
        """This blurb's check `name`, when it had one."""
        return next((c for c in self.checks if c.name == name), None)


class Theme(Frozen):
    title: str = Field(min_length=1)
    summary: str = ""
    papers: tuple[PaperBlurb, ...] = ()
    engine: EngineName = "offline"  # who wrote the summary (each blurb says its own)
    title_engine: EngineName = "offline"  # who wrote the title (the grouping's engine)
    degraded: bool = False


class SourceHealth(Frozen):
    """How one source did in this run: ok, empty (nothing new) or failed (with the reason)."""

    name: str
    status: HealthStatus
    count: int = 0
    reason: str | None = None
    note: str | None = None  # what it could not read, or caught up (shown beside the count)


class DegradedNote(Frozen):
    """One place where the digest fell back or was repaired, and why."""

    step: str  # grouping, blurbs, headline, overview, repair, size, source
    scope: str = "digest"  # "digest" or a theme title
    reason: str
    fallback: str  # e.g. "fallback model", "offline engine", "repaired"


class Usage(Frozen):
    calls: int = 0
    cache_hits: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    wall_seconds: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls + other.calls,
            cache_hits=self.cache_hits + other.cache_hits,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 6),
            wall_seconds=round(self.wall_seconds + other.wall_seconds, 3),
        )


class BatchRun(Frozen):
    """How a run used the provider's Batch API (digest.json's "model.batch")."""

    batches: int = 0  # batches submitted by this run
    resumed: int = 0  # batches an earlier, interrupted run had submitted, collected here
    requests: int = 0  # model requests answered through a batch
    direct: int = 0  # requests sent as direct calls instead (re-asks, failed lines, deadline)
    price_factor: float = 0.5  # the batch price, as a fraction of the configured prices
    cost_usd: float = 0.0  # what the batched answers cost at the batch price
    list_price_usd: float = 0.0  # what they would have cost as direct calls
    notes: tuple[str, ...] = ()  # one line each: a fallback to direct calls and why


class ModelRun(Frozen):
    """How the language model took part in a run (digest.json's "model")."""

    model: str  # the model the server says answered (the answers' `model` field)
    requested: str  # the configured model name
    dialect: str | None = None  # the structured-output dialect used (auto picks one)
    blurbs: int = 0  # paper blurbs in the digest
    offline_blurbs: int = 0  # of those, written by the offline engine
    cost_known: bool = True  # False when a model had no price: no estimate is given
    batch: BatchRun | None = None  # set when the run went through the provider's Batch API
    # A local server's measured speed (output tokens a second) and the estimate it gave, after
    # the first call, of the calls left; None for a hosted model or when nothing was measured.
    tokens_per_second: float | None = None
    estimated_seconds: float | None = None


class Summary(Frozen):
    """What the summarize stage returns: themes with blurbs, the headline, and how it went."""

    themes: tuple[Theme, ...]
    headline: str
    overview: str | None = None
    engine: str = "offline"  # "offline" or a model description such as "llm:gpt-4o-mini"
    degraded: tuple[DegradedNote, ...] = ()
    usage: Usage = Usage()
    prompt_versions: dict[str, str] = Field(default_factory=dict)
    model_run: ModelRun | None = None


class Digest(Frozen):
    """One finished digest: what is rendered, written to digest.json and mailed."""

    kind: DigestKind
    date: dt.date
    topic: str | None = None
    engine: str
    headline: str
    overview: str | None = None
    themes: tuple[Theme, ...]
    also_new: tuple[str, ...] = ()  # paper ids over the size cap, listed by title only
    yours: tuple[str, ...] = ()  # ids in also_new of the reader's own papers (in the library)
    updated: tuple[str, ...] = ()  # ids of new versions of papers already digested
    papers: dict[str, Paper]  # every paper the digest mentions, by id
    health: tuple[SourceHealth, ...] = ()
    degraded: tuple[DegradedNote, ...] = ()
    notices: tuple[str, ...] = ()  # plain remarks for the reader (e.g. "offline engine")
    usage: Usage = Usage()
    prompt_versions: dict[str, str] = Field(default_factory=dict)
    why: dict[str, str] = Field(default_factory=dict)  # selected paper id -> why it is here
    hint: str | None = None  # one footer line, e.g. how to personalise a cold-start digest
    model_run: ModelRun | None = None

    @property
    def paper_count(self) -> int:
        """Distinct papers in the themes and in also_new (a repeated id counts once)."""
        ids = {b.paper_id for t in self.themes for b in t.papers}
        return len(ids.union(self.also_new))

    @property
    def unread(self) -> bool:
        """True for the note of a day on which no source could be read (no papers, every
        source failed): not 'no new papers', which nobody knows."""
        return (
            not self.paper_count
            and bool(self.health)
            and all(h.status == "failed" for h in self.health)
        )

    @property
    def shape(self) -> str:
        """'30 papers in 4 themes' (what was summarised), in words a reader expects."""
        papers = sum(len(t.papers) for t in self.themes)
        themes = sum(1 for t in self.themes if t.title != OTHER_THEME)
        other = papers - sum(len(t.papers) for t in self.themes if t.title != OTHER_THEME)
        text = (
            f"{papers} paper{'' if papers == 1 else 's'} "
            f"in {themes} theme{'' if themes == 1 else 's'}"
        )
        return f"{text}, {other} under {OTHER_THEME}" if other else text

    @property
    def shape_and_listed(self) -> str:
        """`shape`, then what is listed by title: '30 papers in 4 themes, 177 more listed by
        title'; with nothing summarised, 'no paper summarised, 207 listed by title'; with
        updates alone, 'no new papers, 1 updated paper'."""
        listed = len(self.also_new)
        if not listed and self.updated and not any(t.papers for t in self.themes):
            updated = len(self.updated)
            return f"no new papers, {updated:,} updated paper{'' if updated == 1 else 's'}"
        if not listed:
            return self.shape
        if not any(t.papers for t in self.themes):
            return f"no paper summarised, {listed:,} listed by title"
        return f"{self.shape}, {listed:,} more listed by title"
