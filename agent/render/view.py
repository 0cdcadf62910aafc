"""The presentation model: a Digest turned into plain values the templates lay out.

Everything the HTML and the text templates show is decided here once (which links are safe,
how author lists are shortened, how degraded sections are explained), so the two parts say the
same thing. Values stay plain text; escaping is the HTML template's job (autoescape).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from agent.core.defang import defang
from agent.core.links import link_from
from agent.core.urls import http_or_relative, http_url
from agent.core.wording import join_phrases, plural
from agent.models import (
    CAUGHT_WORDS,
    OTHER_THEME,
    TOO_SLOW,
    BatchRun,
    CheckName,
    DegradedNote,
    Digest,
    ModelRun,
    Paper,
    SourceHealth,
    Theme,
    Usage,
)

MAX_TITLE_CHARS = 300  # longer titles are shortened in the email only
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAYS_LONG = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS_LONG = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_NAME_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "du", "le", "la", "bin"}
)
_STEP_LABELS = {
    "grouping": "Grouping into themes",
    "blurbs": "Paper blurbs",
    "headline": "The headline",
    "overview": "The overview",
    "repair": "Model output",
    "size": "Size",
    "source": "Sources",
    "rerank": "The relevance pass",
}
_REASON_MAX = 240
_OTHER = OTHER_THEME
PREHEADER_MAX = 100
IN_YOUR_LIBRARY = "in your library"  # a paper of the reader's library in today's feed


# --- small pure helpers (unit-tested) -------------------------------------------------------


def safe_url(url: str | None) -> str | None:
    """The url when it is an absolute http(s) link with a host, else None (never javascript:);
    for the archive's own links (paper links go through `agent.core.links.link_from`)."""
    return http_url(url)


def safe_href(href: str | None) -> str | None:
    """A link for the archive: http(s), or a relative path without a scheme; else None."""
    return http_or_relative(href)


def short_name(name: str) -> str:
    """'Alice B. Author' -> 'A. B. Author'; 'Author, Alice' -> 'A. Author'; one word stays."""
    name = " ".join(name.split())
    if "," in name:
        family, _, given = name.partition(",")
        tokens = given.split()
        family = family.strip()
    else:
        tokens = name.split()
        if len(tokens) < 2:
            return name
        cut = len(tokens) - 1
        while cut > 1 and tokens[cut - 1].lower() in _NAME_PARTICLES:
            cut -= 1
        family = " ".join(tokens[cut:])
        tokens = tokens[:cut]
    if not family:
        return name
    initials = [_initial(tok) for tok in tokens if tok]
    return " ".join([*initials, family]) if initials else family


def _initial(given: str) -> str:
    if given.endswith(".") and len(given) <= 3:
        return given  # already an initial
    parts = [p for p in given.split("-") if p]
    if not parts:
        return given
    return "-".join(p[0] + "." for p in parts)


def short_authors(authors: Iterable[str], *, limit: int = 3, keep: int = 2) -> str:
    """All authors (initials + family name) up to `limit`; beyond that the first `keep` et al."""
    names = [short_name(a) for a in authors if a and a.strip()]
    if len(names) > limit:
        return ", ".join(names[:keep]) + " et al."
    return ", ".join(names)


def format_date(date: dt.date, *, long: bool = False) -> str:
    """'Thu 26 Nov 2026' (or 'Thursday 26 November 2026'), independent of the locale."""
    if long:
        return f"{_DAYS_LONG[date.weekday()]} {date.day} {_MONTHS_LONG[date.month - 1]} {date.year}"
    return f"{_DAYS[date.weekday()]} {date.day} {_MONTHS[date.month - 1]} {date.year}"


def folded(text: str | None) -> str:
    """`text` with its whitespace folded to single spaces; "" for None (never clipped)."""
    return " ".join((text or "").split())


