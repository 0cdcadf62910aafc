"""The webhook channel: POST the digest to Slack, Discord or any JSON endpoint, exactly once.

Same guarantees as email (see `agent.deliver.core`), with the same sent ledger and outbox:

1. a webhook is a ledger recipient named ``webhook:<name>``; a digest already posted there is
   skipped unless `force`;
2. the ledger row is written the moment the endpoint answered 2xx, nothing in between; the
   payload is spooled from before the post until then (a run stopped meanwhile leaves it);
3. each post goes through the bounded client (`agent.core.http`): `timeout_seconds` bounds a
   whole attempt, trickling headers included; the project's retryable statuses (408, 409, 425,
   429, 5xx), timeouts and connection errors are retried with backoff and jitter, honouring
   Retry-After (capped; one longer than the post's time budget fails at once), at most
   `max_attempts` tries; other 4xx are permanent; the reply's body is never read;
4. a payload that did not go is spooled to ``outbox/webhooks/`` (the outbox's own format, the
   body being JSON) and `DeliveryError` (exit 4) says so; `digest outbox flush` posts it later.

The URL holds the channel's secret token: it is read with `.get_secret_value()` only for the
request, never spooled (the spool names the webhook), never in an error text, and registered
with the log filter (`agent.core.redact`) so that `-v` (httpx logs each request) masks it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.config import WebhookSettings
from agent.core import redact
from agent.core.http import HttpClient, HttpFailure, Limits
from agent.deliver.spool import remove_entry, remove_spooled, spool_message, spooled_entries
from agent.errors import DeliveryError
from agent.models import Digest
from agent.store import SentLedger

log = logging.getLogger(__name__)

_MAX_WAIT = 30.0
_REPLY_BYTES = 65_536  # never read (only the status counts); a cap all the same
USER_AGENT = "paper-digest webhook"
_OK = frozenset(range(200, 300))
NOT_YET_POSTED = "not posted: the run posting it stopped before the webhook answered"


def webhook_recipient(hook: WebhookSettings) -> str:
    return f"webhook:{hook.name}"


def webhook_spool(outbox_dir: Path) -> Path:
    """Where undelivered webhook payloads wait (kept apart from the .eml messages)."""
    return outbox_dir / "webhooks"


@dataclass
class WebhookReport:
    sent: list[str] = field(default_factory=list)  # webhook names
    skipped: list[str] = field(default_factory=list)
    spooled: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    digest_keys: list[str] = field(default_factory=list)  # digests delivered (flush)


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    attempts: int
    error: str = ""


async def _post(
    hook: WebhookSettings,
    body: bytes,
    *,
    client: HttpClient,
) -> _Outcome:
    """POST with retries; never raises for a failed post. The error names the webhook only."""
    url = hook.url.get_secret_value()
    redact.register_secret(redact.url_secret(url))  # -v logs show the host, never the token
    limits = Limits(
        timeout=hook.timeout_seconds,
        max_bytes=_REPLY_BYTES,
        attempts=hook.max_attempts,
        max_wait=_MAX_WAIT,
    )
    try:
        await client.request(
            "POST",
            url,
            limits=limits,
            content=body,
            headers={"Content-Type": "application/json"},
            accept=_OK,
            read_body=False,
            follow_redirects=False,
        )
    except HttpFailure as exc:
        return _Outcome(False, exc.attempts, f"webhook {hook.name}: {_reason(exc)}")
    return _Outcome(True, 1)


def _reason(exc: HttpFailure) -> str:
    if exc.kind == "timeout":
        return exc.reason.replace("no complete answer", "timed out: no complete answer", 1)
    if exc.kind == "status" and not exc.retryable:
        return f"{exc.reason} (not retried)"
    return exc.reason


def payload_bytes(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _payload_id(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()[:32]


async def deliver_webhooks(
    digest: Digest,
    *,
    digest_key: str,
    hooks: Sequence[WebhookSettings],
    store: SentLedger,
    outbox_dir: Path,
    force: bool = False,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> WebhookReport:
    """Post the digest to every webhook once (ledger), spooling failures; DeliveryError if any."""
    from agent.render.chat_payloads import webhook_payload

    report = WebhookReport()
    spool = webhook_spool(outbox_dir)
    client = HttpClient(user_agent=USER_AGENT, sleep=sleep)
    for hook in hooks:
        recipient = webhook_recipient(hook)
        if force:
            store.forget_sent(digest_key, recipient)
        elif store.already_sent(digest_key, recipient):
            report.skipped.append(hook.name)
            continue
        body = payload_bytes(webhook_payload(hook.kind, digest))

        def spooled(attempts: int, error: str, body: bytes = body, to: str = recipient) -> Path:
            return spool_message(
                spool,
                data=body,
                digest_key=digest_key,
                recipient=to,
                message_id=_payload_id(body),
                attempts=attempts,
                last_error=error,
            )

        spooled(0, NOT_YET_POSTED)  # until the 2xx: a run stopped meanwhile leaves it spooled
        outcome = await _post(hook, body, client=client)
        if outcome.ok:
            store.record_sent(digest_key, recipient, _payload_id(body))
            remove_spooled(spool, digest_key, recipient)
            report.sent.append(hook.name)
            continue
        log.warning("%s; spooled", outcome.error)
        report.spooled.append(spooled(outcome.attempts, outcome.error))
        report.errors.append(outcome.error)
    if report.errors:
        raise DeliveryError(
            f"{len(report.errors)} webhook post(s) failed and were spooled to {spool} "
            f"(digest outbox flush): {report.errors[0]}"
        )
    return report


async def flush_webhooks(
    outbox_dir: Path,
    *,
    hooks: Sequence[WebhookSettings],
    store: SentLedger,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> WebhookReport:
    """Post every spooled payload once; entries the ledger knows are dropped unsent. Entries for
    a webhook no longer configured stay spooled, with an error saying so."""
    report = WebhookReport()
    entries, broken = spooled_entries(webhook_spool(outbox_dir))
    report.errors += [reason for _, reason in broken]
    by_recipient = {webhook_recipient(h): h for h in hooks}
    client = HttpClient(user_agent=USER_AGENT, sleep=sleep)
    for entry in entries:
        if store.already_sent(entry.digest_key, entry.recipient):
            remove_entry(entry)
            report.skipped.append(entry.recipient)
            continue
        hook = by_recipient.get(entry.recipient)
        if hook is None:
            report.errors.append(f"{entry.recipient}: no such webhook in the config; kept")
            continue
        try:
            payload = entry.read_bytes()
        except OSError as exc:  # gone or unreadable since it was listed: kept, said once
            report.errors.append(f"{entry.recipient}: spooled payload unreadable ({exc.strerror})")
            continue
        outcome = await _post(hook, payload, client=client)
        if outcome.ok:
            store.record_sent(entry.digest_key, entry.recipient, entry.message_id)
            remove_entry(entry)
            report.sent.append(hook.name)
            report.digest_keys.append(entry.digest_key)
        else:
            report.errors.append(outcome.error)
    return report
