"""The archive: every digest's files under DIGEST_HOME/archive/<date>/, plus a static index.html
and an Atom feed (feed.xml) with one entry per digest.

A digest of the bundled sample day alone is a demo, not the day's news: it is kept apart, in
`<date>/sample/`, and left out of the index and the feed, so that trying the tool never takes
the place of (or lists a demo over) the real digest of that day."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from agent.core.atomic import write_atomic
from agent.models import Digest
from agent.readers import READER_FOLDER_PREFIX
from agent.render import ArchiveEntry, DigestFiles, render_archive_index
from agent.render.atom_feed import MAX_ENTRIES, FeedItem, render_archive_feed
from agent.sources.local import sample_only

SAMPLE_FOLDER = "sample"  # a digest of the sample day alone, beside the day's real one


def archive_root(home: Path) -> Path:
    return home / "archive"


def is_sample_digest(digest: Digest) -> bool:
    """True for a digest of the bundled sample day alone (no paper of a real source)."""
    return sample_only(p.source for p in digest.papers.values())


def archive_folder(day: Path, digest: Digest) -> Path:
    """The folder of the archive (or of --out) that holds `digest`, given its day's folder
    (`<date>`, `<date>/reader-<name>`): that one, or its `sample/` for a digest of the sample
    day alone (a topic digest's `topic-<slug>` goes under it)."""
    return day / SAMPLE_FOLDER if is_sample_digest(digest) else day


def kept_apart(where: Path) -> str:
    """What a run says of its digest of the sample day alone, archived in `where`."""
    return (
        f"the sample day's digest is archived apart, in {where} (not in the archive's index "
        "or feed, never in place of a real digest)"
    )


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
        return _paper_refs(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, AttributeError):
        return []


def _paper_refs(data: dict) -> list[dict]:
    """The paper references of a digest.json: the themes', also new, updated."""
    refs = [p for t in data.get("themes", []) for p in t.get("papers", [])]
    return refs + data.get("also_new", []) + data.get("updated", [])


def reader_of(json_path: Path, root: Path) -> str | None:
    """The reader a digest was archived for (`<date>/reader-<name>/…`), or None."""
    for part in json_path.relative_to(root).parts[:-1]:
        if part.startswith(READER_FOLDER_PREFIX):
            return part.removeprefix(READER_FOLDER_PREFIX) or None
    return None


def _read(json_path: Path) -> dict | None:
    """An archived digest.json, or None when it cannot be read (left out, never fatal)."""
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _listed(data: dict) -> bool:
    """False for a digest of the sample day alone (kept, never listed) and for a damaged one."""
    try:
        return not sample_only(r.get("source") for r in _paper_refs(data))
    except (TypeError, AttributeError):
        return False


def _entry(json_path: Path, data: dict, root: Path) -> ArchiveEntry | None:
    try:
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


def _feed_item(json_path: Path, data: dict, root: Path) -> FeedItem | None:
    html_path = json_path.parent / "digest.html"
    try:
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
    """Write archive/index.html (every archived digest but the sample day's, newest first) and
    archive/feed.xml."""
    root = archive_root(home)
    root.mkdir(parents=True, exist_ok=True)
    listed = {  # each digest.json read once, for its entry and its feed item
        path: data
        for path in sorted(root.glob("**/digest.json"))
        if (data := _read(path)) is not None and _listed(data)
    }
    entries = [entry for path, data in listed.items() if (entry := _entry(path, data, root))]
    entries.sort(key=lambda e: (e.date, e.kind, e.topic or ""), reverse=True)
    index = root / "index.html"
    write_atomic(index, render_archive_index(entries).encode("utf-8"))
    newest = [root / Path(e.href).parent / "digest.json" for e in entries[:MAX_ENTRIES]]
    items = [item for path in newest if (item := _feed_item(path, listed[path], root))]
    write_atomic(root / "feed.xml", render_archive_feed(items))
    return index