def prose(text: str | None) -> str:
    """Text a language model or the offline engine wrote, as every output shows it: folded,
    and with any address a mail client or chat app would link made inert (`evil[.]example`:
    `agent.core.defang`), so that links come only from the link policy."""
    return defang(folded(text))


def clip(text: str, limit: int) -> str:
    text = folded(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


MODEL_STEPS = frozenset({"grouping", "merge", "blurbs", "headline", "overview", "repair"})
OFFLINE_MARK = "offline"  # the small label on a paper whose blurb the offline engine wrote


OFFLINE_NO_MODEL = "no language model configured"
OFFLINE_ASKED = "asked for with --engine offline"  # as the terminal's first line says it


def engine_sentence(engine: str, run: ModelRun | None = None, *, offline_why: str = "") -> str:
    """The footer's plain statement of who wrote the digest (the model the server named; for
    the offline engine, why it was the one, when `offline_why` says)."""
    if engine == "offline":
        why = f" ({offline_why})" if offline_why else ""
        return f"Written by the offline engine{why}, which writes in English only."
    if run is not None:
        text = f"Written by the language model {run.model}"
        if run.offline_blurbs and run.offline_blurbs == run.blurbs:
            return (
                text
                + f"; the offline engine wrote all {plural(run.blurbs, 'paper summary', 'paper summaries')}."
            )
        if run.offline_blurbs:
            return (
                text + f"; the offline engine wrote {run.offline_blurbs} of the "
                f"{plural(run.blurbs, 'paper summary', 'paper summaries')} "
                f"(marked “{OFFLINE_MARK}”)."
            )
        return text + "."
    model = engine.split(":", 1)[1] if engine.startswith("llm:") else engine
    return f"Written by the language model {model}." if model else "Written by a language model."


_PLAIN_CAUGHT: dict[CheckName, str] = {
    "right_paper": "the model's summaries described the wrong papers",
    "numbers": "the model's summaries gave figures their abstracts do not",
    "says_something": "the model's summaries said nothing about their papers",
}


def plain_reason(reason: str) -> str:
    """Why a model step fell back, in words for a reader; the details stay in digest.json."""
    text = reason.lower()
    for check, words in CAUGHT_WORDS.items():  # the checks of what the model wrote: first, as
        if words in text:  # their reasons quote paper titles
            return _PLAIN_CAUGHT[check]
    if "cost cap" in text:
        return "the cost cap was reached"
    if TOO_SLOW in text:
        return "the local model was too slow to write it within the run's time budget"
    if "circuit open" in text or "time budget" in text:
        return "the model server had stopped answering"
    if any(k in text for k in ("http ", "timed out", "connection", "rejected every")):
        return "the model server did not answer"
    if "cut off" in text:
        return "the model's answer was cut off"
    if "refused" in text or "content filter" in text:
        return "the model declined"
    return "the model's answers were not usable"


def written_parts(theme: Theme) -> tuple[list[str], list[str]]:
    """What the offline engine wrote of a model digest's section, and what the model wrote,
    in words: "the title", "the summary", "2 of the 5 paper summaries (marked “offline”)"."""
    offline: list[str] = []
    model: list[str] = []
    if theme.title != _OTHER:  # "Other" is no one's title
        (offline if theme.title_engine == "offline" else model).append("the title")
    if theme.summary:
        (offline if theme.engine == "offline" else model).append("the summary")
    total = len(theme.papers)
    count = sum(p.engine == "offline" for p in theme.papers)
    if count and count == total:
        offline.append(
            "the paper summary"
            if total == 1
            else f"the {plural(total, 'paper summary', 'paper summaries')}"
        )
    elif count:
        summaries = plural(total, "paper summary", "paper summaries")
        offline.append(f"{count} of the {summaries} (marked “{OFFLINE_MARK}”)")
        other = total - count
        model.append(f"the other {plural(other, 'paper summary', 'paper summaries')}")
    elif total:
        model.append("the paper summaries" if total > 1 else "the paper summary")
    return offline, model


def degraded_sentence(notes: Iterable[DegradedNote], *, theme: Theme) -> str:
    """A grammatical sentence for a degraded theme that says exactly which of its parts the
    offline engine wrote (and which the model did), with the right count and a plain reason."""
    notes = list(notes)
    reasons = list(dict.fromkeys(plain_reason(n.reason) for n in notes)) or [
        "the model's answers were not usable"
    ]
    because = " and ".join(reasons)
    offline, model = written_parts(theme)
    if offline and not model:
        return f"The offline engine wrote this section because {because}."
    if offline:
        return (
            f"In this section the offline engine wrote {join_phrases(offline)} because {because}; "
            f"the language model wrote {join_phrases(model)}."
        )
    fallbacks = [n.fallback for n in notes if n.fallback.startswith("fallback model")]
    if fallbacks:
        return f"The {fallbacks[0]} wrote this section because {because}."
    return f"Parts of this section were repaired automatically because {because}."


def note_sentence(note: DegradedNote) -> str:
    """One digest-level fallback, said plainly (model internals stay in digest.json)."""
    if note.step in ("pace", "server"):  # already a sentence for the reader (the engine's)
        return clip(note.reason, 2 * _REASON_MAX)
    label = _STEP_LABELS.get(note.step, note.step.capitalize())
    where = "" if note.scope == "digest" else f" ({clip(prose(note.scope), 80)})"
    if note.step in MODEL_STEPS:
        reason = plain_reason(note.reason)
        if note.fallback.startswith("repaired"):
            return f"{label}{where} was repaired automatically because {reason}."
        return f"{label}{where} came from the {note.fallback} because {reason}."
    reason = clip(note.reason, _REASON_MAX)
    if note.fallback == "repaired":
        return f"{label}{where} was repaired automatically because {reason}."
    return f"{label}{where} came from the {note.fallback} because {reason}."


def offline_banner(digest: Digest) -> str | None:
    """'The offline engine wrote 6 of the 10 paper summaries …' when the model left some."""
    run = digest.model_run
    if run is None or not run.offline_blurbs:
        return None
    if run.offline_blurbs == run.blurbs:
        count = f"all {plural(run.blurbs, 'paper summary', 'paper summaries')}"
    else:
        count = (
            f"{run.offline_blurbs} of the {plural(run.blurbs, 'paper summary', 'paper summaries')}"
        )
    return (
        f"The language model {run.model} did not give usable answers for every paper: the "
        f"offline engine wrote {count} (marked “{OFFLINE_MARK}”). Details are in digest.json."
    )


def usage_parts(
    usage: Usage, *, cost_known: bool = True, batch: BatchRun | None = None, wall_time: bool = True
) -> list[str]:
    """'12 model calls (3 from cache)', '45,210 tokens in, 6,002 out', 'about $0.0123', '41.2 s'
    (the model's time, with `wall_time`), and how many answers came through the provider's
    Batch API when the run used it; 'no model calls' alone when no model was asked.

    With `cost_known` False (a model without a configured price, e.g. a local one) no
    estimate is given."""
    parts: list[str] = []
    if usage.calls or usage.cache_hits:
        calls = plural(usage.calls, "model call")
        if usage.cache_hits:
            calls += f" ({usage.cache_hits:,} from cache)"
        parts.append(calls)
        tokens = f"{usage.input_tokens:,} tokens in, {usage.output_tokens:,} out"
        if usage.cached_tokens:
            tokens += f" ({usage.cached_tokens:,} cached)"
        parts.append(tokens)
        if not cost_known:
            parts.append("no cost estimate (no price configured for this model)")
        else:
            parts.append(f"about ${usage.cost_usd:.4f}" if usage.cost_usd else "no cost recorded")
    else:
        return ["no model calls"]  # no model time to say ("0.0 s" read as the run's)
    if batch is not None and (batch.requests or batch.direct):
        parts.append(batch_part(batch, cost_known=cost_known))
    if wall_time:
        parts.append(f"{usage.wall_seconds:.1f} s")
    return parts


def batch_part(batch: BatchRun, *, cost_known: bool = True) -> str:
    """'9 of 10 answers through the provider's Batch API at 50% of the price ($0.0021 instead
    of $0.0042)'."""
    asked = batch.requests + batch.direct
    text = (
        f"{batch.requests:,} of {plural(asked, 'answer')} through the provider's Batch API "
        f"at {batch.price_factor:.0%} of the price"
    )
    if cost_known and batch.list_price_usd:
        text += f" (${batch.cost_usd:.4f} instead of ${batch.list_price_usd:.4f})"
    if batch.resumed:
        text += f"; {plural(batch.resumed, 'batch', 'batches')} picked up from an interrupted run"
    return text


def health_sentence(health: SourceHealth) -> str:
    note = f"; {clip(health.note, 240)}" if health.note else ""
    if health.status == "ok":
        return f"{health.name}: ok ({plural(health.count, 'paper')}{note})"
    if health.status == "empty":
        return f"{health.name}: nothing new{note}"
    reason = clip(health.reason or "unknown error", 160)
    return f"{health.name}: failed ({reason})"


# --- the view -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkView:
    label: str  # "Abstract", "PDF", "Code", "Hugging Face"
    url: str


@dataclass(frozen=True)
class PaperView:
    id: str
    title: str
    url: str | None
    authors: str
    blurb: str | None  # None when shortened to the title only
    why: str | None
    engine: str
    version: int | None = None
    picked: str | None = None  # why the selection picked it ("close to your library: …")
    links: tuple[LinkView, ...] = ()
    facts: str | None = None  # "74 upvotes · 86 stars", when the source says


def paper_links(paper: Paper) -> dict[str, str]:
    """The paper's links by kind: abstract, pdf, code, huggingface (only those known), each
    rebuilt from validated parts by the one link policy (`agent.core.links.link_from`): an
    arXiv, Hugging Face or Semantic Scholar paper, a GitHub or GitLab repository; anything
    else a source or a file says is dropped."""
    found = {
        "abstract": link_from(paper.url),
        "pdf": link_from(paper.pdf_url),
        "code": link_from(paper.code_url),
        "huggingface": link_from(paper.hf_url),
    }
    if found["abstract"] and found["abstract"] == found["huggingface"]:
        found["abstract"] = None  # a Hugging Face-only paper: its page is its abstract page
    return {kind: url for kind, url in found.items() if url}


_LINK_LABELS = {"abstract": "Abstract", "pdf": "PDF", "code": "Code", "huggingface": "Hugging Face"}


def paper_facts(paper: Paper, *, upvotes: bool = True) -> str | None:
    """'74 upvotes · 86 stars' from what the source reported; None when it reported nothing."""
    parts = []
    if paper.upvotes and upvotes:
        parts.append(plural(paper.upvotes, "upvote"))
    if paper.stars and paper.code_url:
        parts.append(plural(paper.stars, "star"))
    return " · ".join(parts) or None


@dataclass(frozen=True)
class ThemeView:
    anchor: str
    number: int
    title: str
    summary: str
    count: int
    papers: tuple[PaperView, ...]
    degraded: str | None  # the sentence explaining the fallback, when degraded


@dataclass(frozen=True)
class HealthView:
    name: str
    status: str
    sentence: str


@dataclass(frozen=True)
class DigestView:
    kind: str
    topic: str | None
    date_short: str
    date_long: str
    title: str  # the h1 / subject-like title
    headline: str
    overview: str | None
    preheader: str
    summary_line: str  # "30 papers in 7 themes"
    notices: tuple[str, ...]
    degraded_notes: tuple[str, ...]
    themes: tuple[ThemeView, ...]
    also_new: tuple[PaperView, ...]
    also_new_total: int
    also_label: str  # "Also new today" (daily) or "Also found" (topic)
    updated: tuple[PaperView, ...]
    engine_sentence: str
    usage: tuple[str, ...]
    mark_offline: bool  # a model digest marks the papers the offline engine wrote
    health: tuple[HealthView, ...]
    paper_count: int
    hint: tuple[TextPart, ...] = ()  # one footer line (how to personalise a cold-start digest)


@dataclass(frozen=True)
class TextPart:
    """A run of plain text, or of a name to type (`code`: <code> in HTML, plain in text)."""

    text: str
    code: bool = False


def code_parts(text: str) -> tuple[TextPart, ...]:
    """Our own `backticked` names as code parts (the email shows no Markdown); text with an
    unpaired backtick stays one plain part."""
    pieces = text.split("`")
    if len(pieces) % 2 == 0:
        return (TextPart(text),)
    return tuple(TextPart(p, code=i % 2 == 1) for i, p in enumerate(pieces) if p)


def offline_why(digest: Digest) -> str:
    """Why the offline engine wrote `digest`, as far as the digest tells: no model configured
    (its notice says so), else asked for; '' for a 'nothing new' note (nothing was written)."""
    from agent.summarize import NO_MODEL_NOTICE

    if NO_MODEL_NOTICE in digest.notices:
        return OFFLINE_NO_MODEL
    return OFFLINE_ASKED if digest.papers else ""


def shrink_order(digest: Digest) -> list[tuple[int, int]]:
    """(theme index, paper index) pairs, lowest-ranked first: last papers of the last themes."""
    order: list[tuple[int, int]] = []
    for ti in range(len(digest.themes) - 1, -1, -1):
        for pi in range(len(digest.themes[ti].papers) - 1, -1, -1):
            order.append((ti, pi))
    return order


def _paper_view(
    paper_id: str,
    papers: dict[str, Paper],
    *,
    blurb: str | None = None,
    why: str | None = None,
    engine: str = "offline",
    picked: str | None = None,
) -> PaperView:
    paper = papers.get(paper_id)
    if paper is None:
        return PaperView(paper_id, f"Paper {paper_id}", None, "", blurb, why, engine, picked=picked)
    return PaperView(
        id=paper.id,
        title=clip(folded(paper.title), MAX_TITLE_CHARS),  # digest.json keeps it whole
        url=link_from(paper.url) or link_from(paper.pdf_url) or link_from(paper.hf_url),
        authors=short_authors(paper.authors),
        blurb=blurb,
        why=why,
        engine=engine,
        version=paper.version,
        picked=picked,
        links=tuple(LinkView(_LINK_LABELS[k], u) for k, u in paper_links(paper).items()),
        # The "why here" line may already give the upvotes: say them once.
        facts=paper_facts(paper, upvotes="upvote" not in (picked or "")),
    )


def _theme_views(digest: Digest, shrunk: set[tuple[int, int]]) -> tuple[ThemeView, ...]:
    """Each theme with its papers (titles only for the `shrunk` ones) and its own notes."""
    notes_by_scope: dict[str, list[DegradedNote]] = {}
    for note in digest.degraded:
        notes_by_scope.setdefault(note.scope, []).append(note)
    themes: list[ThemeView] = []
    for ti, theme in enumerate(digest.themes):
        paper_views = tuple(
            _paper_view(
                pb.paper_id,
                digest.papers,
                blurb=None if (ti, pi) in shrunk else prose(pb.blurb),
                why=None if (ti, pi) in shrunk else (prose(pb.why_it_matters) or None),
                engine=pb.engine,
                picked=folded(digest.why.get(pb.paper_id)) or None,
            )
            for pi, pb in enumerate(theme.papers)
        )
        themes.append(
            ThemeView(
                anchor=f"theme-{ti + 1}",
                number=ti + 1,
                title=prose(theme.title),
                summary=prose(theme.summary),
                count=len(theme.papers),
                papers=paper_views,
                degraded=(
                    degraded_sentence(notes_by_scope.get(theme.title, ()), theme=theme)
                    if theme.degraded
                    else None
                ),
            )
        )
    return tuple(themes)


def _top_notes(digest: Digest) -> tuple[str, ...]:
    """Notes scoped to a theme are told in that theme; the rest (and the offline banner) near
    the top."""
    theme_titles = {t.title for t in digest.themes}
    banner = offline_banner(digest)
    return (
        *((banner,) if banner else ()),
        *(note_sentence(n) for n in digest.degraded if n.scope not in theme_titles),
    )


def _title(digest: Digest) -> str:
    """The topic, capitalised, for a topic digest; else "Today at a glance"."""
    topic = folded(digest.topic)
    if digest.kind == "topic" and topic:
        return topic[0].upper() + topic[1:]
    return "Today at a glance"


def _summary_line(digest: Digest) -> str:
    """'12 papers in 4 themes, 2 under Other, and 5 more listed by title' and its variants."""
    n_papers = digest.paper_count
    n_blurbed = n_papers - len(digest.also_new)
    if digest.unread:
        return "No papers: no source could be read."
    if n_papers == 0:
        return "No new papers."
    if not digest.themes:
        return f"{plural(n_papers, 'paper')}, listed by title"
    named = [t for t in digest.themes if t.title != _OTHER]
    other = sum(len(t.papers) for t in digest.themes if t.title == _OTHER)
    summary_line = f"{plural(n_blurbed, 'paper')} in {plural(len(named), 'theme')}"
    if other:  # said as the headline says it: Other is not one of the themes
        summary_line += f", {other:,} under Other" if named else ""
        if not named:
            summary_line = f"{plural(n_blurbed, 'paper')}, none in a clear theme"
    if digest.also_new:
        summary_line += f", and {len(digest.also_new):,} more listed by title"
    return summary_line


def build_view(
    digest: Digest,
    *,
    shrunk: Collection[tuple[int, int]] = frozenset(),
    also_new_limit: int | None = None,
    extra_notices: Iterable[str] = (),
) -> DigestView:
    """The digest as the templates see it; `shrunk` papers show their titles only."""
    yours = set(digest.yours)
    also_new = tuple(
        _paper_view(pid, digest.papers, picked=IN_YOUR_LIBRARY if pid in yours else None)
        for pid in digest.also_new
    )
    if also_new_limit is not None:
        also_new = also_new[:also_new_limit]
    headline = prose(digest.headline)
    return DigestView(
        kind=digest.kind,
        topic=folded(digest.topic) or None,
        date_short=format_date(digest.date),
        date_long=format_date(digest.date, long=True),
        title=_title(digest),
        headline=headline,
        overview=prose(digest.overview) or None,
        preheader=clip(headline, PREHEADER_MAX),
        summary_line=_summary_line(digest),
        notices=tuple(folded(n) for n in (*digest.notices, *extra_notices) if folded(n)),
        degraded_notes=_top_notes(digest),
        themes=_theme_views(digest, set(shrunk)),
        also_new=also_new,
        also_new_total=len(digest.also_new),
        also_label="Also found" if digest.kind == "topic" else "Also new today",
        updated=tuple(_paper_view(pid, digest.papers) for pid in digest.updated),
        engine_sentence=engine_sentence(
            digest.engine, digest.model_run, offline_why=offline_why(digest)
        ),
        usage=tuple(
            usage_parts(
                digest.usage,
                cost_known=digest.model_run.cost_known if digest.model_run else True,
                batch=digest.model_run.batch if digest.model_run else None,
            )
        ),
        mark_offline=digest.engine != "offline",
        health=tuple(HealthView(h.name, h.status, health_sentence(h)) for h in digest.health),
        paper_count=digest.paper_count,
        hint=code_parts(folded(digest.hint)),
    )
