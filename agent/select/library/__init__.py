"""The reader's library: files (BibTeX, RIS, Zotero CSV, a .txt of arXiv ids or DOIs, or papers
as .json/.jsonl like the file source) and the
Zotero web API, parsed once and kept in the state (re-read only when the file changes)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from agent.core.wording import plural
from agent.errors import ConfigError
from agent.select.library.formats import parse_bibtex, parse_ris, parse_zotero_csv
from agent.select.profile import LibraryEntry
from agent.sources.local import FIFO_WAIT_SECONDS, MAX_FILE_BYTES, FileTooLarge, read_capped

if TYPE_CHECKING:
    from agent.config import SourcesSettings
    from agent.sources.http import HttpFetcher
    from agent.store import LibraryStore

MAX_BYTES = MAX_FILE_BYTES  # a library file larger than this is refused
FORMATS = ("bib", "ris", "csv", "txt", "json", "jsonl")
PARSER_VERSION = "1"  # part of the cache fingerprint: a parser change re-reads every file


def detect_format(path: Path, text: str) -> str:
    """By extension, else by content: '@article{' is BibTeX, 'TY  -' RIS, a 'Title' header CSV."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    head = text.lstrip()[:2_000]
    if head.startswith("@"):
        return "bib"
    if head.startswith("TY  -"):
        return "ris"
    first = head.splitlines()[0] if head else ""
    if '"Title"' in first or first.startswith("Key,"):
        return "csv"
    return "txt"


def _read(path: Path, wait: float = FIFO_WAIT_SECONDS) -> tuple[bytes, str]:
    try:
        data = read_capped(path, MAX_BYTES, wait=wait)
    except FileTooLarge as exc:
        raise ConfigError(f"library {path}: {exc}") from None
    except FileNotFoundError:
        raise ConfigError(f"library {path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"library {path}: is a directory, not a library file") from None
    except OSError as exc:
        raise ConfigError(f"library {path}: cannot be read: {exc.strerror or exc}") from None
    try:
        return data, data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"library {path}: not UTF-8 text (export it as UTF-8)") from None


def _no_entries(path: Path) -> ConfigError:
    return ConfigError(f"library {path}: no usable entries (each needs at least a title)")


_KINDS = {
    "bib": "BibTeX",
    "ris": "RIS",
    "csv": "Zotero CSV",
    "json": "papers (JSON)",
    "jsonl": "papers (JSONL)",
    "txt": "arXiv ids / DOIs",
}


def _parse_here(kind: str, path: Path, text: str) -> list[LibraryEntry]:
    """The entries of a file that needs no look-up (every format but a list of ids)."""
    if kind == "bib":
        return parse_bibtex(text, path)
    if kind == "ris":
        return parse_ris(text, path)
    if kind == "csv":
        return parse_zotero_csv(text, path)
    # json, jsonl: papers as the file source reads them (id, title, abstract...), from the
    # text already read (a FIFO gives its bytes once)
    from agent.sources.local import papers_from_text

    return [
        LibraryEntry(
            key=p.id,
            title=p.title,
            abstract=p.abstract,
            authors=p.authors,
            categories=p.categories,
        )
        for p in papers_from_text(path, text, f"library:{path}")
    ]


async def parse_library(
    path: Path,
    text: str,
    sources: SourcesSettings,
    store: LibraryStore | None,
    fetcher: HttpFetcher | None = None,
) -> list[LibraryEntry]:
    kind = detect_format(path, text)
    if kind != "txt":
        return _parse_here(kind, path, text)
    from agent.select.library.idlist import look_up

    return await look_up(path, text, sources, store, fetcher=fetcher)


def describe_library_file(path: Path) -> str:
    """What a run will find in this file, checked now without looking anything up
    ("BibTeX, 12 entries"); ConfigError (one line, naming the file) when it is missing,
    unreadable, not UTF-8 text, not in a known format, or has no usable entry."""
    path = path.expanduser().resolve()
    try:
        _, text = _read(path)
        kind = detect_format(path, text)
        if kind == "txt":
            from agent.select.library.idlist import read_ids

            arxiv, dois = read_ids(text, path)
            count = len(arxiv) + len(dois)
        else:
            count = len(_parse_here(kind, path, text))
    except ConfigError as exc:
        if not path.is_file() or path.suffix.lower().lstrip(".") in FORMATS:
            raise
        known = ", ".join(f".{suffix}" for suffix in FORMATS)
        raise ConfigError(f"{exc} (a library file is one of {known})") from None
    if not count:
        raise _no_entries(path)
    return f"{_KINDS[kind]}, {plural(count, 'id') if kind == 'txt' else plural(count, 'entry', 'entries')}"


async def load_library(
    path: Path,
    sources: SourcesSettings,
    store: LibraryStore | None,
    *,
    fetcher: HttpFetcher | None = None,
) -> list[LibraryEntry]:
    """The entries of one library file, from the state when the file is unchanged. A file with
    nothing usable, unreadable, or with a broken entry raises ConfigError (exit 2)."""
    path = path.expanduser().resolve()
    data, text = _read(path, sources.timeout_seconds)
    origin = f"file:{path}"
    fingerprint = f"{PARSER_VERSION}:{hashlib.sha256(data).hexdigest()}"
    if store is not None:
        cached = store.cached_library(origin, fingerprint)
        if cached is not None:
            return [LibraryEntry.model_validate(item) for item in json.loads(cached)]
    entries = await parse_library(path, text, sources, store, fetcher)
    if not entries:
        raise _no_entries(path)
    if store is not None:
        store.cache_library(
            origin, fingerprint, json.dumps([e.model_dump(mode="json") for e in entries])
        )
    return entries


__all__ = [
    "FORMATS",
    "MAX_BYTES",
    "describe_library_file",
    "detect_format",
    "load_library",
    "parse_library",
]
