"""The outbox: messages the mail server did not take, spooled to disk, and the flush that sends them.

Layout of `outbox_dir` (usually DIGEST_HOME/outbox), one pair per (digest, recipient):

    <digest_key>__<recipient>.json   sidecar: digest_key, recipient, message_id, attempts,
                                     last_error, spooled_at (never a password or other secret)
    <digest_key>__<recipient>.eml    the exact bytes to send (CRLF), with the final headers

The sidecar is written before the .eml and deleted after it, so an .eml without a sidecar
never exists; both are written atomically (temp file + rename). A flush is only a
retry of the same bytes: the Message-ID a recipient sees is the one the first attempt used.

`flush_outbox` never sends twice: an entry the sent ledger already knows is deleted unsent,
and an entry is deleted only after its ledger row was written.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from agent.atomic import write_atomic
from agent.config import EmailSettings
from agent.errors import ConfigError
from agent.store import Store

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+=-]+")


@dataclass(frozen=True)
class SpoolEntry:
    """One spooled message for one recipient."""

    eml: Path
    sidecar: Path
    digest_key: str
    recipient: str
    message_id: str
    attempts: int
    last_error: str
    spooled_at: str

    def read_bytes(self) -> bytes:
        return self.eml.read_bytes()


@dataclass
class FlushReport:
    """What a flush did. `sent` and `skipped` hold (digest_key, recipient) pairs."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def exit_code(self) -> int:
        """0 when everything spooled went out (or nothing was spooled), 4 otherwise."""
        return 0 if self.ok else 4

    def describe(self) -> str:
        """One line for the terminal, e.g. "Sent 2 spooled messages; 1 still spooled (...)"."""
        if not (self.sent or self.skipped or self.failed):
            return "The outbox is empty."
        parts = [f"Sent {len(self.sent)} spooled message{'s' if len(self.sent) != 1 else ''}"]
        if self.skipped:
            parts.append(f"dropped {len(self.skipped)} already sent")
        if self.failed:
            first = f": {self.errors[0]}" if self.errors else ""
            parts.append(f"{len(self.failed)} still spooled{first}")
        return "; ".join(parts) + "."


def _safe(part: str, limit: int = 100) -> str:
    return _UNSAFE.sub("_", part).strip("._")[:limit] or "_"


def spool_stem(digest_key: str, recipient: str) -> str:
    """`<digest_key>__<recipient-sanitized>` (safe as a file name)."""
    return f"{_safe(digest_key)}__{_safe(recipient.lower())}"


def _write_atomic(path: Path, data: bytes) -> None:
    """Spool files are private to the user (0600): they hold addresses and the message."""
    write_atomic(path, data, mode=0o600)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def spool_message(
    outbox_dir: Path,
    *,
    data: bytes,
    digest_key: str,
    recipient: str,
    message_id: str,
    attempts: int,
    last_error: str,
) -> Path:
    """Write one message for one recipient to the outbox; returns the .eml path.

    `last_error` must already be free of secrets (deliver scrubs it). An existing entry for
    the same (digest, recipient) is replaced.
    """
    outbox_dir.mkdir(parents=True, exist_ok=True)
    stem = spool_stem(digest_key, recipient)
    eml = outbox_dir / f"{stem}.eml"
    sidecar = outbox_dir / f"{stem}.json"
    meta = {
        "digest_key": digest_key,
        "recipient": recipient,
        "message_id": message_id,
        "attempts": attempts,
        "last_error": last_error,
        "spooled_at": _now(),
    }
    _write_atomic(sidecar, json.dumps(meta, indent=2).encode("utf-8"))
    _write_atomic(eml, data)
    log.info("spooled message for %s (%s) to %s", recipient, digest_key, eml)
    return eml


def _read_entry(eml: Path) -> SpoolEntry:
    sidecar = eml.with_suffix(".json")
    meta: dict[str, Any] = json.loads(sidecar.read_text(encoding="utf-8"))
    message_id = str(meta.get("message_id") or "")
    if not message_id:
        with eml.open("rb") as handle:
            message_id = str(BytesHeaderParser().parse(handle).get("Message-ID", "")).strip()
    return SpoolEntry(
        eml=eml,
        sidecar=sidecar,
        digest_key=str(meta["digest_key"]),
        recipient=str(meta["recipient"]),
        message_id=message_id,
        attempts=int(meta.get("attempts", 0)),
        last_error=str(meta.get("last_error", "")),
        spooled_at=str(meta.get("spooled_at", "")),
    )


