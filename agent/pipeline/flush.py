"""The outbox flushed: `digest outbox flush`, and the first step of a daily run that sends
(what an earlier run spooled, or left unsent when it was stopped, goes before today's digest).

Never twice: the flush drops what the sent ledger knows, and each delivered digest's papers
are marked as seen (`mark_flushed_digests`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from agent.config import Settings
from agent.core.wording import plural
from agent.deliver import FlushReport, flush_outbox
from agent.deliver.spool import spooled_entries
from agent.deliver.webhooks import WebhookReport, flush_webhooks, webhook_spool
from agent.errors import ConfigError
from agent.pipeline.send import mark_flushed_digests
from agent.store import Store


@dataclass(frozen=True)
class Flushed:
    """What a flush did: the email outbox's report and the webhook spool's."""

    email: FlushReport = field(default_factory=FlushReport)
    hooks: WebhookReport = field(default_factory=WebhookReport)

    def daily_lines(self, home: Path) -> tuple[str, ...]:
        """What a daily run says of the outbox: each waiting digest it delivered, and what
        still waits (with the first reason). Nothing when the outbox was empty."""
        lines = [
            f"Sent {what_key(key)} from the outbox to {', '.join(to)}."
            for key, to in _by_key(self.email.sent).items()
        ]
        posted = zip(self.hooks.digest_keys, self.hooks.sent, strict=True)
        lines += [
            f"Posted {what_key(key)} from the outbox to {', '.join(to)}."
            for key, to in _by_key(posted).items()
        ]
        left = waiting(home)
        if left:
            errors = [*self.email.errors, *self.hooks.errors]
            why = f" ({errors[0]})" if errors else ""
            lines.append(
                f"{plural(left, 'message')} still {'waits' if left == 1 else 'wait'} in the "
                f"outbox{why}: `digest outbox list` says which, `digest outbox flush` sends them."
            )
        return tuple(lines)


def _by_key(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """(digest key, recipient) pairs grouped by digest, in the order first met."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for key, to in pairs:
        grouped[key].append(to)
    return grouped


def what_key(digest_key: str) -> str:
    """A ledger key in words: 'the digest of 2026-12-03', "bob's digest of ...", 'the
    "nothing new" note of ...', 'the topic digest "rag" of ...'."""
    kind, _, rest = digest_key.partition(":")
    kind, _, reader = kind.partition("@")
    day, _, extra = rest.partition(":")
    whose = f"{reader}'s" if reader else "the"
    if kind == "topic":
        topic = extra.removesuffix(":sample")
        return f'{whose} topic digest "{topic}" of {day}'
    what = "'nothing new' note" if "empty" in extra.split(":") else "digest"
    return f"{whose} {what} of {day}"


def waiting(home: Path) -> int:
    """How many messages and webhook payloads wait in DIGEST_HOME's outbox."""
    outbox = home / "outbox"
    count = 0
    for folder in (outbox, webhook_spool(outbox)):
        entries, broken = spooled_entries(folder)
        count += len(entries) + len(broken)
    return count


async def flush_spooled(
    settings: Settings, store: Store, *, email: bool = True, hooks: bool = True
) -> Flushed:
    """Send the spooled messages (`email`) and post the spooled payloads (`hooks`), once, and
    mark each delivered daily digest's papers as seen. ConfigError when messages wait and
    email is not configured."""
    outbox = settings.home / "outbox"
    report = FlushReport()
    if email:
        report = flush_outbox(outbox, settings=settings.email, store=store)
        mark_flushed_digests(settings.home, store, [key for key, _ in report.sent])
    posted = WebhookReport()
    if hooks:
        posted = await flush_webhooks(outbox, hooks=settings.webhooks, store=store)
        mark_flushed_digests(settings.home, store, posted.digest_keys)
    return Flushed(report, posted)


async def flush_before_run(settings: Settings, store: Store, email: bool, hooks: bool) -> Flushed:
    """A daily run's first step: the outbox flushed on the run's channels. A flush that cannot
    send (email not configured) leaves the outbox as it is; the run says what waits."""
    try:
        return await flush_spooled(settings, store, email=email, hooks=hooks)
    except ConfigError:
        return await flush_spooled(settings, store, email=False, hooks=hooks)


__all__ = ["Flushed", "flush_before_run", "flush_spooled", "waiting", "what_key"]
