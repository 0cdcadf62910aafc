"""Delivery that sends exactly once: SMTP, the sent ledger, retries, and the outbox.

For each recipient of a digest (`digest_key`):

1. skip it when the sent ledger has a row for (digest_key, recipient), unless `force`
   (which first forgets the digest's rows);
2. send: one message per recipient (To: that recipient; its own Message-ID derived from the
   rendered one, so it is unique per recipient and identical on every retry and in the outbox),
   or one message with every recipient as a blind envelope recipient (To: the sender);
3. write the ledger row the moment the server accepted the message: `sendmail` returned and
   that recipient is not in its refused list. Nothing else happens between the two. Every
   message is in the outbox from before the first send until its ledger row is written, so
   a run stopped while it sends (kill -9, power loss) leaves the rest for the next run.

Temporary failures (4xx replies, a dropped connection, connection refused, a timeout) are
retried with exponential backoff and jitter, at most `settings.max_attempts` tries per message.
Permanent failures (5xx, authentication refused, a TLS certificate the client does not trust)
are not retried. Either way a message that did not go is spooled to the outbox and, after every
recipient was handled, `DeliveryError` (exit code 4) says so in one line; `digest outbox flush`
sends the spool later. When the connection itself fails for good (server down, login refused)
the remaining messages are spooled without more attempts.

Worst case of the accept/ledger window. The ledger row is written right after the server's
"250" to the end of DATA. If the process dies (crash, kill -9, power loss) or the SQLite write
fails in that instant, the message went out but the ledger does not know: the next run (or
flush) sends it again, so that recipient gets ONE duplicate (in BCC mode, every recipient of
that one transaction). SMTP itself has the same kind of window (RFC 1047): when the connection
drops after the final "." but before the "250" arrives, the client cannot know whether the
server took the message, treats it as temporary and retries, which may also give one
duplicate. A message is never lost silently: it is in the ledger, or spooled, or the run
failed loudly before its ledger row was written.

The SMTP password is read with `.get_secret_value()` only in the `login` call; it is never
logged, never put in an exception message (every error text is scrubbed) and never spooled.

smtplib blocks the thread it runs on, which in a run is the event loop's, and that is safe:
`deliver` is called when nothing else is on the loop (the sources are read, the model engine has
closed its tasks, readers go one after another, webhooks are posted after the email; a test
holds it), and on the main thread a SIGTERM stops it between two messages as Ctrl-C does.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path

from agent.config import EmailSettings
from agent.deliver.smtp import SmtpFailure, SmtpSender
from agent.deliver.spool import remove_spooled, spool_message
from agent.errors import ConfigError, DeliveryError
from agent.store import SentLedger

log = logging.getLogger(__name__)

NOT_YET_SENT = "not sent: the run sending it stopped before the mail server accepted it"


@dataclass
class DeliveryReport:
    """Recipients (addresses) sent to and skipped (already in the ledger); spooled .eml files."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    spooled: list[Path] = field(default_factory=list)


class SpooledDelivery(DeliveryError):
    """Some recipients' messages were spooled to the outbox (exit code 4); `report` says who
    got the digest, who had it already, and what was spooled."""

    def __init__(self, message: str, report: DeliveryReport) -> None:
        super().__init__(message)
        self.report = report


# addresses and headers ------------------------------------------------------------------------


def envelope_address(address: str) -> str:
    """The bare addr-spec of `Name <addr>` (what goes into MAIL FROM / RCPT TO and the ledger)."""
    return parseaddr(address)[1] or address.strip()


def list_unsubscribe_header(value: str) -> str:
    """`<mailto:...>` and/or `<https://...>`, comma separated (RFC 2369). A bare address is mailto."""
    parts: list[str] = []
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        inner = item[1:-1].strip() if item.startswith("<") and item.endswith(">") else item
        scheme, colon, _ = inner.partition(":")
        if not colon and "@" in inner:
            inner, scheme = f"mailto:{inner}", "mailto"
        if scheme.lower() not in ("mailto", "https") or " " in inner:
            raise ConfigError(
                f"email.list_unsubscribe must be a mailto: address or an https: URL, got {item!r}"
            )
        parts.append(f"<{inner}>")
    if not parts:
        raise ConfigError("email.list_unsubscribe is empty")
    return ", ".join(parts)


def recipient_message_id(base: str, recipient: str) -> str:
    """A per-recipient Message-ID derived from the digest's one: unique per recipient, stable."""
    local, at, domain = base.strip().strip("<>").rpartition("@")
    if not at:
        local, domain = domain, "paper-digest.invalid"
    tag = hashlib.sha256(envelope_address(recipient).lower().encode("utf-8")).hexdigest()[:12]
    return f"<{local}.{tag}@{domain}>"


def _base_message_id(message: EmailMessage, digest_key: str, sender: str) -> str:
    existing = message.get("Message-ID")
    if existing and str(existing).strip():
        return str(existing).strip()
    domain = envelope_address(sender).rpartition("@")[2] or "paper-digest.invalid"
    tag = hashlib.sha256(digest_key.encode("utf-8")).hexdigest()[:20]
    return f"<digest.{tag}@{domain}>"


