"""What the outbox holds at the instant a ledger row is written (the message was sent)."""

from __future__ import annotations

from pathlib import Path

from agent.deliver.spool import spooled_entries
from agent.store import Store


def spool_at_each_ledger_write(store: Store, folder: Path) -> list[tuple[str, int, str]]:
    """Wrap `store.record_sent`: before each row, note the one entry spooled in `folder`
    (recipient, attempts, last error). The list fills as rows are written."""
    seen: list[tuple[str, int, str]] = []
    real = store.record_sent

    def record_sent(key: str, recipient: str, message_id: str) -> None:
        [entry], _ = spooled_entries(folder)
        seen.append((entry.recipient, entry.attempts, entry.last_error))
        real(key, recipient, message_id)

    store.record_sent = record_sent  # type: ignore[method-assign]
    return seen
