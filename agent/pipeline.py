"""Runs the stages in order for `daily` (and `topic`): sources, select, summarize, render, deliver."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from agent.config import EngineChoice, Settings
from agent.errors import ConfigError, DeliveryError, NoSourceReadError, SourceError
from agent.models import (
    DegradedNote,
    Digest,
    HealthStatus,
    Paper,
    SourceHealth,
    Summary,
    Theme,
    Usage,
)
from agent.readers import reader_dir
from agent.select import Interests, ReaderProfile, Selection, select_papers
from agent.sources import FetchContext, make_source
from agent.sources.local import is_sample
from agent.sources.merge import merge_papers
from agent.store import Store
from agent.summarize import NO_MODEL_NOTICE, EngineDecision, choose_engine, summarize
from agent.wording import plural

if TYPE_CHECKING:
    from agent.deliver import DeliveryReport
    from agent.render import DigestFiles
    from agent.summarize.llm import Budget

Progress = Callable[[str], None]
SAMPLE_NOTICE = (
    "This digest uses the bundled sample day (a demo of 207 real papers), not today's papers; "
    "configure sources to get your own."
)
EMPTY_DAY = "the source had no papers for this day"
EMPTY_SEARCH = "the search found no papers"
NO_SOURCES = (
    "no sources configured: set [sources] default in digest.toml (e.g. "
    '["arxiv-rss:cs.CL", "hf-daily"]), or DIGEST_SOURCES__DEFAULT, or pass --source; '
    "--source sample builds the bundled demo day"
)
RunStatus = Literal["sent", "written", "empty", "already_sent"]


@dataclass(frozen=True)
class DailyOptions:
    date: dt.date
    sources: tuple[str, ...] = ()
    engine: EngineChoice = "auto"
    out_dir: Path | None = None
    send: bool | None = None  # None: send when [email] is configured
    force: bool = False
    use_cache: bool = True
    library: tuple[Path, ...] = ()  # --library files, beside the config's `library`
    markdown: bool = False  # also write digest.md (`--format md`)


@dataclass(frozen=True)
class FetchOutcome:
    papers: list[Paper]
    health: tuple[SourceHealth, ...]


@dataclass(frozen=True)
class RunOutcome:
    status: RunStatus
    message: str
    digest: Digest | None = None
    files: dict[str, Path] = field(default_factory=dict)
    health: tuple[SourceHealth, ...] = ()
    selection: Selection | None = None
    engine_reason: str = ""
    seconds: float = 0.0


def _ignore(_: str) -> None:
    return None


def fetch_all(
    specs: Sequence[str], ctx: FetchContext, progress: Progress = _ignore
) -> FetchOutcome:
    """Fetch every source; one failing source is reported, not fatal. All failing raises."""
    sources = [make_source(spec) for spec in specs]  # ConfigError before any network
    lists: list[list[Paper]] = []
    health: list[SourceHealth] = []
    for source in sources:
        progress(f"reading {source.name}")
        try:
            papers = source.fetch(ctx)
        except SourceError as exc:
            failure = str(exc).removeprefix(f"{source.name}: ")  # the name is shown beside it
            health.append(SourceHealth(name=source.name, status="failed", reason=failure))
            continue
        status: HealthStatus = "ok" if papers else "empty"
        reason: str | None = None if papers else (EMPTY_SEARCH if source.searches else EMPTY_DAY)
        distinct = len({paper.id for paper in papers})
        if distinct < len(papers):
            reason = f"{len(papers) - distinct} repeated ids merged"
        health.append(SourceHealth(name=source.name, status=status, count=distinct, reason=reason))
        lists.append(papers)
    if sources and all(h.status == "failed" for h in health):
        reasons = "; ".join(f"{h.name}: {h.reason}" for h in health)
        raise NoSourceReadError(f"no source could be read: {reasons}")
    return FetchOutcome(papers=merge_papers(lists), health=tuple(health))


def interests_of(settings: Settings, profile: ReaderProfile | None = None) -> Interests:
    return Interests(
        text=settings.interests,
        include_keywords=tuple(settings.include_keywords),
        exclude_keywords=tuple(settings.exclude_keywords),
        categories=tuple(settings.categories),
        profile=profile or ReaderProfile(),
        threshold=settings.relevance_threshold,
    )


def matched_notice(selection: Selection) -> str | None:
    """'5 papers matched your interests today; 25 more are listed by title.' when the reader's
    relevance threshold applies and something is left out of the picks (None otherwise)."""
    if selection.matched is None or not selection.also_new:
        return None
    matched = plural(selection.matched, "paper")
    if selection.matched > len(selection.selected):  # more matched than max_papers allows
        return f"{matched} matched your interests today; the closest {len(selection.selected)} are summarised."
    more = plural(len(selection.also_new), "more is", "more are")
    return f"{matched} matched your interests today; {more} listed by title."


def build_digest(
    *,
    kind: Literal["daily", "topic"],
    date: dt.date,
    summary: Summary,
    selection: Selection,
    health: tuple[SourceHealth, ...],
    notices: Sequence[str] = (),
    topic: str | None = None,
    hint: str | None = None,
) -> Digest:
    """Join the summary with the selection: every selected paper once, in a theme or in also_new."""
    papers = {p.id: p for p in (*selection.selected, *selection.also_new, *selection.updated)}
    degraded = list(summary.degraded)
    themes, placed, dropped = _unique_themes(summary.themes, {p.id for p in selection.selected})
    if dropped:  # the summarize stage guarantees this; the last safety net says so if not
        degraded.append(
            DegradedNote(
                step="coverage",
                reason=f"{dropped} repeated or unknown paper places removed",
                fallback="kept the first",
            )
        )
    lost = [p.id for p in selection.selected if p.id not in placed]
    if lost:
        degraded.append(
            DegradedNote(
                step="coverage",
                reason=f"{plural(len(lost), 'paper')} had no theme",
                fallback="listed",
            )
        )
    also_new = list(
        dict.fromkeys([*lost, *(p.id for p in selection.also_new if p.id not in placed)])
    )
    failed = [h for h in health if h.status == "failed"]
    degraded.extend(
        DegradedNote(step="source", scope=h.name, reason=h.reason or "failed", fallback="skipped")
        for h in failed
    )
    return Digest(
        kind=kind,
        date=date,
        topic=topic,
        engine=summary.engine,
        headline=summary.headline,
        overview=summary.overview,
        themes=themes,
        also_new=tuple(also_new),
        updated=tuple(p.id for p in selection.updated),
        papers=papers,
        health=health,
        degraded=tuple(degraded),
        notices=tuple(notices),
        usage=summary.usage,
        prompt_versions=summary.prompt_versions,
        why={pid: text for pid, text in selection.why.items() if pid in placed},
        hint=hint,
        model_run=summary.model_run,
    )


def _unique_themes(
    themes: Sequence[Theme], selected: set[str]
) -> tuple[tuple[Theme, ...], set[str], int]:
    """Each selected paper in its first place only; unknown ids and emptied themes dropped.

    Returns the themes, the ids they place, and how many places were removed."""
    placed: set[str] = set()
    dropped = 0
    kept: list[Theme] = []
    for theme in themes:
        blurbs = []
        for blurb in theme.papers:
            if blurb.paper_id in placed or blurb.paper_id not in selected:
                dropped += 1
                continue
            placed.add(blurb.paper_id)
            blurbs.append(blurb)
        if blurbs and len(blurbs) == len(theme.papers):
            kept.append(theme)
        elif blurbs:
            kept.append(theme.model_copy(update={"papers": tuple(blurbs)}))
    return tuple(kept), placed, dropped


def digest_key(digest: Digest, reader: str = "") -> str:
    """The ledger key: one email per recipient per digest. A 'nothing new' note (a digest with
    no papers at all) has its own key, so it never stands in for a real digest of that day.
    A named reader's digests are their own (``daily@NAME:DATE``): two readers with one address
    each get their own digest."""
    kind = f"{digest.kind}@{reader}" if reader else digest.kind
    if digest.kind == "topic":
        return f"{kind}:{digest.date.isoformat()}:{(digest.topic or '').strip().lower()}"
    note = "" if digest.papers else ":empty"
    return f"{kind}:{digest.date.isoformat()}{note}"


def send_digest(
    digest: Digest,
    files: DigestFiles,
    settings: Settings,
    store: Store,
    *,
    force: bool = False,
    reader: str = "",
) -> DeliveryReport:
    """Email a written digest once per recipient (the ledger decides); DeliveryError spools it."""
    from agent.deliver import deliver
    from agent.render import build_message

    message = build_message(
        digest,
        files.html.read_text(encoding="utf-8"),
        files.text.read_text(encoding="utf-8"),
        sender=settings.email.sender,
        recipients=tuple(settings.email.recipients),
        list_unsubscribe=settings.email.list_unsubscribe,
    )
    return deliver(
        message,
        digest_key=digest_key(digest, reader),
        settings=settings.email,
        store=store,
        outbox_dir=settings.home / "outbox",
        force=force,
    )


def _seen_rows(selection: Selection) -> list[tuple[str, int | None, str]]:
    papers = (*selection.selected, *selection.also_new, *selection.updated)
    return [(p.id, p.version, p.title) for p in papers if not is_sample(p.source)]


def daily_decisions(
    settings: Settings, options: DailyOptions
) -> tuple[tuple[str, ...], EngineDecision, bool]:
    """(source specs, engine, whether to send) of a daily run; ConfigError when unusable."""
    specs = options.sources or tuple(settings.sources.default)
    if not specs:
        raise ConfigError(NO_SOURCES)
    decision = choose_engine(options.engine, settings)
    send = settings.email.configured if options.send is None else options.send
    if send and not settings.email.configured:
        if not settings.webhooks:
            raise ConfigError(
                "--send needs [email] smtp_host, sender and recipients (or [[webhooks]]) in the config"
            )
        send = False  # --send with webhooks only: post to them, no email to send
    return specs, decision, send


def run_daily(
    settings: Settings, options: DailyOptions, progress: Progress = _ignore
) -> RunOutcome:
    """The daily job. Marks papers as seen only after the digest was written (and sent)."""
    from agent.lock import run_lock

    started = time.monotonic()
    specs, decision, send = daily_decisions(settings, options)
    with run_lock(settings.home), Store.open(settings.home) as store:
        run_id = store.start_run(options.date, "daily")
        try:
            outcome = _daily_stages(settings, options, store, specs, decision, send, progress)
        except DeliveryError as exc:
            store.finish_run(run_id, "spooled", message=str(exc))
            raise
        except BaseException as exc:
            store.finish_run(run_id, "failed", message=str(exc) or type(exc).__name__)
            raise
        counts = {
            "selected": len(outcome.selection.selected) if outcome.selection else 0,
            "also_new": len(outcome.selection.also_new) if outcome.selection else 0,
        }
        usage = outcome.digest.usage.model_dump() if outcome.digest else {}
        store.finish_run(
            run_id, outcome.status, counts=counts, usage=usage, message=outcome.message
        )
    return dataclasses.replace(outcome, seconds=round(time.monotonic() - started, 2))


@dataclass(frozen=True)
class Picked:
    """One reader's papers of the day, chosen and not yet summarised."""

    reader: str  # '' for the single reader of a config without [readers]
    settings: Settings
    interests: Interests
    selection: Selection
    usage: Usage = field(default_factory=Usage)  # the model relevance pass, when on
    notes: tuple[DegradedNote, ...] = ()


