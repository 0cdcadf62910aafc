"""One reader's digest of the day: summarised, assembled, written (and archived), delivered,
and only then its papers marked as seen; or, with nothing new, the reason (and the note)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agent.core.wording import plural
from agent.errors import DeliveryError
from agent.models import Digest, SourceHealth, Summary
from agent.pipeline.assemble import SAMPLE_NOTICE, build_digest, matched_notice
from agent.pipeline.fetch import EMPTY_SEARCH, FetchOutcome
from agent.pipeline.pick import Picked
from agent.pipeline.rerun import kept_as_sent
from agent.pipeline.run import Run
from agent.pipeline.send import Delivery, RunStatus, deliver_daily, seen_rows, send_empty_note
from agent.readers import reader_dir
from agent.select import Selection
from agent.sources.local import is_sample
from agent.summarize import NO_MODEL_NOTICE, summarize

if TYPE_CHECKING:
    from agent.render import DigestFiles


@dataclass(frozen=True)
class Written:
    """Where one reader's digest goes on disk: --out (else the config's out_dir, else the
    archive; a digest of the sample day alone is archived in `<date>/sample/`), and whether
    digest.md is written too (--format md)."""

    out_dir: Path | None = None
    markdown: bool = False


@dataclass(frozen=True)
class RunOutcome:
    """One reader's digest of the run (or why there is none)."""

    status: RunStatus
    message: str
    digest: Digest | None = None
    files: dict[str, Path] = field(default_factory=dict)
    health: tuple[SourceHealth, ...] = ()
    selection: Selection | None = None
    engine_reason: str = ""
    seconds: float = 0.0


async def digest_for(
    run: Run, to: Delivery, pick: Picked, fetched: FetchOutcome, written: Written
) -> RunOutcome:
    """Summarise, render, archive, send and mark one reader's selection; the model draws on
    the run's budget (shared by every reader of the run)."""
    selection = pick.selection
    kept = kept_as_sent(run, to, selection, fetched)
    if kept is not None:  # the day's digest went out: not rebuilt, nothing marked
        return RunOutcome(
            "already_sent", kept, health=fetched.health, engine_reason=run.engine.reason
        )
    if selection.total == 0 and not selection.updated:
        return _nothing_new(run, to, pick, fetched)
    summary = await _summary(run, pick)
    digest = _digest(run, pick, fetched, summary)
    run.progress("rendering the email")
    files, paths = _write(run, pick, digest, written)
    # Kept once archived, before the email: a paper of a digest the outbox delivers later
    # can be rated and found by `digest topic` like any other.
    run.store.keep_papers(
        (p.id, p.model_dump_json()) for p in digest.papers.values() if not is_sample(p.source)
    )
    try:
        status, message = await deliver_daily(run, to, digest, files)
    except DeliveryError:
        # What did not go (an email, a webhook post) waits in the outbox with the reason; the
        # digest's papers are its own: they must not come again in the next day's digest.
        run.store.mark_seen(seen_rows(selection), run.date, pick.reader)
        raise
    run.store.mark_seen(seen_rows(selection), run.date, pick.reader)
    return RunOutcome(
        status=status,
        message=message + _sample_apart(run, pick, digest),
        digest=digest,
        files=paths,
        health=fetched.health,
        selection=selection,
        engine_reason=run.engine.reason,
    )


def _nothing_new(run: Run, to: Delivery, pick: Picked, fetched: FetchOutcome) -> RunOutcome:
    """Nothing to digest: say why, and send the 'nothing new' note when configured."""
    reason = _empty_message(fetched, pick.selection)
    message = f"{reason} No email was sent."
    if to.email and to.settings.email.send_empty_note:
        run.progress("sending the 'nothing new' note")
        message = f"{reason} {send_empty_note(run, to, fetched.health, reason)}"
    return RunOutcome(
        status="empty",
        message=message,
        health=fetched.health,
        selection=pick.selection,
        engine_reason=run.engine.reason,
    )


async def _summary(run: Run, pick: Picked) -> Summary:
    """The selection summarised (the relevance pass's usage and notes folded in), or, with
    only new versions of papers already digested, a headline for a short digest of updates."""
    selection = pick.selection
    count = plural(len(selection.selected), "paper")
    run.progress(f"summarizing {count} ({run.engine.kind} engine)")
    if not selection.selected:
        return Summary(themes=(), headline=_nothing_to_summarise(selection))
    progress = run.progress

    def said(text: str) -> None:
        progress(f"summarizing {count}: {text}")

    # a scheduled run may wait for the Batch API ([llm] batch)
    engine = run.summarizer(pick.settings, said, batch=True)
    summary = await summarize(
        selection.selected, engine, total=len(selection.selected) + len(selection.also_new)
    )
    return summary.model_copy(
        update={
            "usage": summary.usage + pick.usage,
            "degraded": (*pick.notes, *summary.degraded),
        }
    )


