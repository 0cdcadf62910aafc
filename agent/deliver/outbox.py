"""The outbox flush: send every spooled message once, never twice.

`flush_outbox` never sends twice: an entry the sent ledger already knows is deleted unsent,
and an entry is deleted only after its ledger row was written. The spool format is in
`agent.deliver.spool`.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agent.config import EmailSettings
from agent.deliver.core import envelope_address
from agent.deliver.smtp import SmtpSender
from agent.deliver.spool import SpoolEntry, remove_entry, spooled_entries, update_entry
from agent.errors import ConfigError
from agent.store import SentLedger

log = logging.getLogger(__name__)


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


def flush_outbox(
    outbox_dir: Path,
    *,
    settings: EmailSettings,
    store: SentLedger,
    sleep: Callable[[float], None] = time.sleep,
    ssl_context: ssl.SSLContext | None = None,
) -> FlushReport:
    """Send every spooled message once; the CLI exits with `report.exit_code` (0 or 4).

    Entries the ledger already knows are deleted without sending. Each accepted message gets its
    ledger row at once, then its spool files are deleted. Failures stay spooled with the attempt
    count and the last error updated. Nothing spooled means no connection is made at all.
    """
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
                update_entry(entry, result.attempts, failure.text)
                report.failed.append(entry.eml)
                report.errors.append(f"{entry.recipient}: {failure.text}")
    finally:
        sender.close()
    return report