def reader_interests(
    settings: Settings, store: Store, options: DailyOptions, reader: str = ""
) -> Interests:
    """What the ranking knows of a reader: interests, library, ratings, follows."""
    from agent.select.reader import build_profile

    return interests_of(settings, build_profile(settings, store, options.library, reader=reader))


def pick_papers(
    settings: Settings,
    options: DailyOptions,
    store: Store,
    fetched: FetchOutcome,
    decision: EngineDecision,
    interests: Interests,
    reader: str = "",
    progress: Progress = _ignore,
    budget: Budget | None = None,
) -> Picked:
    """A reader's selection from the day's papers: new to this reader, ranked, capped (the
    model's relevance pass, when on, draws on the run's `budget`)."""
    seen = store.seen_on_other_dates([p.id for p in fetched.papers], options.date, reader)
    selection = select_papers(
        fetched.papers, max_papers=settings.max_papers, interests=interests, seen=seen
    )
    if not settings.show_updated:
        selection = dataclasses.replace(selection, updated=())
    rerank_usage = Usage()
    rerank_notes: list[DegradedNote] = []
    if (
        settings.llm.rerank
        and decision.kind == "llm"
        and selection.total > 1
        and not interests.cold
    ):
        progress("asking the model which papers fit you best")
        selection, rerank_usage, rerank_notes = rerank_selection(
            settings, store, selection, interests, use_cache=options.use_cache, budget=budget
        )
    return Picked(reader, settings, interests, selection, rerank_usage, tuple(rerank_notes))


