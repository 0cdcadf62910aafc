"""Local sources: the bundled sample day and `file:PATH` (.jsonl or a .json list). A record's
authors are `authors` (names, or objects with a `name`) or, in a CSL-JSON export (Zotero,
Mendeley, citation.js), `author` (objects with `family`/`given` or `literal`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import os
import select
import stat
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.core import links, parsing
from agent.core.one_line import one_line
from agent.core.resources import sample_corpus_path
from agent.errors import ConfigError
from agent.models import Paper
from agent.sources.base import FetchContext, Source
from agent.sources.clean import clean_text


def _as_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list):
        names = (item.get("name", "") if isinstance(item, dict) else str(item) for item in value)
        return tuple(clean_text(name) for name in names if name and str(name).strip())
    raise ValueError(f"expected a list or a comma-separated string, got {type(value).__name__}")


_CSL_NAME_PARTS = ("given", "dropping-particle", "non-dropping-particle", "family", "suffix")


def _csl_names(value: Any) -> tuple[str, ...]:
    """CSL-JSON's `author` list as 'Given Family' names: `literal` (an organisation, or a name
    given whole) or the name's parts in reading order; anything else is skipped."""
    if not isinstance(value, list):
        return ()
    names = []
    for person in value:
        if not isinstance(person, dict):
            continue
        literal = person.get("literal")
        parts = [person.get(part) for part in _CSL_NAME_PARTS]
        whole = literal if isinstance(literal, str) and literal.strip() else None
        name = whole or " ".join(part for part in parts if isinstance(part, str))
        if cleaned := clean_text(name):
            names.append(cleaned)
    return tuple(names)


