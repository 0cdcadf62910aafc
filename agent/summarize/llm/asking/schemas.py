"""Structured outputs of the model steps: tight, built per call, strict-mode friendly.

A call's schema names the short ids that call's prompt defines (``P1``..``Pn`` for papers,
``T1``..``Tm`` for batch themes) as an enum, so the model cannot reference anything else and the
validator can check "each id exactly once". Every field is required (optional ones are
nullable, never defaulted) and objects forbid extra keys, as OpenAI strict mode wants.

Each strict model has a lenient twin (plain strings, no bounds, defaults) used only to salvage
the last answer after the re-asks ran out, so that the repair step can keep what is usable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    create_model,
    model_validator,
)

from agent.core.defang import defang, find_address
from agent.core.safe_text import strip_hidden
from agent.summarize.llm.asking import junk

MAX_THEMES = 8  # sections of one email: more is hard to read, and each costs a blurbs call
TITLE_CHARS = 80
SUMMARY_CHARS = 300
BLURB_CHARS = 420
BLURB_WORDS = 60
WHY_CHARS = 200
HEADLINE_CHARS = 500
OVERVIEW_CHARS = 900
QUERY_CHARS = 120
MIN_QUERIES, MAX_QUERIES = 2, 4


_TAG = re.compile(r"</?[A-Za-z!][^<>]{0,200}>")


def plain_prose(text: str) -> str:
    """The model writes plain words: no URLs, no domain, IP or email address a mail client
    would link (`agent.core.defang`), no HTML of its own (links come from sources)."""
    if find_address(text) or _TAG.search(text):
        raise ValueError(
            "must be plain text: no URLs, links or HTML tags, and no web or email addresses"
        )
    return text


def prose(text: str, info: ValidationInfo) -> str:
    """Plain words that say something: no links or tags, some letters, and not a copy of the
    prompt's instructions (`junk`, with the call's `JunkContext` as validation context).
    Control and hidden characters are dropped (an ESC would reach the terminal, a NUL or
    U+FFFF the feed), not asked again: they carry no words."""
    text = strip_hidden(text)
    plain_prose(text)
    problem = junk.no_words(text) or junk.copied_instructions(text, junk.context_of(info.context))
    if problem:
        raise ValueError(problem)
    return text


def scrubbed(text: str, info: ValidationInfo) -> str:
    """What salvage keeps of a text: the words without links, tags or hidden characters, and
    nothing at all when the text is junk (so the repair writes that part instead)."""
    text = " ".join(_TAG.sub(" ", defang(strip_hidden(text), drop_urls=True)).split())
    if junk.no_words(text) or junk.copied_instructions(text, junk.context_of(info.context)):
        return ""
    return text


def theme_prose(text: str, info: ValidationInfo) -> str:
    """A theme's title or summary: prose, and no id (nor an id in front: "P13: ..."). Checked
    with the field, so that the re-ask names it beside the field's other problems."""
    text = prose(text, info)
    what = "theme title" if info.field_name == "title" else "theme summary"
    problem = junk.theme_id_problem(text, junk.context_of(info.context).titles, what)
    if problem:
        raise ValueError(problem)
    return text


Prose = Annotated[str, AfterValidator(prose)]
ThemeProse = Annotated[str, AfterValidator(theme_prose)]
Scrubbed = Annotated[str, AfterValidator(scrubbed)]


def _untitled(schema: dict[str, Any]) -> None:
    """Drop the generated "title" keywords: they tell the model nothing the names do not, and
    every schema token is paid for on every call."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)


class Strict(BaseModel):
    """Base of the schemas sent to the model."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_untitled)


class Lenient(BaseModel):
    """Base of the salvage twins: take what is there, ignore the rest."""

    model_config = ConfigDict(extra="ignore")


def short_ids(prefix: str, count: int) -> tuple[str, ...]:
    """``("P1", "P2", ...)``: the ids a prompt gives its items."""
    return tuple(f"{prefix}{i}" for i in range(1, count + 1))