def _daily_stages(
    settings: Settings,
    options: DailyOptions,
    store: Store,
    specs: Sequence[str],
    decision: EngineDecision,
    send: bool,
    progress: Progress,
) -> RunOutcome:
    progress("reading your library")
    interests = reader_interests(settings, store, options)
    ctx = FetchContext(date=options.date, settings=settings, store=store)
    fetched = fetch_all(specs, ctx, progress)
    budget = model_budget(settings, decision)
    progress("selecting new papers")
    picked = pick_papers(
        settings, options, store, fetched, decision, interests, progress=progress, budget=budget
    )
    return digest_for(picked, options, store, fetched, decision, send, progress, budget)


def digest_for(
    picked: Picked,
    options: DailyOptions,
    store: Store,
    fetched: FetchOutcome,
    decision: EngineDecision,
    send: bool,
    progress: Progress,
    budget: Budget | None = None,
) -> RunOutcome:
    """Summarise, render, archive, send and mark one reader's selection; the model draws on
    the run's `budget` (shared by every reader of the run)."""
    selection = picked.selection
    if selection.total == 0 and not selection.updated:
        return _empty_outcome(picked, options, store, fetched, decision, send, progress)
    summary = _daily_summary(picked, options, store, decision, progress, budget)
    digest = _daily_digest(picked, options, fetched, summary, decision)
    progress("rendering the email")
    files, written = _write_daily(digest, picked, options)
    status, message = _deliver_daily(digest, files, picked, options, store, send, progress)
    store.mark_seen(_seen_rows(selection), options.date, picked.reader)
    store.keep_papers(
        (p.id, p.model_dump_json()) for p in digest.papers.values() if not is_sample(p.source)
    )
    return RunOutcome(
        status=status,
        message=message,
        digest=digest,
        files=written,
        health=fetched.health,
        selection=selection,
        engine_reason=decision.reason,
    )


