"""The spool format of the outbox: messages (and webhook payloads) that did not go, on disk.

Layout of `outbox_dir` (usually DIGEST_HOME/outbox), one pair per (digest, recipient):

    <digest_key>__<recipient>.json   sidecar: digest_key, recipient, message_id, attempts,
                                     last_error, spooled_at (never a password or other secret)
    <digest_key>__<recipient>.eml    the exact bytes to send (CRLF), with the final headers

The sidecar is written before the .eml and deleted after it, so an .eml without a sidecar
never exists; both are written atomically (temp file + rename). A flush is only a
retry of the same bytes: the Message-ID a recipient sees is the one the first attempt used.
The flush that sends them is in `agent.deliver.outbox`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from agent.core.atomic import write_atomic

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


def update_entry(entry: SpoolEntry, attempts: int, last_error: str) -> None:
    """Add `attempts` to a spooled entry's count and record the latest error."""
    meta = {
        "digest_key": entry.digest_key,
        "recipient": entry.recipient,
        "message_id": entry.message_id,
        "attempts": entry.attempts + attempts,
        "last_error": last_error,
        "spooled_at": entry.spooled_at,
    }
    _write_atomic(entry.sidecar, json.dumps(meta, indent=2).encode("utf-8"))