def spooled_entries(outbox_dir: Path) -> tuple[list[SpoolEntry], list[tuple[Path, str]]]:
    """The readable entries (sorted by file name) and the unreadable ones with a reason."""
    entries: list[SpoolEntry] = []
    broken: list[tuple[Path, str]] = []
    if not outbox_dir.is_dir():
        return entries, broken
    for eml in sorted(outbox_dir.glob("*.eml")):
        try:
            entries.append(_read_entry(eml))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            broken.append((eml, f"unreadable sidecar {eml.with_suffix('.json').name}: {exc}"))
    return entries, broken


def remove_entry(entry: SpoolEntry) -> None:
    """Delete the .eml, then its sidecar (so a sidecar-less .eml never exists)."""
    entry.eml.unlink(missing_ok=True)
    entry.sidecar.unlink(missing_ok=True)


def remove_spooled(outbox_dir: Path, digest_key: str, recipient: str) -> None:
    """Drop a stale entry for a (digest, recipient) that has just been sent another way."""
    stem = spool_stem(digest_key, recipient)
    (outbox_dir / f"{stem}.eml").unlink(missing_ok=True)
    (outbox_dir / f"{stem}.json").unlink(missing_ok=True)


def _update_entry(entry: SpoolEntry, attempts: int, last_error: str) -> None:
    meta = {
        "digest_key": entry.digest_key,
        "recipient": entry.recipient,
        "message_id": entry.message_id,
        "attempts": entry.attempts + attempts,
        "last_error": last_error,
        "spooled_at": entry.spooled_at,
    }
    _write_atomic(entry.sidecar, json.dumps(meta, indent=2).encode("utf-8"))


def flush_outbox(
    outbox_dir: Path,
    *,
    settings: EmailSettings,
    store: Store,
    sleep: Callable[[float], None] = time.sleep,
    ssl_context: ssl.SSLContext | None = None,
) -> FlushReport:
    """Send every spooled message once; the CLI exits with `report.exit_code` (0 or 4).

    Entries the ledger already knows are deleted without sending. Each accepted message gets its
    ledger row at once, then its spool files are deleted. Failures stay spooled with the attempt
    count and the last error updated. Nothing spooled means no connection is made at all.
    """
    from agent.deliver import envelope_address  # deliver.py imports the spool format from here
    from agent.smtp import SmtpSender

    report = FlushReport()
    entries, broken = spooled_entries(outbox_dir)
    for path, reason in broken:
        report.failed.append(path)
        report.errors.append(reason)
    if not entries:
        return report

    pending: list[SpoolEntry] = []
    for entry in entries:
        if store.already_sent(entry.digest_key, entry.recipient):
            log.info(
                "outbox: %s (%s) was already sent; dropping the spooled copy",
                entry.recipient,
                entry.digest_key,
            )
            remove_entry(entry)
            report.skipped.append((entry.digest_key, entry.recipient))
        else:
            pending.append(entry)
    if not pending:
        return report
    if not (settings.smtp_host and settings.sender):
        raise ConfigError(
            "cannot flush the outbox: email is not configured (set email.smtp_host and "
            "email.sender)"
        )

    sender = SmtpSender(settings, sleep=sleep, ssl_context=ssl_context)
    try:
        for entry in pending:

            def accepted(recipient: str, entry: SpoolEntry = entry) -> None:
                store.record_sent(entry.digest_key, recipient, entry.message_id)
                remove_entry(entry)

            result = sender.send(
                envelope_address(settings.sender), [entry.recipient], entry.read_bytes(), accepted
            )
            if result.accepted:
                report.sent.append((entry.digest_key, entry.recipient))
                log.info("outbox: sent %s (%s)", entry.recipient, entry.digest_key)
            for failure in result.failed.values():
                _update_entry(entry, result.attempts, failure.text)
                report.failed.append(entry.eml)
                report.errors.append(f"{entry.recipient}: {failure.text}")
    finally:
        sender.close()
    return report