def _enum(ids: Sequence[str]) -> Any:
    if not ids:
        raise ValueError("a call needs at least one id")
    return Literal[tuple(ids)]  # type: ignore[valid-type]


def _validator(check: Callable[[Any, ValidationInfo], Any]) -> Callable[..., Any]:
    """`check` as an after-validator for `create_model`'s ``__validators__``. Pydantic takes the
    decorator's descriptor there, though its annotation says a plain callable: hence the cast."""
    return cast("Callable[..., Any]", model_validator(mode="after")(check))


def _quoted(ids: Sequence[str]) -> str:
    return ", ".join(ids)


def assignment_problems(groups: Sequence[tuple[str, Sequence[str]]], ids: Sequence[str]) -> str:
    """Why an assignment of ids to named groups is not "each id exactly once" ('' when it is)."""
    first_group: dict[str, str] = {}
    twice: dict[str, list[str]] = {}
    for title, members in groups:
        for member in members:
            if member in first_group:
                twice.setdefault(member, [first_group[member]]).append(title)
            else:
                first_group[member] = title
    missing = [i for i in ids if i not in first_group]
    problems = []
    if missing:
        problems.append(f"{_quoted(missing)} {'is' if len(missing) == 1 else 'are'} in no theme")
    for member, titles in twice.items():
        places = " and ".join(repr(t) for t in titles)
        problems.append(f"{member} is in {len(titles)} themes ({places})")
    if not problems:
        return ""
    return "; ".join(problems) + ". Put each id in exactly one theme."


# -- grouping and merge -------------------------------------------------------------------------


def max_themes_for(count: int) -> int:
    """How many themes `count` papers may form: one per four papers, at most MAX_THEMES (ten
    themes of two papers is not a digest, and every theme costs a blurbs call)."""
    return max(1, min(MAX_THEMES, math.ceil(count / 4)))


def grouping_schema(
    ids: Sequence[str], *, member: str = "paper_ids", max_themes: int = MAX_THEMES
) -> type[Strict]:
    """``{themes: [{title, summary, <member>: [id, ...]}]}`` over exactly `ids`, at most
    `max_themes` themes; `member` is ``paper_ids`` for grouping papers and ``theme_ids`` for
    merging batch themes."""
    name = "Grouping" if member == "paper_ids" else "Merge"
    # The member's name and its item type (a Literal of the ids) are only known at run time.
    members: dict[str, Any] = {member: (list[_enum(ids)], Field(min_length=1))}  # type: ignore[misc]
    theme = create_model(
        f"{name}Theme",
        __base__=Strict,
        title=(ThemeProse, Field(max_length=TITLE_CHARS)),
        summary=(ThemeProse, Field(max_length=SUMMARY_CHARS)),
        **members,
    )
    expected = tuple(ids)

    def each_once(self: Any, info: ValidationInfo) -> Any:
        groups = [(t.title, getattr(t, member)) for t in self.themes]
        context = junk.context_of(info.context)
        problems = [
            p
            for t in self.themes
            for text, what in ((t.title, "theme title"), (t.summary, "theme summary"))
            if (p := junk.copied_paper_title(text, getattr(t, member), context, what))
        ]
        if member == "paper_ids":  # a merge's members are themes, whose texts are not shown
            problems += [
                p for t in self.themes if (p := junk.one_papers_name(t.title, t.paper_ids, context))
            ]
        assignment = assignment_problems(groups, expected)
        if assignment:
            problems.append(assignment)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    return create_model(
        name,
        __base__=Strict,
        __validators__={"each_id_once": _validator(each_once)},
        themes=(list[theme], Field(min_length=1, max_length=max_themes)),  # type: ignore[valid-type]
    )