def _empty_outcome(
    picked: Picked,
    options: DailyOptions,
    store: Store,
    fetched: FetchOutcome,
    decision: EngineDecision,
    send: bool,
    progress: Progress,
) -> RunOutcome:
    """Nothing to digest: say why, and send the 'nothing new' note when configured."""
    settings, selection = picked.settings, picked.selection
    reason = _empty_message(fetched, selection)
    message = f"{reason} No email was sent."
    if send and settings.email.send_empty_note:
        progress("sending the 'nothing new' note")
        note = _send_empty_note(settings, options, store, fetched.health, reason, picked.reader)
        message = f"{reason} {note}"
    return RunOutcome(
        status="empty",
        message=message,
        health=fetched.health,
        selection=selection,
        engine_reason=decision.reason,
    )


def _daily_summary(
    picked: Picked,
    options: DailyOptions,
    store: Store,
    decision: EngineDecision,
    progress: Progress,
    budget: Budget | None,
) -> Summary:
    """The selection summarised (the relevance pass's usage and notes folded in), or, with
    only new versions of papers already digested, a headline for a short digest of updates."""
    selection = picked.selection
    count = plural(len(selection.selected), "paper")
    progress(f"summarizing {count} ({decision.kind} engine)")
    if not selection.selected:
        updated = len(selection.updated)
        return Summary(
            themes=(),
            headline=f"No new papers today; {plural(updated, 'paper')} you have seen before "
            f"{'has a new version' if updated == 1 else 'have new versions'}, listed below.",
        )
    summary = summarize(
        selection.selected,
        decision=decision,
        settings=picked.settings,
        store=store,
        use_cache=options.use_cache,
        progress=lambda text: progress(f"summarizing {count}: {text}"),
        batch=True,  # a scheduled run may wait for the Batch API ([llm] batch)
        budget=budget,
    )
    return summary.model_copy(
        update={
            "usage": summary.usage + picked.usage,
            "degraded": (*picked.notes, *summary.degraded),
        }
    )


