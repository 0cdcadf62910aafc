"""The deliver step: a written digest emailed once per recipient and posted once per webhook
(the sent ledger decides), the 'nothing new' note, and the papers of flushed digests marked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from agent.config import Settings
from agent.errors import DeliveryError
from agent.models import Digest, SourceHealth
from agent.readers import reader_dir
from agent.select import Selection
from agent.sources.local import is_sample
from agent.store import SeenLedger, SentLedger

if TYPE_CHECKING:
    from agent.deliver import DeliveryReport
    from agent.pipeline.run import Run
    from agent.render import DigestFiles

RunStatus = Literal["sent", "written", "empty", "already_sent"]


@dataclass(frozen=True)
class Delivery:
    """Where one reader's digest goes on this run: their settings (email, webhooks, home),
    whether it is emailed and posted to the webhooks, and --force (send again)."""

    reader: str  # '' for the single reader of a config without [readers]
    settings: Settings
    email: bool = False  # [email] configured (or --send); never with --no-send
    post: bool = True  # to the reader's [[webhooks]]; not with --no-send
    force: bool = False


def digest_key(digest: Digest, reader: str = "") -> str:
    """The ledger key: one email per recipient per digest. A 'nothing new' note (a digest with
    no papers at all) has its own key, so it never stands in for a real digest of that day.
    A named reader's digests are their own (``daily@NAME:DATE``): two readers with one address
    each get their own digest. A digest of the sample day alone has its own (``...:sample``):
    trying the tool never counts as the day's real digest sent."""
    from agent.deliver.archive import is_sample_digest

    kind = f"{digest.kind}@{reader}" if reader else digest.kind
    sample = ":sample" if is_sample_digest(digest) else ""
    if digest.kind == "topic":
        return f"{kind}:{digest.date.isoformat()}:{(digest.topic or '').strip().lower()}{sample}"
    note = "" if digest.papers else ":empty"
    return f"{daily_key(digest.date, reader)}{note}{sample}"


def daily_key(date: dt.date, reader: str = "") -> str:
    """The ledger key of `reader`'s daily digest of `date` (``daily:DATE``, ``daily@NAME:DATE``)."""
    return f"daily@{reader}:{date.isoformat()}" if reader else f"daily:{date.isoformat()}"


def send_digest(
    digest: Digest, files: DigestFiles, to: Delivery, ledger: SentLedger
) -> DeliveryReport:
    """Email a written digest once per recipient (the ledger decides); DeliveryError spools it."""
    from agent.deliver import deliver
    from agent.render import build_message

    email = to.settings.email
    message = build_message(
        digest,
        files.html.read_text(encoding="utf-8"),
        files.text.read_text(encoding="utf-8"),
        sender=email.sender,
        recipients=tuple(email.recipients),
        list_unsubscribe=email.list_unsubscribe,
    )
    return deliver(
        message,
        digest_key=digest_key(digest, to.reader),
        settings=email,
        store=ledger,
        outbox_dir=to.settings.home / "outbox",
        force=to.force,
    )


async def deliver_daily(
    run: Run, to: Delivery, digest: Digest, files: DigestFiles
) -> tuple[RunStatus, str]:
    """Email the digest and post it to the webhooks, as the run asks; the reader's status and
    message. A DeliveryError (exit 4) says what is spooled. SMTP runs on the loop's thread (a
    SIGTERM stops it between two messages, as Ctrl-C does); the webhooks are awaited on the
    bounded client."""
    status: RunStatus = "written"
    message = f"digest written: {digest.shape_and_listed}"
    posts = bool(to.settings.webhooks and to.post)
    spooled: DeliveryError | None = None  # the email's failure, raised once the hooks had theirs
    if to.email:
        run.progress("sending the email")
        try:
            report = send_digest(digest, files, to, run.store)
        except DeliveryError as exc:
            if not posts:
                raise
            spooled = exc
        else:
            if report.sent:
                status, message = "sent", f"{message} and sent to {', '.join(report.sent)}"
            else:
                status = "already_sent"
                message += (
                    f"; already sent to {', '.join(report.skipped)} (use --force to send again)"
                )
    if posts:
        before = message
        try:
            status, message = await _post(run, to, digest, (status, message))
        except DeliveryError as exc:
            if spooled is None:
                raise
            raise DeliveryError(f"{spooled}; {exc}") from exc
        if spooled is not None:  # the hooks have the digest; the email waits in the outbox
            raise DeliveryError(f"{spooled}{message.removeprefix(before)}") from spooled
    return status, message


async def _post(
    run: Run, to: Delivery, digest: Digest, so_far: tuple[RunStatus, str]
) -> tuple[RunStatus, str]:
    """Post the digest to the reader's webhooks (once per hook); the status and message with
    what was posted."""
    from agent.deliver.webhooks import deliver_webhooks

    status, message = so_far
    run.progress("posting to the webhooks")
    posted = await deliver_webhooks(
        digest,
        digest_key=digest_key(digest, to.reader),
        hooks=to.settings.webhooks,
        store=run.store,
        outbox_dir=to.settings.home / "outbox",
        force=to.force,
    )
    if posted.sent:
        message += f"; posted to {', '.join(posted.sent)}"
        status = "sent" if status == "written" else status
    if posted.skipped:
        message += f"; already posted to {', '.join(posted.skipped)}"
    return status, message


def send_empty_note(run: Run, to: Delivery, health: tuple[SourceHealth, ...], reason: str) -> str:
    """A short 'nothing new today' email (config: email.send_empty_note), sent once per date;
    returns what happened, as a sentence."""
    from agent.render import write_digest_files

    note = Digest(
        kind="daily",
        date=run.date,
        engine="offline",
        headline=reason,
        themes=(),
        papers={},
        health=health,
    )
    email = to.settings.email
    files = write_digest_files(  # kept out of the archive: a note is not a digest
        note,
        to.settings.home / "notes" / reader_dir(run.date, to.reader),
        sender=email.sender,
        recipients=tuple(email.recipients),
        list_unsubscribe=email.list_unsubscribe,
    )
    report = send_digest(note, files, to, run.store)
    if report.sent:
        return f"A short note was sent to {', '.join(report.sent)}."
    return "The note was already sent."


def seen_rows(selection: Selection) -> list[tuple[str, int | None, str]]:
    """The (id, version, title) of every paper a digest lists (the sample's are never marked)."""
    papers = (*selection.selected, *selection.also_new, *selection.updated)
    return [(p.id, p.version, p.title) for p in papers if not is_sample(p.source)]


def mark_flushed_digests(home: Path, ledger: SeenLedger, digest_keys: Sequence[str]) -> int:
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
        marked += ledger.mark_seen(rows, date, reader)
    return marked


__all__ = [
    "Delivery",
    "RunStatus",
    "daily_key",
    "deliver_daily",
    "digest_key",
    "mark_flushed_digests",
    "seen_rows",
    "send_digest",
    "send_empty_note",
]
