"""`digest topic "…"`: find papers on a topic, then the same summarize and render stages."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.config import EngineChoice, Settings
from agent.core.wording import plural
from agent.errors import ConfigError
from agent.models import Digest, Paper, SourceHealth, Summary, Usage
from agent.pipeline import Delivery, Run, build_digest, fetch_all, send_digest
from agent.select import Interests, ReaderProfile, Selection, rank
from agent.select.reader import build_profile
from agent.select.search import STOP_WORDS, Ranked, rank_papers
from agent.sources import FetchContext
from agent.sources.local import is_sample
from agent.store import Store
from agent.summarize import NO_MODEL_NOTICE, EngineDecision, choose_engine, summarize

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


async def _expand(run: Run, query: str) -> tuple[list[str], Usage]:
    """The topic first, then the model's 2-4 search queries for it; and what that call cost."""
    engine = run.model_engine(run.settings)
    expanded = [q.strip() for q in await engine.expand_query(query) if q.strip()]
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


@dataclass(frozen=True)
class TopicJob:
    """What a topic run does, checked before it starts: the query (spaces folded), the
    earliest date of interest, the engine, and the command's options."""

    query: str
    today: dt.date
    since: dt.date | None
    engine: EngineDecision
    options: TopicOptions


def plan_topic(settings: Settings, options: TopicOptions) -> TopicJob:
    """ConfigError for an empty query, a bad --since, --send without email or --engine llm
    without a model; else what the run does."""
    if options.send and not settings.email.configured:
        raise ConfigError("--send needs [email] smtp_host, sender and recipients in the config")
    query = " ".join(options.query.split())
    if not query:
        raise ConfigError(
            'the topic is empty: say what to look for, e.g. digest topic "speculative decoding"'
        )
    today = options.today or dt.date.today()
    since = parse_since(options.since, today)
    return TopicJob(query, today, since, choose_engine(options.engine, settings), options)


async def run_topic(run: Run, job: TopicJob) -> TopicOutcome:
    """Find, rank, summarise (the run's date is the job's `today`, its engine the job's).
    Raises NoSourceReadError if every source failed."""
    started = run.clock()
    queries, expansion_usage = [job.query], Usage()
    if run.engine.kind == "llm":  # the expansion and the summary draw on the run's budget
        run.progress("expanding the topic into searches")
        queries, expansion_usage = await _expand(run, job.query)
    specs = source_specs(job.options.sources, queries)
    ctx = FetchContext(run.date, run.settings.sources, run.store, since=job.since)
    fetched = await fetch_all(specs, ctx, run.progress)
    run.progress("ranking papers")
    found = rank_papers(queries, _recent(fetched.papers, job.since))
    profile = await _profile(run, job.options)
    ranked, why = personal_order(found, profile)
    searched = _searched(fetched.health)
    if not ranked:
        failed = _searched(tuple(h for h in fetched.health if h.status == "failed"))
        note = f" ({failed} failed)" if failed else ""
        message = (
            f"No papers found on {job.query!r} in {searched}{note}. "
            "Try broader or different terms, a longer --since, or another --source."
        )
        return TopicOutcome(
            None, fetched.health, tuple(queries), message, run.engine.reason, _since(run, started)
        )
    selection = _selection(ranked, why, job.options.max_papers)
    summary = await _summary(run, job, selection)
    summary = summary.model_copy(update={"usage": summary.usage + expansion_usage})
    run.store.keep_papers((p.id, p.model_dump_json()) for p in ranked if not is_sample(p.source))
    notices = [NO_MODEL_NOTICE] if run.engine.reason == NO_MODEL_NOTICE else []
    digest = build_digest(
        kind="topic",
        date=run.date,
        summary=summary,
        selection=selection,
        health=fetched.health,
        notices=notices,
        topic=job.query,
    )
    message = f"{digest.shape} on {job.query!r} (searched {searched})"
    return TopicOutcome(
        digest, fetched.health, tuple(queries), message, run.engine.reason, _since(run, started)
    )


def _since(run: Run, started: float) -> float:
    return round(run.clock() - started, 2)


async def _profile(run: Run, options: TopicOptions) -> ReaderProfile:
    """The reader's profile (--reader's ratings, --library files) that orders the matches."""
    settings = run.settings
    return await build_profile(
        settings.selection, settings.sources, run.store, options.library, reader=options.reader
    )


def _selection(papers: Sequence[Paper], why: dict[str, str], max_papers: int) -> Selection:
    """The first `max_papers` matches summarised, the rest listed."""
    return Selection(
        selected=tuple(papers[:max_papers]),
        also_new=tuple(papers[max_papers:]),
        updated=(),
        already_seen=0,
        excluded=0,
        why={p.id: why[p.id] for p in papers[:max_papers]},
    )


async def _summary(run: Run, job: TopicJob, selection: Selection) -> Summary:
    run.progress(
        f"summarizing {plural(len(selection.selected), 'paper')} ({run.engine.kind} engine)"
    )
    engine = run.summarizer(run.settings, run.progress, batch=False)
    matched = len(selection.selected) + len(selection.also_new)
    return await summarize(selection.selected, engine, topic=job.query, total=matched)


def topic_dir(settings: Settings, digest: Digest, out_dir: Path | None, reader: str = "") -> Path:
    """The topic digest's folder: `<date>/topic-<slug>` under --out, else under the archive
    (there `<date>/sample/topic-<slug>` for the sample day alone, beside a real one)."""
    from agent.deliver.archive import archive_folder, archive_root
    from agent.readers import reader_dir

    day, archive = reader_dir(digest.date, reader), archive_root(settings.home)
    if out_dir is None or out_dir.resolve() == archive.resolve():
        return archive / archive_folder(day, digest) / topic_folder(digest)
    return out_dir / day / topic_folder(digest)


def topic_folder(digest: Digest) -> str:
    """`topic-<slug>`: the topic's folder name."""
    slug = re.sub(r"[^a-z0-9]+", "-", (digest.topic or "topic").lower()).strip("-")[:60] or "topic"
    return f"topic-{slug}"


def emit_topic(
    digest: Digest,
    settings: Settings,
    options: TopicOptions,
    *,
    format_: str,
    out_dir: Path | None,
) -> list[str]:
    """Write or print the topic digest in the asked format, send it if asked (`options.send`,
    to `options.reader`'s recipients); lines to print."""
    send, reader = options.send, options.reader
    from agent.deliver.archive import archive_digest, archive_folder, is_sample_digest, kept_apart
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
        kept = archive_folder(reader_dir(digest.date, reader), digest) / target.name
        archive_digest(settings.home, files, kept)
        chosen = {"html": files.html, "text": files.text, "md": markdown}.get(format_)
        if chosen is not None:
            lines.append(f"Wrote {chosen}")
        if is_sample_digest(digest):
            said = kept_apart(settings.home / "archive" / kept)
            lines.append(said[0].upper() + said[1:])
        if send:
            from agent.core.lock import run_lock

            with run_lock(settings.home), Store.open(settings.home) as store:
                report = send_digest(digest, files, Delivery(reader, settings), store)
            sent = ", ".join(report.sent) or "nobody new (already sent)"
            lines.append(f"Sent to {sent}")
    return lines
