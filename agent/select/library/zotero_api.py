"""The Zotero web API as a library: top-level items of the library or of the chosen collections,
paged and capped, read through the bounded client (`agent.core.http`).

Each page is one request under `zotero.timeout_seconds` (connect to last byte) and
`zotero.max_response_bytes`; the whole read, every page, retry and wait, fits in
`zotero.budget_seconds`. The server's `Backoff` (wait before the next request) and
`Retry-After` (on 429/503) are honoured when they fit in what is left of that budget, and end
the read at once when they do not: nothing sleeps for 50 minutes, and no library starts a
thread behind our back. A reply that is not a JSON list of items (text, BibTeX, an object, a
redirect elsewhere) is an error with one line, never a traceback. The API key is a secret:
sent in the `Zotero-API-Key` header only, to the configured origin only (a redirect to another
host, port or scheme is followed without it), never logged, never cached.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agent.core import parsing, redact
from agent.core.http import HttpClient, HttpFailure, Limits, Response
from agent.core.one_line import one_line
from agent.core.retry_policy import wait_within
from agent.errors import ConfigError
from agent.select.profile import LibraryEntry
from agent.sources.clean import clean_text

if TYPE_CHECKING:
    from agent.config import ZoteroSettings
    from agent.store import LibraryCache

logger = logging.getLogger(__name__)
PAGE = 100
SKIPPED_TYPES = frozenset({"attachment", "note", "annotation"})
API_VERSION = "3"
MAX_ATTEMPTS = 3
MAX_WAIT_SECONDS = 60.0
_JSON_TYPES = frozenset({"application/json", "text/json"})


class ZoteroError(Exception):
    """The library could not be read; `refused` when the key was not accepted (HTTP 403)."""

    def __init__(self, reason: str, *, refused: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.refused = refused


def _origin(settings: ZoteroSettings) -> str:
    collections = ",".join(sorted(settings.collections)) or "all"
    return f"zotero:{settings.library_type}:{settings.user_id}:{collections}"


def _text(value: object) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def _entry(item: object) -> LibraryEntry | None:
    """One item of the API's answer as a library entry; None for notes, attachments, items
    without a title and anything that is not an item."""
    if not isinstance(item, dict):
        return None
    data = item.get("data", item)
    if not isinstance(data, dict):
        return None
    kind = data.get("itemType")
    if isinstance(kind, str) and kind in SKIPPED_TYPES:
        return None
    title = _text(data.get("title"))
    if not title:
        return None
    authors = []
    creators = data.get("creators")
    for creator in creators if isinstance(creators, list) else ():
        if not isinstance(creator, dict):
            continue
        name = _text(creator.get("name")) or (
            f"{_text(creator.get('firstName'))} {_text(creator.get('lastName'))}"
        )
        if name.strip():
            authors.append(" ".join(name.split()))
    key = data.get("key") or item.get("key")
    return LibraryEntry(
        key=one_line(key, 60) if isinstance(key, str) and key.strip() else title[:40],
        title=title,
        abstract=_text(data.get("abstractNote")),
        authors=tuple(authors),
    )


def page_entries(response: Response, max_chars: int) -> tuple[list[LibraryEntry], int, int]:
    """(the library entries of one page, how many items the page held, how many of them were
    not items at all); ZoteroError when the page is not a JSON list."""
    page = _items(response, max_chars)
    entries = [e for e in map(_entry, page) if e is not None]
    return entries, len(page), sum(not isinstance(item, dict) for item in page)


def _items(response: Response, max_chars: int) -> list[Any]:
    """The JSON list a page holds; ZoteroError for anything else."""
    kind = response.media_type
    if kind and kind not in _JSON_TYPES:
        raise ZoteroError(f"the server answered {one_line(kind, 60)}, not JSON")
    try:
        data = parsing.loads(response.content, what="the Zotero reply", max_chars=max_chars)
    except parsing.JsonError as exc:
        raise ZoteroError(f"the reply is not readable JSON ({one_line(exc.msg, 120)})") from None
    if not isinstance(data, list):
        raise ZoteroError(f"expected a JSON list of items, got a {type(data).__name__}")
    return data


class ZoteroReader:
    """One read of the library, every page under one time budget."""

    def __init__(
        self,
        settings: ZoteroSettings,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self.clock = clock
        self.client = HttpClient(user_agent="paper-digest zotero", sleep=sleep, clock=clock)
        self._end = clock() + settings.budget_seconds
        self.skipped = 0

    def remaining(self) -> float:
        return self._end - self.clock()

    def _url(self, collection: str | None) -> str:
        kind = "users" if self.settings.library_type == "user" else "groups"
        base = f"{self.settings.base_url.rstrip('/')}/{kind}/{self.settings.user_id}"
        return (
            f"{base}/items/top"
            if collection is None
            else f"{base}/collections/{collection}/items/top"
        )

    async def _page(self, collection: str | None, start: int) -> Response:
        settings = self.settings
        remaining = self.remaining()
        if remaining <= 0:
            raise ZoteroError(f"the read took longer than {settings.budget_seconds:g} s; stopped")
        headers = {"Zotero-API-Version": API_VERSION}
        if settings.api_key is not None:
            key = settings.api_key.get_secret_value()
            redact.register_secret(key)
            headers["Zotero-API-Key"] = key
        limits = Limits(
            timeout=settings.timeout_seconds,  # the client clips it to the budget
            max_bytes=settings.max_response_bytes,
            attempts=MAX_ATTEMPTS,
            max_wait=MAX_WAIT_SECONDS,
            budget=remaining,
        )
        try:
            return await self.client.request(
                "GET",
                self._url(collection),
                limits=limits,
                params={"format": "json", "limit": PAGE, "start": start},
                headers=headers,
                secret_headers=("Zotero-API-Key",),  # not sent on when redirected elsewhere
            )
        except HttpFailure as exc:
            if exc.status == 403:
                raise ZoteroError("access refused", refused=True) from None
            if exc.status == 404 and collection is not None:
                raise ZoteroError(f"no collection {collection} in this library") from None
            raise ZoteroError(exc.reason) from None

    async def _back_off(self, response: Response) -> None:
        """Wait as the server's `Backoff` header asks before the next request, if it fits."""
        seconds = parsing.bounded_int(response.header("backoff"), max_digits=6)
        if not seconds:
            return
        wait = wait_within(seconds, cap=MAX_WAIT_SECONDS, remaining=self.remaining())
        if wait is None:
            raise ZoteroError(
                f"the server asked to wait {seconds} s before the next page (Backoff), longer "
                f"than the {self.settings.budget_seconds:g} s allowed for the whole read"
            )
        await self.sleep(wait)

    async def read(self) -> list[LibraryEntry]:
        entries: list[LibraryEntry] = []
        # Each collection in turn; no collection (None) reads the whole library's top items.
        collections: list[str | None] = [*self.settings.collections] or [None]
        for collection in collections:
            start = 0
            while start < self.settings.max_items:
                response = await self._page(collection, start)
                found, size, skipped = page_entries(response, self.settings.max_response_bytes)
                self.skipped += skipped
                entries.extend(found)
                start += PAGE
                if size < PAGE:
                    break
                await self._back_off(response)
        if self.skipped:
            logger.warning("Zotero: skipped %d entries that were not items", self.skipped)
        return entries


async def load_zotero(
    settings: ZoteroSettings,
    store: LibraryCache | None,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> list[LibraryEntry]:
    """The Zotero library's entries; the last good copy from the state when the API fails."""
    origin = _origin(settings)
    try:
        entries = await ZoteroReader(settings, sleep=sleep).read()
    except ZoteroError as exc:
        if exc.refused:
            raise ConfigError(
                f"Zotero refused access to {settings.library_type} library {settings.user_id}: "
                "check [zotero] user_id and api_key"
            ) from None
        reason = one_line(exc.reason, 300)
        cached = store.cached_library(origin, "last") if store is not None else None
        if cached is None:
            raise ConfigError(f"the Zotero library could not be read: {reason}") from None
        logger.warning("Zotero could not be read (%s); using the copy from the last run", reason)
        return [LibraryEntry.model_validate(item) for item in json.loads(cached)]
    if not entries:
        raise ConfigError(
            f"the Zotero library {settings.user_id} has no usable items (each needs a title)"
        )
    if store is not None:
        store.cache_library(
            origin, "last", json.dumps([e.model_dump(mode="json") for e in entries])
        )
    return entries


__all__ = ["ZoteroError", "ZoteroReader", "load_zotero", "page_entries"]