def _daily_digest(
    picked: Picked,
    options: DailyOptions,
    fetched: FetchOutcome,
    summary: Summary,
    decision: EngineDecision,
) -> Digest:
    """The reader's daily digest, with the sample and no-model notices and the cold-start hint."""
    from agent.select.reader import COLD_START_HINT

    notices = [NO_MODEL_NOTICE] if decision.reason == NO_MODEL_NOTICE else []
    if any(is_sample(h.name) for h in fetched.health):
        notices.insert(0, SAMPLE_NOTICE)
    matched = matched_notice(picked.selection)
    if matched:
        notices.insert(0, matched)
    return build_digest(
        kind="daily",
        date=options.date,
        summary=summary,
        selection=picked.selection,
        health=fetched.health,
        notices=notices,
        hint=COLD_START_HINT if picked.interests.cold else None,
    )


def _write_daily(
    digest: Digest, picked: Picked, options: DailyOptions
) -> tuple[DigestFiles, dict[str, Path]]:
    """Write the digest's files (and digest.md with --format md) into the reader's folder and
    the archive; the files, and the paths written by kind."""
    from agent.deliver.archive import archive_digest
    from agent.render import write_digest_files

    settings = picked.settings
    out_root = options.out_dir or settings.out_dir or settings.home / "archive"
    folder = reader_dir(options.date, picked.reader)
    files = write_digest_files(
        digest,
        out_root / folder,
        sender=settings.email.sender,
        recipients=tuple(settings.email.recipients),
        list_unsubscribe=settings.email.list_unsubscribe,
        max_html_bytes=settings.email.max_html_bytes,
    )
    written = files.by_kind()
    if options.markdown:
        from agent.atomic import write_atomic
        from agent.render import render_markdown

        written["md"] = files.json.parent / "digest.md"
        write_atomic(written["md"], render_markdown(digest).encode("utf-8"))
    archive_digest(settings.home, files, folder)
    return files, written


def _deliver_daily(
    digest: Digest,
    files: DigestFiles,
    picked: Picked,
    options: DailyOptions,
    store: Store,
    send: bool,
    progress: Progress,
) -> tuple[RunStatus, str]:
    """Email the digest and post it to the webhooks, as asked; the run's status and message."""
    status: RunStatus = "written"
    message = f"digest written: {digest.shape}"
    if digest.also_new:
        message += f", {len(digest.also_new)} more listed by title"
    if send:
        status, message = _email_daily(digest, files, picked, options, store, progress, message)
    if picked.settings.webhooks and options.send is not False:
        status, message = _post_daily(digest, picked, options, store, progress, status, message)
    return status, message


def _email_daily(
    digest: Digest,
    files: DigestFiles,
    picked: Picked,
    options: DailyOptions,
    store: Store,
    progress: Progress,
    message: str,
) -> tuple[RunStatus, str]:
    """Email the digest once per recipient; SpooledDelivery marks the papers seen when some
    recipients already have them."""
    from agent.deliver import SpooledDelivery

    progress("sending the email")
    try:
        report = send_digest(
            digest, files, picked.settings, store, force=options.force, reader=picked.reader
        )
    except SpooledDelivery as exc:
        if exc.report.sent or exc.report.skipped:
            # Some recipients have these papers: they must not come again tomorrow. The
            # refused recipients' messages stay in the outbox, with the reason.
            store.mark_seen(_seen_rows(picked.selection), options.date, picked.reader)
        raise
    if report.sent:
        return "sent", f"{message} and sent to {', '.join(report.sent)}"
    return (
        "already_sent",
        f"{message}; already sent to {', '.join(report.skipped)} (use --force to send again)",
    )


def _post_daily(
    digest: Digest,
    picked: Picked,
    options: DailyOptions,
    store: Store,
    progress: Progress,
    status: RunStatus,
    message: str,
) -> tuple[RunStatus, str]:
    """Post the digest to the configured webhooks (once per hook); the status and message with
    what was posted."""
    from agent.deliver.webhooks import deliver_webhooks

    progress("posting to the webhooks")
    posted = deliver_webhooks(
        digest,
        digest_key=digest_key(digest, picked.reader),
        hooks=picked.settings.webhooks,
        store=store,
        outbox_dir=picked.settings.home / "outbox",
        force=options.force,
    )
    if posted.sent:
        message += f"; posted to {', '.join(posted.sent)}"
        status = "sent" if status == "written" else status
    if posted.skipped:
        message += f"; already posted to {', '.join(posted.skipped)}"
    return status, message