class LenientTheme(Lenient):
    title: Scrubbed = ""
    summary: Scrubbed | None = None
    paper_ids: list[str] = Field(default_factory=list)
    theme_ids: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_junk_title(self, info: ValidationInfo) -> LenientTheme:
        """An id, a paper id in front, or a paper's title: emptied, for the repair to write."""
        context = junk.context_of(info.context)
        ids, members = tuple(context.titles), self.paper_ids or self.theme_ids
        if junk.theme_text_problem(self.title, members, ids, context) or (
            self.paper_ids and junk.one_papers_name(self.title, self.paper_ids, context)
        ):
            self.title = ""
        summary = self.summary or ""
        if summary and junk.theme_text_problem(summary, members, ids, context, "theme summary"):
            self.summary = ""
        return self


class LenientGrouping(Lenient):
    themes: list[LenientTheme] = Field(default_factory=list)


# -- blurbs ---------------------------------------------------------------------------------------


def blurbs_schema(ids: Sequence[str]) -> type[Strict]:
    """``{summary, blurbs: [{paper_id, blurb, why_it_matters|null}]}`` over `ids`.

    Missing and duplicated blurbs are not schema errors: the step asks again for the missing
    papers only, and keeps the first of duplicates. An empty list is, and so is a blurb that
    says nothing about its paper (`junk.blurb_problems`: a title, no words, one blurb for two
    papers), and a summary that is an id or a paper's title. Whether a blurb is about the
    right paper and states only its abstract's figures is the step's check, after this."""
    blurb = create_model(
        "Blurb",
        __base__=Strict,
        paper_id=(_enum(ids), ...),
        blurb=(Prose, Field(max_length=BLURB_CHARS)),
        why_it_matters=(Prose | None, Field(max_length=WHY_CHARS)),
    )
    span = f"{ids[0]} to {ids[-1]}" if len(ids) > 1 else ids[0]

    def says_something(self: Any, info: ValidationInfo) -> Any:
        if not self.blurbs:
            raise ValueError(f"blurbs is empty: write one blurb for each id, {span}")
        context = junk.context_of(info.context)
        found = junk.blurb_problems([(b.paper_id, b.blurb) for b in self.blurbs], context)
        problems = list(dict.fromkeys(found.values()))
        summary = junk.theme_text_problem(self.summary, ids, ids, context, "summary")
        if summary:
            problems.append(summary)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    return create_model(
        "Blurbs",
        __base__=Strict,
        __validators__={"says_something": _validator(says_something)},
        summary=(Prose, Field(max_length=SUMMARY_CHARS)),
        blurbs=(list[blurb], Field(max_length=len(ids))),  # type: ignore[valid-type]
    )


class LenientBlurb(Lenient):
    paper_id: str = ""
    blurb: Scrubbed = ""
    why_it_matters: Scrubbed | None = None


class LenientBlurbs(Lenient):
    summary: Scrubbed | None = None
    blurbs: list[LenientBlurb] = Field(default_factory=list)
    _junk: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def junk(self) -> dict[str, str]:
        """{short id: why its blurb was emptied} (`junk.blurb_problems`)."""
        return self._junk

    @model_validator(mode="after")
    def _drop_junk(self, info: ValidationInfo) -> LenientBlurbs:
        """Blurbs that say nothing about their paper are emptied (the step asks again for
        those papers), and so is a summary that is an id or a paper's title."""
        context = junk.context_of(info.context)
        pairs = [(entry.paper_id, entry.blurb) for entry in self.blurbs if entry.blurb]
        self._junk = junk.blurb_problems(pairs, context)
        for entry in self.blurbs:
            if entry.paper_id in self._junk:
                entry.blurb = ""
        ids = tuple(context.titles)
        if self.summary and junk.theme_text_problem(self.summary, ids, ids, context, "summary"):
            self.summary = ""
        return self


# -- short texts ----------------------------------------------------------------------------------


