"""`digest topic "…"`: find papers on a topic, then the same summarize and render stages."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agent.config import EngineChoice, Settings
from agent.errors import ConfigError
from agent.models import Digest, Paper, SourceHealth, Usage
from agent.pipeline import Progress, build_digest, fetch_all, model_budget
from agent.select import Interests, ReaderProfile, Selection, rank
from agent.select.reader import build_profile
from agent.select.search import STOP_WORDS, Ranked, rank_papers
from agent.sources import FetchContext
from agent.sources.local import is_sample
from agent.store import Store
from agent.summarize import NO_MODEL_NOTICE, choose_engine, summarize
from agent.wording import plural

if TYPE_CHECKING:
    from agent.summarize.llm import Budget

DEFAULT_TOPIC_SOURCES = ("local", "arxiv")  # the demo day only when asked: --source sample
_SINCE = re.compile(r"^(\d+)\s*([dwmy])$")
_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
TOPIC_WHY = "matches the topic"


@dataclass(frozen=True)
class TopicOptions:
    query: str
    since: str | None = "30d"
    sources: tuple[str, ...] = ()
    max_papers: int = 20
    engine: EngineChoice = "auto"
    use_cache: bool = True
    today: dt.date | None = None
    send: bool = False  # checked up front: no work is done when it cannot be sent
    library: tuple[Path, ...] = ()  # --library files, beside the config's `library`
    reader: str = ""  # --reader: whose ratings rank, whose archive folder and sent ledger


@dataclass(frozen=True)
class TopicOutcome:
    digest: Digest | None
    health: tuple[SourceHealth, ...]
    queries: tuple[str, ...]
    message: str
    engine_reason: str
    seconds: float


def parse_since(value: str | None, today: dt.date) -> dt.date | None:
    """'30d', '2w', '6m', '1y' or a date YYYY-MM-DD; None means no lower bound."""
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    match = _SINCE.match(text)
    try:
        if match:
            return today - dt.timedelta(days=int(match.group(1)) * _DAYS[match.group(2)])
        return dt.date.fromisoformat(text)
    except (ValueError, OverflowError):
        raise ConfigError(
            f"--since {value!r}: use a span like 30d, 2w, 6m, 1y or a date YYYY-MM-DD"
        ) from None


def arxiv_query(topic: str) -> str:
    """An arXiv API search_query for a topic: the phrase in title or abstract, or its key words."""
    words = re.findall(r"[\w-]+", topic)
    phrase = " ".join(words)
    if len(words) <= 4:
        return f'ti:"{phrase}" OR abs:"{phrase}"'
    keys = list(dict.fromkeys(w for w in words if w.lower() not in STOP_WORDS))[:8]
    return " AND ".join(f"all:{word}" for word in keys)


def source_specs(requested: Sequence[str], queries: Sequence[str]) -> list[str]:
    """Expand a bare `arxiv` into one arXiv API search per query."""
    specs: list[str] = []
    for spec in requested or DEFAULT_TOPIC_SOURCES:
        if spec == "arxiv":
            specs.extend(f"arxiv:{arxiv_query(query)}" for query in queries)
        else:
            specs.append(spec)
    return list(dict.fromkeys(specs))


def _expand(
    settings: Settings, store: Store, query: str, use_cache: bool, budget: Budget | None
) -> tuple[list[str], Usage]:
    """The topic first, then the model's 2-4 search queries for it; and what that call cost."""
    from agent.summarize.llm import LLMEngine

    engine = LLMEngine(settings, store, use_cache=use_cache, budget=budget)
    expanded = [q.strip() for q in asyncio.run(engine.expand_query(query)) if q.strip()]
    return list(dict.fromkeys([query, *expanded]))[:5], engine.meter.total()


def _searched(health: Sequence[SourceHealth]) -> str:
    """Source names for a sentence: 'sample, arxiv (3 queries)'."""
    names: dict[str, int] = {}
    for item in health:
        short = "arxiv" if item.name.startswith("arxiv:") else item.name
        names[short] = names.get(short, 0) + 1
    return ", ".join(f"{n} ({c} queries)" if c > 1 else n for n, c in names.items())


def _recent(papers: Sequence[Paper], since: dt.date | None) -> list[Paper]:
    """Papers submitted on or after `since`. An undated paper counts as old, except the bundled
    sample's: it has no dates at all and is only searched when asked for (--source sample)."""
    if since is None:
        return list(papers)
    return [
        p
        for p in papers
        if (p.published.date() >= since if p.published is not None else is_sample(p.source))
    ]


def personal_order(
    found: Sequence[Ranked], profile: ReaderProfile
) -> tuple[list[Paper], dict[str, str]]:
    """Topic matches, reordered by closeness to the reader when there is a profile: the BM25
    score (scaled to the best match) plus the reader ranking's score; and each one's `why`."""
    papers = [r.paper for r in found]
    if profile.empty or len(papers) < 2:
        return papers, {p.id: TOPIC_WHY for p in papers}
    ranking = rank(papers, Interests(profile=profile))
    top = max(r.score for r in found) or 1.0
    order = sorted(
        range(len(papers)),
        key=lambda i: (not ranking.followed[i], -(found[i].score / top + ranking.scores[i]), i),
    )
    why = {}
    for i in order:
        text = ranking.explain(i)
        why[papers[i].id] = f"{TOPIC_WHY}; {text}" if text else TOPIC_WHY
    return [papers[i] for i in order], why


