"""Local sources: the bundled sample day and `file:PATH` (.jsonl or a .json list)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.errors import ConfigError
from agent.models import Paper
from agent.resources import sample_corpus_path
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
        authors=_as_list(record.get("authors")),
        categories=categories,
        primary_category=record.get("primary_category") or (categories[0] if categories else None),
        url=record.get("url") or None,
        pdf_url=record.get("pdf_url") or None,
        published=_as_datetime(record.get("published")),
        source=source,
        upvotes=record.get("upvotes"),
        version=record.get("version"),
        code_url=record.get("code_url") or None,
        stars=record.get("stars"),
        hf_url=record.get("hf_url") or None,
    )


MAX_FILE_BYTES = 50_000_000  # a paper or library file larger than this is refused


class FileTooLarge(OSError):
    """The file holds more than the bytes allowed (a device or a FIFO counts by what it sends)."""


def read_capped(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes, read at most `limit` + 1 of them: `stat` says 0 for /dev/zero or a FIFO."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"more than the {limit:,} bytes allowed")
    return data


def _records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line or item number, record) pairs; raises ConfigError naming the file and line."""
    try:
        text = read_capped(path).decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"file source {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"file source {path}: cannot read it ({exc})") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}: malformed JSON: {exc.msg}") from None
        except RecursionError:
            raise ConfigError(f"{path}: JSON nested too deeply to read") from None
        if not isinstance(data, list):
            raise ConfigError(f"{path}: expected a JSON list of papers, got {type(data).__name__}")
        yield from enumerate(data, start=1)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{number}: malformed JSONL: {exc.msg}") from None
        except RecursionError:
            raise ConfigError(f"{path}:{number}: JSON nested too deeply to read") from None


def read_paper_file(path: Path, source: str) -> list[Paper]:
    """Every paper of a .jsonl / .json file, or a ConfigError naming the bad line."""
    papers: list[Paper] = []
    unit = "item" if path.suffix.lower() == ".json" else "line"
    for number, record in _records(path):
        try:
            papers.append(record_to_paper(record, source))
        except (TypeError, ValueError, ValidationError) as exc:
            reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            raise ConfigError(f"{path}: {unit} {number}: {reason}") from None
    return papers


SAMPLE = "sample"


def is_sample(source: str | None) -> bool:
    """Papers of the bundled demo day are never marked as seen or kept: it is not news."""
    return source == SAMPLE


class SampleSource(Source):
    """The bundled sample day (207 real papers, ids dp-001 ...): works offline, never 'seen'."""

    name = SAMPLE

    def fetch(self, ctx: FetchContext) -> list[Paper]:
        return read_paper_file(sample_corpus_path(), self.name)


class FileSource(Source):
    """Papers from a local .jsonl or .json file."""

    def __init__(self, path: str) -> None:
        if not path.strip():
            raise ConfigError("file source needs a path: file:PATH")
        self.path = Path(path).expanduser()
        self.name = f"file:{path}"

    def fetch(self, ctx: FetchContext) -> list[Paper]:
        if self.path.suffix.lower() not in {".jsonl", ".json"}:
            raise ConfigError(f"file source {self.path}: expected a .jsonl or .json file")
        return read_paper_file(self.path, self.name)


class StoredPapersSource(Source):
    """Papers kept in the state database by earlier runs (for `digest topic`)."""

    name = "local"

    def fetch(self, ctx: FetchContext) -> list[Paper]:
        if ctx.store is None:
            return []
        return [Paper.model_validate_json(blob) for blob in ctx.store.kept_papers()]
