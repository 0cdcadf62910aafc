"""Blurbs kept per paper: a paper's blurb is written once and reused by every reader, by later
topic digests and by re-runs, whatever theme it lands in.

Keyed by sha256 over (model, blurbs prompt version, language, the paper's fenced title and
trimmed abstract). Only blurbs a model wrote are kept (never the offline engine's). The theme
summary a blurbs call wrote is kept too, under its theme title and exact papers, so a re-run
of a day is the same digest. Beyond MAX_BLURBS rows the oldest are dropped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from agent.models import Usage

if TYPE_CHECKING:
    from agent.store import BlurbStore
    from agent.summarize.llm.run.meter import UsageMeter

logger = logging.getLogger(__name__)

BLURB_KEY_VERSION = 1  # bump when the key material changes shape
MAX_BLURBS = 50_000

SUMMARY_ROW = ""  # the paper id of a kept theme summary's row
Written = tuple[str, str | None]  # (blurb, why_it_matters)


def blurb_key(model: str, prompt_version: str, language: str, title: str, text: str) -> str:
    return _sha([BLURB_KEY_VERSION, model, prompt_version, language, title, text])


def summary_key(theme_title: str, blurb_keys: Sequence[str]) -> str:
    """The key of a theme summary a blurbs call wrote for exactly these papers under this
    title (so a re-run of the same day is the same digest, summaries included)."""
    return _sha([BLURB_KEY_VERSION, "summary", theme_title, *blurb_keys])


def _sha(material: list[object]) -> str:
    blob = json.dumps(material, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class BlurbCache:
    """The store's per-paper blurbs for one engine run. `read=False` (--no-cache) still keeps
    what the model writes but never serves a kept blurb."""

    def __init__(
        self, store: BlurbStore, *, read: bool = True, meter: UsageMeter | None = None
    ) -> None:
        self.store = store
        self.read = read
        self.meter = meter

    def lookup(self, keys: Sequence[str]) -> dict[str, Written]:
        if not self.read or not keys:
            return {}
        try:
            return self.store.cached_blurbs(keys)
        except sqlite3.Error as exc:
            logger.warning("blurb cache unreadable (%s); asking the model", type(exc).__name__)
            return {}

    def keep(self, rows: Mapping[str, tuple[str, str, str | None]]) -> None:
        """Keep {key: (paper id, blurb, why)}."""
        if not rows:
            return
        try:
            self.store.keep_blurbs(
                ((key, pid, blurb, why) for key, (pid, blurb, why) in rows.items()), MAX_BLURBS
            )
        except sqlite3.Error as exc:
            logger.warning("blurb cache not written (%s)", type(exc).__name__)

    def summary(self, key: str) -> str | None:
        found = self.lookup([key]).get(key)
        return found[0] if found else None

    def keep_summary(self, key: str, summary: str) -> None:
        self.keep({key: (SUMMARY_ROW, summary, None)})

    def served(self, model: str) -> None:
        """Count a blurbs call that the kept blurbs made unnecessary as a cache hit."""
        if self.meter is not None:
            self.meter.add(model, Usage(cache_hits=1))


__all__ = ["MAX_BLURBS", "BlurbCache", "blurb_key", "summary_key"]