def run_topic(
    settings: Settings, options: TopicOptions, progress: Progress = lambda _: None
) -> TopicOutcome:
    """Find, rank, summarise. Raises ConfigError for an empty query, NoSourceReadError if all failed."""
    started = time.monotonic()
    if options.send and not settings.email.configured:
        raise ConfigError("--send needs [email] smtp_host, sender and recipients in the config")
    query = " ".join(options.query.split())
    if not query:
        raise ConfigError(
            'the topic is empty: say what to look for, e.g. digest topic "speculative decoding"'
        )
    today = options.today or dt.date.today()
    since = parse_since(options.since, today)
    decision = choose_engine(options.engine, settings)
    budget = model_budget(settings, decision)  # the expansion and the summary draw on one
    with Store.open(settings.home) as store:
        queries, expansion_usage = [query], Usage()
        if decision.kind == "llm":
            progress("expanding the topic into searches")
            queries, expansion_usage = _expand(settings, store, query, options.use_cache, budget)
        specs = source_specs(options.sources, queries)
        ctx = FetchContext(date=today, settings=settings, store=store, since=since)
        fetched = fetch_all(specs, ctx, progress)
        progress("ranking papers")
        found = rank_papers(queries, _recent(fetched.papers, since))
        profile = build_profile(settings, store, options.library, reader=options.reader)
        ranked, why = personal_order(found, profile)
        searched = _searched(fetched.health)
        if not ranked:
            failed = _searched(tuple(h for h in fetched.health if h.status == "failed"))
            note = f" ({failed} failed)" if failed else ""
            message = (
                f"No papers found on {query!r} in {searched}{note}. "
                "Try broader or different terms, a longer --since, or another --source."
            )
            return TopicOutcome(
                None,
                fetched.health,
                tuple(queries),
                message,
                decision.reason,
                round(time.monotonic() - started, 2),
            )
        papers = ranked
        selection = Selection(
            selected=tuple(papers[: options.max_papers]),
            also_new=tuple(papers[options.max_papers :]),
            updated=(),
            already_seen=0,
            excluded=0,
            why={p.id: why[p.id] for p in papers[: options.max_papers]},
        )
        progress(f"summarizing {plural(len(selection.selected), 'paper')} ({decision.kind} engine)")
        summary = summarize(
            selection.selected,
            decision=decision,
            settings=settings,
            store=store,
            topic=query,
            use_cache=options.use_cache,
            progress=progress,
            budget=budget,
        )
        summary = summary.model_copy(update={"usage": summary.usage + expansion_usage})
        store.keep_papers((p.id, p.model_dump_json()) for p in papers if not is_sample(p.source))
    notices = [NO_MODEL_NOTICE] if decision.reason == NO_MODEL_NOTICE else []
    digest = build_digest(
        kind="topic",
        date=today,
        summary=summary,
        selection=selection,
        health=fetched.health,
        notices=notices,
        topic=query,
    )
    message = f"{digest.shape} on {query!r} (searched {searched})"
    return TopicOutcome(
        digest,
        fetched.health,
        tuple(queries),
        message,
        decision.reason,
        round(time.monotonic() - started, 2),
    )


def topic_dir(settings: Settings, digest: Digest, out_dir: Path | None, reader: str = "") -> Path:
    from agent.readers import reader_dir

    slug = re.sub(r"[^a-z0-9]+", "-", (digest.topic or "topic").lower()).strip("-")[:60] or "topic"
    root = out_dir or settings.home / "archive"
    return root / reader_dir(digest.date, reader) / f"topic-{slug}"


def emit_topic(
    digest: Digest,
    settings: Settings,
    *,
    format_: str,
    out_dir: Path | None,
    send: bool,
    reader: str = "",
) -> list[str]:
    """Write or print the topic digest in the asked format, send it if asked; lines to print."""
    from agent.deliver.archive import archive_digest
    from agent.pipeline import send_digest
    from agent.readers import reader_dir
    from agent.render import digest_to_json, render_markdown, write_digest_files

    lines: list[str] = []
    if format_ == "json":
        lines.append(json.dumps(digest_to_json(digest), ensure_ascii=False, indent=2))
    needs_files = send or format_ in {"html", "text", "md"}
    if needs_files:
        target = topic_dir(settings, digest, out_dir, reader)
        files = write_digest_files(
            digest,
            target,
            sender=settings.email.sender,
            recipients=tuple(settings.email.recipients),
            list_unsubscribe=settings.email.list_unsubscribe,
            max_html_bytes=settings.email.max_html_bytes,
        )
        markdown = target / "digest.md"
        markdown.write_text(render_markdown(digest), encoding="utf-8")
        archive_digest(settings.home, files, reader_dir(digest.date, reader) / target.name)
        chosen = {"html": files.html, "text": files.text, "md": markdown}.get(format_)
        if chosen is not None:
            lines.append(f"Wrote {chosen}")
        if send:
            from agent.lock import run_lock

            with run_lock(settings.home), Store.open(settings.home) as store:
                report = send_digest(digest, files, settings, store, reader=reader)
            sent = ", ".join(report.sent) or "nobody new (already sent)"
            lines.append(f"Sent to {sent}")
    return lines
