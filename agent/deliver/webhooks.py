"""The webhook channel: POST the digest to Slack, Discord or any JSON endpoint, exactly once.

Same guarantees as email (see `agent.deliver.core`), with the same sent ledger and outbox:

1. a webhook is a ledger recipient named ``webhook:<name>``; a digest already posted there is
   skipped unless `force`;
2. the ledger row is written the moment the endpoint answered 2xx, nothing in between;
3. the project's retryable statuses (`agent.retry_policy`: 408, 409, 425, 429, 5xx), timeouts
   and connection errors are retried by tenacity with exponential backoff and jitter,
   honouring Retry-After (capped), at most `max_attempts` tries; other 4xx are permanent;
4. a payload that did not go is spooled to ``outbox/webhooks/`` (the outbox's own format, the
   body being JSON) and `DeliveryError` (exit 4) says so; `digest outbox flush` posts it later.

The URL holds the channel's secret token: it is read with `.get_secret_value()` only for the
request, never logged, never spooled (the spool names the webhook), never in an error text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt

from agent.config import WebhookSettings
from agent.deliver.spool import remove_entry, remove_spooled, spool_message, spooled_entries
from agent.errors import DeliveryError
from agent.models import Digest
from agent.retry_policy import HintOrBackoff, is_retryable_status, parse_retry_after
from agent.store import SentLedger

log = logging.getLogger(__name__)

_MAX_WAIT = 30.0
_BACKOFF_FIRST_SECONDS = 0.5
_BACKOFF_JITTER_SECONDS = 0.5
USER_AGENT = "paper-digest webhook"


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


class _PostFailed(Exception):
    """One attempt failed; `error` names the webhook, never its URL."""

    def __init__(self, error: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.retryable = retryable
        self.retry_after = retry_after


def _post_once(hook: WebhookSettings, body: bytes, client: httpx.Client) -> None:
    """One POST; returns on 2xx, else raises `_PostFailed`."""
    try:
        # Only the status and headers are used: the reply's body is never read, so a
        # receiver that sends an endless or trickling body cannot hold the run.
        with client.stream(
            "POST",
            hook.url.get_secret_value(),
            content=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
            timeout=hook.timeout_seconds,
        ) as response:
            pass
    except httpx.TimeoutException:
        error = f"webhook {hook.name}: timed out after {hook.timeout_seconds:g} s"
        raise _PostFailed(error, retryable=True) from None
    except httpx.TransportError as exc:
        error = f"webhook {hook.name}: connection failed ({type(exc).__name__})"
        raise _PostFailed(error, retryable=True) from None
    status = response.status_code
    if 200 <= status < 300:
        return
    error = f"webhook {hook.name}: HTTP {status}"
    if not is_retryable_status(status):
        raise _PostFailed(error + " (not retried)", retryable=False)
    hint = parse_retry_after(response.headers.get("Retry-After"))
    raise _PostFailed(error, retryable=True, retry_after=hint)


def _post(
    hook: WebhookSettings,
    body: bytes,
    *,
    client: httpx.Client,
    sleep: Callable[[float], None],
) -> _Outcome:
    """POST with retries; never raises for a failed post. The error names the webhook only."""
    attempts = 0

    def attempt() -> None:
        nonlocal attempts
        attempts += 1
        _post_once(hook, body, client)

    retrying = Retrying(
        stop=stop_after_attempt(hook.max_attempts),
        wait=HintOrBackoff(
            lambda exc: exc.retry_after if isinstance(exc, _PostFailed) else None,
            first=_BACKOFF_FIRST_SECONDS,
            jitter=_BACKOFF_JITTER_SECONDS,
            cap=_MAX_WAIT,
        ),
        retry=retry_if_exception(lambda exc: isinstance(exc, _PostFailed) and exc.retryable),
        sleep=sleep,
        reraise=True,
    )
    try:
        retrying(attempt)
    except _PostFailed as exc:
        return _Outcome(False, attempts, exc.error)
    return _Outcome(True, attempts)


def payload_bytes(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _payload_id(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()[:32]


def deliver_webhooks(
    digest: Digest,
    *,
    digest_key: str,
    hooks: Sequence[WebhookSettings],
    store: SentLedger,
    outbox_dir: Path,
    force: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> WebhookReport:
    """Post the digest to every webhook once (ledger), spooling failures; DeliveryError if any."""
    from agent.render.chat_payloads import webhook_payload

    report = WebhookReport()
    spool = webhook_spool(outbox_dir)
    with httpx.Client(follow_redirects=False) as client:
        for hook in hooks:
            recipient = webhook_recipient(hook)
            if force:
                store.forget_sent(digest_key, recipient)
            elif store.already_sent(digest_key, recipient):
                report.skipped.append(hook.name)
                continue
            body = payload_bytes(webhook_payload(hook.kind, digest))
            outcome = _post(hook, body, client=client, sleep=sleep)
            if outcome.ok:
                store.record_sent(digest_key, recipient, _payload_id(body))
                remove_spooled(spool, digest_key, recipient)
                report.sent.append(hook.name)
                continue
            log.warning("%s; spooled", outcome.error)
            report.spooled.append(
                spool_message(
                    spool,
                    data=body,
                    digest_key=digest_key,
                    recipient=recipient,
                    message_id=_payload_id(body),
                    attempts=outcome.attempts,
                    last_error=outcome.error,
                )
            )
            report.errors.append(outcome.error)
    if report.errors:
        raise DeliveryError(
            f"{len(report.errors)} webhook post(s) failed and were spooled to {spool} "
            f"(digest outbox flush): {report.errors[0]}"
        )
    return report


def flush_webhooks(
    outbox_dir: Path,
    *,
    hooks: Sequence[WebhookSettings],
    store: SentLedger,
    sleep: Callable[[float], None] = time.sleep,
) -> WebhookReport:
    """Post every spooled payload once; entries the ledger knows are dropped unsent. Entries for
    a webhook no longer configured stay spooled, with an error saying so."""
    report = WebhookReport()
    entries, broken = spooled_entries(webhook_spool(outbox_dir))
    report.errors += [reason for _, reason in broken]
    by_recipient = {webhook_recipient(h): h for h in hooks}
    with httpx.Client(follow_redirects=False) as client:
        for entry in entries:
            if store.already_sent(entry.digest_key, entry.recipient):
                remove_entry(entry)
                report.skipped.append(entry.recipient)
                continue
            hook = by_recipient.get(entry.recipient)
            if hook is None:
                report.errors.append(f"{entry.recipient}: no such webhook in the config; kept")
                continue
            outcome = _post(hook, entry.read_bytes(), client=client, sleep=sleep)
            if outcome.ok:
                store.record_sent(entry.digest_key, entry.recipient, entry.message_id)
                remove_entry(entry)
                report.sent.append(hook.name)
                report.digest_keys.append(entry.digest_key)
            else:
                report.errors.append(outcome.error)
    return report