def prepare_message(
    message: EmailMessage,
    *,
    sender: str,
    to: str,
    message_id: str,
    list_unsubscribe: str | None,
) -> EmailMessage:
    """A copy with From, To, Message-ID and List-Unsubscribe set; Subject and Date kept; no Bcc."""
    copied = copy.deepcopy(message)
    for name in ("From", "To", "Bcc", "Message-ID", "List-Unsubscribe"):
        del copied[name]
    copied["From"] = sender
    copied["To"] = to
    copied["Message-ID"] = message_id
    if list_unsubscribe:
        copied["List-Unsubscribe"] = list_unsubscribe
    if "Date" not in copied:
        copied["Date"] = formatdate(localtime=True)
    return copied


def message_bytes(message: EmailMessage) -> bytes:
    """The wire form (CRLF line ends), identical for every attempt and in the outbox."""
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


# deliver --------------------------------------------------------------------------------------


@dataclass
class _Job:
    data: bytes
    message_id: str
    recipients: list[str]  # envelope addresses


def _jobs(
    message: EmailMessage, digest_key: str, settings: EmailSettings, todo: list[tuple[str, str]]
) -> list[_Job]:
    assert settings.sender is not None
    unsubscribe = (
        list_unsubscribe_header(settings.list_unsubscribe) if settings.list_unsubscribe else None
    )
    base_id = _base_message_id(message, digest_key, settings.sender)
    if settings.one_message_per_recipient:
        jobs = []
        for display, address in todo:
            message_id = recipient_message_id(base_id, address)
            copy_ = prepare_message(
                message,
                sender=settings.sender,
                to=display,
                message_id=message_id,
                list_unsubscribe=unsubscribe,
            )
            jobs.append(_Job(message_bytes(copy_), message_id, [address]))
        return jobs
    single = prepare_message(
        message,
        sender=settings.sender,
        to=settings.sender,
        message_id=base_id,
        list_unsubscribe=unsubscribe,
    )
    return [_Job(message_bytes(single), base_id, [address for _, address in todo])]


def _error_line(
    sender: SmtpSender, failures: list[tuple[str, SmtpFailure, int]], spooled: int, outbox: Path
) -> str:
    _, failure, attempts = failures[0]
    if failure.temporary:
        what = f"failed after {attempts} attempt{'s' if attempts != 1 else ''}"
    else:
        what = "refused"
    texts = {f.text for _, f, _ in failures if not f.text.startswith("not attempted: ")}
    others = len(texts - {failure.text})
    more = f" (and {others} other error{'s' if others != 1 else ''})" if others else ""
    plural = "s" if spooled != 1 else ""
    return (
        f"SMTP {sender.where} {what}: {failure.text}{more}; spooled {spooled} message{plural} "
        f"to {outbox} (run `digest outbox flush`)"
    )


def _spool(
    outbox_dir: Path, job: _Job, digest_key: str, address: str, attempts: int, error: str
) -> Path:
    """Put `job`'s message for `address` in the outbox (replacing an earlier entry)."""
    return spool_message(
        outbox_dir,
        data=job.data,
        digest_key=digest_key,
        recipient=address,
        message_id=job.message_id,
        attempts=attempts,
        last_error=error,
    )


def deliver(
    message: EmailMessage,
    *,
    digest_key: str,
    settings: EmailSettings,
    store: SentLedger,
    outbox_dir: Path,
    force: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    ssl_context: ssl.SSLContext | None = None,
) -> DeliveryReport:
    """Send the digest to every recipient not yet in the ledger; spool what did not go.

    Raises ConfigError when email is not configured, SpooledDelivery (a DeliveryError, exit
    code 4, with the report) when at least one message was spooled.
    """
    if not settings.configured:
        raise ConfigError(
            "email is not configured: set email.smtp_host, email.sender and email.recipients"
        )
    assert settings.sender is not None
    if force:
        log.info("--force: forgetting earlier sends of %s", digest_key)
        store.forget_sent(digest_key)

    report = DeliveryReport()
    todo: list[tuple[str, str]] = []
    seen: set[str] = set()
    for display in settings.recipients:
        address = envelope_address(display)
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        if store.already_sent(digest_key, address):
            log.info("already sent %s to %s; skipping", digest_key, address)
            report.skipped.append(address)
        else:
            todo.append((display, address))
    if not todo:
        return report

    jobs = _jobs(message, digest_key, settings, todo)
    # In the outbox until the server accepts: a run stopped while it sends (kill -9, a
    # shutdown) leaves every message not yet accepted for the next run's flush.
    for job in jobs:
        for address in job.recipients:
            _spool(outbox_dir, job, digest_key, address, 0, NOT_YET_SENT)
    sender = SmtpSender(settings, sleep=sleep, ssl_context=ssl_context)
    failures: list[tuple[str, SmtpFailure, int]] = []
    try:
        for job in jobs:

            def accepted(address: str, job: _Job = job) -> None:
                store.record_sent(digest_key, address, job.message_id)
                remove_spooled(outbox_dir, digest_key, address)
                report.sent.append(address)
                log.info("sent %s to %s (%s)", digest_key, address, job.message_id)

            result = sender.send(
                envelope_address(settings.sender), job.recipients, job.data, accepted
            )
            for address, failure in result.failed.items():
                path = _spool(outbox_dir, job, digest_key, address, result.attempts, failure.text)
                report.spooled.append(path)
                failures.append((address, failure, result.attempts))
                log.error("could not send %s to %s: %s", digest_key, address, failure.text)
    finally:
        sender.close()

    if failures:
        raise SpooledDelivery(
            _error_line(sender, failures, len(report.spooled), outbox_dir), report
        )
    return report