def _as_datetime(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    text = str(value).strip().replace("Z", "+00:00")
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def record_to_paper(record: Any, source: str) -> Paper:
    """Build a Paper from one JSON record (fields id, title, abstract; optional extras)."""
    if not isinstance(record, dict):
        raise TypeError(f"expected a JSON object, got {type(record).__name__}")
    missing = [key for key in ("id", "title") if not str(record.get(key) or "").strip()]
    if missing:
        raise ValueError(f"missing field {', '.join(repr(key) for key in missing)}")
    categories = _as_list(record.get("categories"))
    return Paper(
        id=str(record["id"]).strip(),
        title=clean_text(str(record["title"])),
        abstract=clean_text(str(record.get("abstract") or "")),
        authors=_as_list(record.get("authors")) or _csl_names(record.get("author")),
        categories=categories,
        primary_category=record.get("primary_category") or (categories[0] if categories else None),
        url=links.link_from(record.get("url")),
        pdf_url=links.link_from(record.get("pdf_url")),
        published=_as_datetime(record.get("published")),
        source=source,
        upvotes=record.get("upvotes"),
        version=record.get("version"),
        code_url=links.link_from(record.get("code_url")),
        stars=record.get("stars"),
        hf_url=links.link_from(record.get("hf_url")),
    )


MAX_FILE_BYTES = 50_000_000  # a paper or library file larger than this is refused


FIFO_WAIT_SECONDS = 10.0  # a pipe (or a device) must have sent everything within this


class FileTooLarge(OSError):
    """The file holds more than the bytes allowed (a device or a FIFO counts by what it sends)."""


class NothingToRead(OSError):
    """A pipe or device sent nothing (a FIFO with no writer) within FIFO_WAIT_SECONDS."""


def read_capped(
    path: Path, limit: int = MAX_FILE_BYTES, *, wait: float = FIFO_WAIT_SECONDS
) -> bytes:
    """The file's bytes, read at most `limit` + 1 of them (`stat` says 0 for /dev/zero or a
    FIFO). Opened without blocking, so a FIFO with no writer cannot hold the run: a pipe or a
    device must send its whole content within `wait` seconds."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        if stat.S_ISREG(mode):
            os.set_blocking(fd, True)
            with os.fdopen(os.dup(fd), "rb") as handle:
                data = handle.read(limit + 1)
        else:
            data = _read_stream(fd, limit, wait)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileTooLarge(f"more than the {limit:,} bytes allowed")
    return data


def _read_stream(fd: int, limit: int, wait: float) -> bytes:
    """A pipe's or device's bytes until its end, `limit` + 1 at most, within `wait` seconds."""
    deadline = time.monotonic() + wait
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    data = bytearray()
    while len(data) <= limit:
        left = deadline - time.monotonic()
        if left <= 0:
            what = "sent nothing" if not data else "did not finish"
            raise NothingToRead(
                errno.ETIMEDOUT, f"{what} within {wait:g} s (a FIFO with no writer?)"
            )
        if not poller.poll(min(left, 0.2) * 1000):
            continue
        try:
            chunk = os.read(fd, min(1 << 20, limit + 1 - len(data)))
        except BlockingIOError:
            continue
        if not chunk:  # the writer closed (or none has opened the FIFO yet)
            if data:
                break
            time.sleep(min(0.05, max(left, 0)))
            continue
        data += chunk
    return bytes(data)


def read_text(path: Path, what: str, *, wait: float = FIFO_WAIT_SECONDS) -> str:
    """The whole file as UTF-8 text (capped, a FIFO within `wait`); ConfigError naming it."""
    try:
        return read_capped(path, wait=wait).decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{what} {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"{what} {path}: cannot read it ({reason})") from None


def _records(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    """(line or item number, record) pairs of a .json list or .jsonl text; raises ConfigError
    naming the file and line (`agent.core.parsing`: depth and size capped)."""
    if path.suffix.lower() == ".json":
        try:
            data = parsing.loads(text, what="JSON")
        except parsing.JsonError as exc:
            raise ConfigError(f"{path}:{exc.lineno}: malformed JSON: {exc.msg}") from None
        if not isinstance(data, list):
            raise ConfigError(f"{path}: expected a JSON list of papers, got {type(data).__name__}")
        yield from enumerate(data, start=1)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, parsing.loads(line, what="JSON")
        except parsing.JsonError as exc:
            raise ConfigError(f"{path}:{number}: malformed JSONL: {exc.msg}") from None


def papers_from_text(path: Path, text: str, source: str) -> list[Paper]:
    """Every paper of a .jsonl / .json text read from `path`, or a ConfigError naming the bad
    line."""
    papers: list[Paper] = []
    unit = "item" if path.suffix.lower() == ".json" else "line"
    for number, record in _records(path, text):
        try:
            papers.append(record_to_paper(record, source))
        except (TypeError, ValueError, ValidationError) as exc:
            reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            raise ConfigError(f"{path}: {unit} {number}: {one_line(reason, 200)}") from None
    return papers


def read_paper_file(path: Path, source: str, *, wait: float = FIFO_WAIT_SECONDS) -> list[Paper]:
    """Every paper of a .jsonl / .json file, or a ConfigError naming the bad line."""
    return papers_from_text(path, read_text(path, "file source", wait=wait), source)


SAMPLE = "sample"


def is_sample(source: str | None) -> bool:
    """Papers of the bundled demo day are never marked as seen or kept: it is not news."""
    return source == SAMPLE


def sample_only(sources: Iterable[str | None]) -> bool:
    """True when there is a paper and every one is the sample day's (a demo, not a day's news)."""
    found = list(sources)
    return bool(found) and all(is_sample(source) for source in found)


class SampleSource(Source):
    """The bundled sample day (207 real papers, ids dp-001 ...): works offline, never 'seen'."""

    name = SAMPLE

    async def fetch(self, ctx: FetchContext) -> list[Paper]:
        return read_paper_file(sample_corpus_path(), self.name)  # bundled and small: read here


class FileSource(Source):
    """Papers from a local .jsonl or .json file."""

    def __init__(self, path: str) -> None:
        if not path.strip():
            raise ConfigError("file source needs a path: file:PATH")
        self.path = Path(path).expanduser()
        self.name = f"file:{path}"

    async def fetch(self, ctx: FetchContext) -> list[Paper]:
        if self.path.suffix.lower() not in {".jsonl", ".json"}:
            raise ConfigError(f"file source {self.path}: expected a .jsonl or .json file")
        # A FIFO may block up to the timeout: read on a worker thread, the other sources go on.
        wait = ctx.sources.timeout_seconds
        return await asyncio.to_thread(read_paper_file, self.path, self.name, wait=wait)


class StoredPapersSource(Source):
    """Papers kept in the state database by earlier runs (for `digest topic`)."""

    name = "local"

    async def fetch(self, ctx: FetchContext) -> list[Paper]:
        if ctx.store is None:
            return []
        return [Paper.model_validate_json(blob) for blob in ctx.store.kept_papers()]