def _nothing_to_summarise(selection: Selection) -> str:
    """The glance of a day with nothing to summarise: new papers, none a match (they are listed
    by title), and papers seen before with new versions."""
    parts = []
    if selection.also_new:
        new = len(selection.also_new)
        they = "it is" if new == 1 else "they are"
        parts.append(
            f"{plural(new, 'new paper')} today, none matching {selection.matched_by}; "
            f"{they} listed by title"
        )
    else:
        parts.append("No new papers today")
    updated = len(selection.updated)
    if updated:
        verb = "has a new version" if updated == 1 else "have new versions"
        parts.append(f"{plural(updated, 'paper')} you have seen before {verb}, listed below")
    return "; ".join(parts) + "."


def _digest(run: Run, pick: Picked, fetched: FetchOutcome, summary: Summary) -> Digest:
    """The reader's daily digest, with the sample and no-model notices and the cold-start hint."""
    from agent.select.reader import COLD_START_HINT

    notices = [NO_MODEL_NOTICE] if run.engine.reason == NO_MODEL_NOTICE else []
    if any(is_sample(h.name) for h in fetched.health):
        notices.insert(0, SAMPLE_NOTICE)
    matched = matched_notice(pick.selection)
    if matched:
        notices.insert(0, matched)
    return build_digest(
        kind="daily",
        date=run.date,
        summary=summary,
        selection=pick.selection,
        health=fetched.health,
        notices=notices,
        hint=COLD_START_HINT if pick.interests.cold else None,
    )


def _write(
    run: Run, pick: Picked, digest: Digest, written: Written
) -> tuple[DigestFiles, dict[str, Path]]:
    """Write the digest's files (and digest.md with --format md) into the reader's folder of
    --out (else out_dir, else the archive) and keep them in the archive; the files, and the
    paths written by kind. A digest of the sample day alone is archived apart, in
    `<date>/sample/`: trying the tool never takes the place of the day's real digest."""
    from agent.deliver.archive import archive_digest, archive_root
    from agent.render import write_digest_files

    settings = pick.settings
    archive = archive_root(settings.home)
    kept = _archive_folder(run, pick, digest)
    out_root = written.out_dir or settings.out_dir
    if out_root is None or out_root.resolve() == archive.resolve():
        target = archive / kept
    else:
        target = out_root / reader_dir(run.date, pick.reader)  # where asked
    files = write_digest_files(
        digest,
        target,
        sender=settings.email.sender,
        recipients=tuple(settings.email.recipients),
        list_unsubscribe=settings.email.list_unsubscribe,
        max_html_bytes=settings.email.max_html_bytes,
    )
    paths = files.by_kind()
    if written.markdown:
        from agent.core.atomic import write_atomic
        from agent.render import render_markdown

        paths["md"] = files.json.parent / "digest.md"
        write_atomic(paths["md"], render_markdown(digest).encode("utf-8"))
    archive_digest(settings.home, files, kept)
    return files, paths


def _archive_folder(run: Run, pick: Picked, digest: Digest) -> Path:
    """The reader's digest's folder in the archive (`<date>`, `<date>/reader-<name>`; their
    `sample/` for a digest of the sample day alone)."""
    from agent.deliver.archive import archive_folder

    return archive_folder(reader_dir(run.date, pick.reader), digest)


def _sample_apart(run: Run, pick: Picked, digest: Digest) -> str:
    """Where a digest of the sample day alone was archived, as a clause ('' for any other)."""
    from agent.deliver.archive import archive_root, is_sample_digest, kept_apart

    if not is_sample_digest(digest):
        return ""
    return "; " + kept_apart(archive_root(pick.settings.home) / _archive_folder(run, pick, digest))


def _empty_message(fetched: FetchOutcome, selection: Selection) -> str:
    """'Nothing new today: ...', with every reason there is."""
    failed = [h.name for h in fetched.health if h.status == "failed"]
    parts = []
    if not fetched.papers:
        parts += _empty_sources(fetched)
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


def _empty_sources(fetched: FetchOutcome) -> list[str]:
    """Why the sources gave nothing: a quiet day, or searches that matched nothing."""
    parts = []
    searches = [h.name for h in fetched.health if h.reason == EMPTY_SEARCH]
    if len(searches) < sum(h.status == "empty" for h in fetched.health):
        parts.append("the sources had no papers for this day (a weekend or holiday?)")
    if searches:
        parts.append(f"no paper matched {', '.join(searches)} (try broader search terms)")
    return parts


__all__ = ["RunOutcome", "Written", "digest_for"]