class Headline(Strict):
    headline: Prose = Field(max_length=HEADLINE_CHARS)

    @model_validator(mode="after")
    def _says_something(self, info: ValidationInfo) -> Headline:
        """Not bare, and naming only what the digest has (the context's `facts`)."""
        self.headline = junk.without_section_label(self.headline)  # the email shows the label
        problem = junk.bare_headline(self.headline) or junk.ungrounded_names(
            self.headline, junk.context_of(info.context)
        )
        if problem:
            raise ValueError(problem)
        return self


class LenientHeadline(Lenient):
    headline: Scrubbed

    @model_validator(mode="after")
    def _drop_bare(self, info: ValidationInfo) -> LenientHeadline:
        """The sentences that name what the digest does not have are dropped; a headline
        that says nothing is emptied (the offline engine writes it)."""
        self.headline = junk.without_section_label(self.headline)
        self.headline = junk.without_ungrounded(self.headline, junk.context_of(info.context))
        if junk.bare_headline(self.headline):
            self.headline = ""
        return self


class Overview(Strict):
    overview: Prose = Field(max_length=OVERVIEW_CHARS)

    @model_validator(mode="after")
    def _grounded(self, info: ValidationInfo) -> Overview:
        """Naming only what the digest has (the context's `facts`), as the headline."""
        problem = junk.ungrounded_names(self.overview, junk.context_of(info.context), "overview")
        if problem:
            raise ValueError(problem)
        return self


class LenientOverview(Lenient):
    overview: Scrubbed

    @model_validator(mode="after")
    def _drop_ungrounded(self, info: ValidationInfo) -> LenientOverview:
        """The sentences that name what the digest does not have are dropped."""
        self.overview = junk.without_ungrounded(self.overview, junk.context_of(info.context))
        return self


class Queries(Strict):
    queries: list[Annotated[str, Field(max_length=QUERY_CHARS)]] = Field(
        min_length=MIN_QUERIES, max_length=MAX_QUERIES
    )

    @model_validator(mode="after")
    def _on_topic(self, info: ValidationInfo) -> Queries:
        problem = junk.off_topic_queries(self.queries, junk.context_of(info.context).topic)
        if problem:
            raise ValueError(problem)
        return self


class LenientQueries(Lenient):
    queries: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _drop_off_topic(self, info: ValidationInfo) -> LenientQueries:
        topic = junk.context_of(info.context).topic
        if junk.off_topic_queries(self.queries, topic):
            self.queries = [q for q in self.queries if not junk.off_topic_queries([q], topic)]
        return self


# -- relevance scores -----------------------------------------------------------------------------


# The score as the eleven values it may take: a grammar-constrained local server enforces an enum,
# while llama-cpp-python's server ignores ``minimum``/``maximum`` (SmolLM2 answered scores above
# 10 there and every re-ask failed: evals/README.md, "With a model").
SCORES = tuple(range(11))
_SCORE: Any = Literal[SCORES]  # type: ignore[valid-type]


def rerank_schema(ids: Sequence[str]) -> type[Strict]:
    """``{scores: [{id, score 0..10}]}`` over `ids`: at least one score (``minItems``, which a
    grammar-constrained server enforces too: an empty list is asked again and never cached); a
    missing score is not an error (that paper keeps its offline place)."""
    item = create_model("Score", __base__=Strict, id=(_enum(ids), ...), score=(_SCORE, ...))
    return create_model(
        "Rerank",
        __base__=Strict,
        scores=(list[item], Field(min_length=1, max_length=len(ids))),  # type: ignore[valid-type]
    )


__all__ = [
    "BLURB_CHARS",
    "BLURB_WORDS",
    "HEADLINE_CHARS",
    "MAX_THEMES",
    "OVERVIEW_CHARS",
    "SUMMARY_CHARS",
    "TITLE_CHARS",
    "WHY_CHARS",
    "Headline",
    "LenientBlurbs",
    "LenientGrouping",
    "LenientHeadline",
    "LenientOverview",
    "LenientQueries",
    "Overview",
    "Queries",
    "assignment_problems",
    "blurbs_schema",
    "grouping_schema",
    "max_themes_for",
    "rerank_schema",
    "short_ids",
]
