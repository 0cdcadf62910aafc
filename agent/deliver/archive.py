"""The archive: every digest's files under DIGEST_HOME/archive/<date>/, plus a static index.html
and an Atom feed (feed.xml) with one entry per digest."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from agent.core.atomic import write_atomic
from agent.readers import READER_FOLDER_PREFIX
from agent.render import ArchiveEntry, DigestFiles, render_archive_index
from agent.render.atom_feed import MAX_ENTRIES, FeedItem, render_archive_feed


def archive_root(home: Path) -> Path:
    return home / "archive"


def archive_digest(home: Path, files: DigestFiles, relative: Path) -> Path:
    """Keep a digest's files under archive/<relative> (unless written there); refresh the index.

    `relative` is `<date>` for a daily digest (`<date>/reader-<name>` for a named reader's)
    and `<date>/topic-<slug>` for a topic digest (`<date>/reader-<name>/topic-<slug>`).
    Every file next to digest.json (html, txt, eml, md) is kept.
    """
    target = archive_root(home) / relative
    source_dir = files.json.parent
    if source_dir.resolve() != target.resolve():
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(source_dir.glob("digest.*")):
            shutil.copy2(path, target / path.name)
    return rebuild_index(home)


def archived_paper_refs(home: Path, folder: Path) -> list[dict]:
    """The paper references (id, version, title, source) of the daily digest archived in
    `folder` (`<date>`, or `<date>/reader-<name>`), or [] when there is none (or it cannot be
    read)."""
    path = archive_root(home) / folder / "digest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        refs = [p for t in data.get("themes", []) for p in t.get("papers", [])]
        return refs + data.get("also_new", []) + data.get("updated", [])
    except (OSError, ValueError, TypeError, AttributeError):
        return []


def reader_of(json_path: Path, root: Path) -> str | None:
    """The reader a digest was archived for (`<date>/reader-<name>/…`), or None."""
    for part in json_path.relative_to(root).parts[:-1]:
        if part.startswith(READER_FOLDER_PREFIX):
            return part.removeprefix(READER_FOLDER_PREFIX) or None
    return None


def _entry(json_path: Path, root: Path) -> ArchiveEntry | None:
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
        return ArchiveEntry(
            date=dt.date.fromisoformat(data["date"]),
            kind=data.get("kind", "daily"),
            topic=data.get("topic"),
            theme_titles=tuple(theme["title"] for theme in data.get("themes", [])),
            paper_count=sum(len(t.get("papers", [])) for t in data.get("themes", []))
            + len(data.get("also_new", [])),
            engine=data.get("engine", ""),
            href=(json_path.parent / "digest.html").relative_to(root).as_posix(),
            reader=reader_of(json_path, root),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged entry is left out of the index, never fatal


def _feed_item(json_path: Path, root: Path) -> FeedItem | None:
    html_path = json_path.parent / "digest.html"
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
        written = dt.datetime.fromtimestamp(json_path.stat().st_mtime, tz=dt.UTC)
        return FeedItem(
            date=dt.date.fromisoformat(data["date"]),
            kind=data.get("kind", "daily"),
            topic=data.get("topic"),
            headline=str(data.get("headline") or ""),
            href=html_path.relative_to(root).as_posix(),
            html=html_path.read_text(encoding="utf-8"),
            updated=written,
            reader=reader_of(json_path, root),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged entry is left out of the feed, never fatal


def rebuild_index(home: Path) -> Path:
    """Write archive/index.html (every archived digest, newest first) and archive/feed.xml."""
    root = archive_root(home)
    root.mkdir(parents=True, exist_ok=True)
    found = sorted(root.glob("**/digest.json"))
    entries = [entry for path in found if (entry := _entry(path, root))]
    entries.sort(key=lambda e: (e.date, e.kind, e.topic or ""), reverse=True)
    index = root / "index.html"
    write_atomic(index, render_archive_index(entries).encode("utf-8"))
    newest = [root / Path(e.href).parent / "digest.json" for e in entries[:MAX_ENTRIES]]
    items = [item for path in newest if (item := _feed_item(path, root))]
    write_atomic(root / "feed.xml", render_archive_feed(items))
    return index
