"""The Zotero web API as a library (pyzotero): top-level items of the library or of the chosen
collections, paged and capped. The API key is a secret: never logged, never cached."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from agent.errors import ConfigError
from agent.one_line import one_line
from agent.select.profile import LibraryEntry
from agent.sources.clean import clean_text

if TYPE_CHECKING:
    from agent.config import ZoteroSettings
    from agent.store import LibraryCache

logger = logging.getLogger(__name__)
PAGE = 100
SKIPPED_TYPES = frozenset({"attachment", "note", "annotation"})


def _origin(settings: ZoteroSettings) -> str:
    collections = ",".join(sorted(settings.collections)) or "all"
    return f"zotero:{settings.library_type}:{settings.user_id}:{collections}"


def _entry(item: dict[str, Any]) -> LibraryEntry | None:
    data = item.get("data", item)
    if not isinstance(data, dict) or data.get("itemType") in SKIPPED_TYPES:
        return None
    title = clean_text(str(data.get("title") or ""))
    if not title:
        return None
    authors = []
    for creator in data.get("creators") or ():
        if isinstance(creator, dict):
            name = (
                creator.get("name")
                or f"{creator.get('firstName', '')} {creator.get('lastName', '')}"
            )
            if name.strip():
                authors.append(" ".join(name.split()))
    return LibraryEntry(
        key=str(data.get("key") or item.get("key") or title[:40]),
        title=title,
        abstract=clean_text(str(data.get("abstractNote") or "")),
        authors=tuple(authors),
    )


def _fetch(settings: ZoteroSettings) -> list[LibraryEntry]:
    from pyzotero import zotero

    zotero.timeout = settings.timeout_seconds  # pyzotero reads its per-request timeout here
    api_key = settings.api_key.get_secret_value() if settings.api_key else None
    client = zotero.Zotero(settings.user_id, settings.library_type, api_key)
    client.endpoint = settings.base_url.rstrip("/")
    entries: list[LibraryEntry] = []
    # Each collection in turn; no collection (None) reads the whole library's top items.
    collections: list[str | None] = [*settings.collections] or [None]
    try:
        for collection in collections:
            start = 0
            while start < settings.max_items:
                if collection is None:
                    page = client.top(limit=PAGE, start=start)
                else:
                    page = client.collection_items_top(collection, limit=PAGE, start=start)
                entries.extend(e for e in map(_entry, page) if e is not None)
                start += PAGE
                if len(page) < PAGE:
                    break
    finally:
        client.client.close()
    return entries


def load_zotero(settings: ZoteroSettings, store: LibraryCache | None) -> list[LibraryEntry]:
    """The Zotero library's entries; the last good copy from the state when the API fails."""
    import httpx
    from pyzotero import zotero_errors

    origin = _origin(settings)
    try:
        entries = _fetch(settings)
    except zotero_errors.UserNotAuthorisedError:
        raise ConfigError(
            f"Zotero refused access to {settings.library_type} library {settings.user_id}: "
            "check [zotero] user_id and api_key"
        ) from None
    except (zotero_errors.PyZoteroError, httpx.HTTPError, ValueError) as exc:
        reason = one_line(exc) or type(exc).__name__
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