def rerank_selection(
    settings: Settings,
    store: Store,
    selection: Selection,
    interests: Interests,
    *,
    use_cache: bool,
    budget: Budget | None = None,
) -> tuple[Selection, Usage, list[DegradedNote]]:
    """The model's relevance pass over the top candidates; any failure keeps the offline order
    (and is noted). Cached and counted in usage like every model answer."""
    import asyncio

    from agent.select.rerank import apply_scores, candidates
    from agent.summarize.llm import LLMEngine, RerankInput

    limit = settings.llm.rerank_candidates
    pool = candidates(selection, limit)
    engine = LLMEngine(settings, store, use_cache=use_cache, budget=budget)
    data = RerankInput(
        interests=interests.text,
        not_interested=interests.profile.not_interested,
        library=tuple(e.title for e in interests.profile.positives),
        papers=pool,
    )
    scores, notes = asyncio.run(engine.rerank(data))
    return apply_scores(selection, scores, limit), engine.meter.total(), notes


def model_budget(settings: Settings, decision: EngineDecision) -> Budget | None:
    """The run's model budget (calls, tokens, cost cap, time), shared by every model call of
    the run; None for the offline engine."""
    if decision.kind != "llm":
        return None
    from agent.summarize.llm import run_budget

    return run_budget(settings)


def mark_flushed_digests(home: Path, store: Store, digest_keys: Sequence[str]) -> int:
    """After `outbox flush` delivered a spooled daily digest, mark its papers as digested."""
    from agent.deliver.archive import archived_paper_refs

    marked = 0
    for key in sorted(set(digest_keys)):
        kind, _, day = key.partition(":")
        kind, _, reader = kind.partition("@")
        if kind != "daily" or ":" in day:  # topic digests and 'nothing new' notes mark nothing
            continue
        date = dt.date.fromisoformat(day)
        # gone: the next daily run includes them again
        refs = archived_paper_refs(home, reader_dir(date, reader))
        rows = [
            (r["id"], r.get("version"), r.get("title", ""))
            for r in refs
            if not is_sample(r.get("source"))
        ]
        marked += store.mark_seen(rows, date, reader)
    return marked


def _send_empty_note(
    settings: Settings,
    options: DailyOptions,
    store: Store,
    health: tuple[SourceHealth, ...],
    reason: str,
    reader: str = "",
) -> str:
    """A short 'nothing new today' email (config: email.send_empty_note), sent once per date;
    returns what happened, as a sentence."""
    from agent.render import write_digest_files

    note = Digest(
        kind="daily",
        date=options.date,
        engine="offline",
        headline=reason,
        themes=(),
        papers={},
        health=health,
    )
    files = write_digest_files(  # kept out of the archive: a note is not a digest
        note,
        settings.home / "notes" / reader_dir(options.date, reader),
        sender=settings.email.sender,
        recipients=tuple(settings.email.recipients),
        list_unsubscribe=settings.email.list_unsubscribe,
    )
    report = send_digest(note, files, settings, store, force=options.force, reader=reader)
    if report.sent:
        return f"A short note was sent to {', '.join(report.sent)}."
    return "The note was already sent."


def _empty_message(fetched: FetchOutcome, selection: Selection) -> str:
    failed = [h.name for h in fetched.health if h.status == "failed"]
    parts = []
    if not fetched.papers:
        searches = [h.name for h in fetched.health if h.reason == EMPTY_SEARCH]
        if len(searches) < sum(h.status == "empty" for h in fetched.health):
            parts.append("the sources had no papers for this day (a weekend or holiday?)")
        if searches:
            parts.append(f"no paper matched {', '.join(searches)} (try broader search terms)")
    elif selection.already_seen:
        seen = selection.already_seen
        parts.append(
            "the only paper was in an earlier digest"
            if seen == 1
            else f"all {seen:,} papers were in an earlier digest"
        )
    if selection.excluded:
        parts.append(
            f"{plural(selection.excluded, 'was', 'were')} left out by your keyword or category filters"
        )
    if failed:
        parts.append(f"failed sources: {', '.join(failed)}")
    return "Nothing new today: " + "; ".join(parts or ["no papers"]) + "."
