"""The archive's static index.html: past digests, newest first, in the email's visual style."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from agent.models import OTHER_THEME
from agent.render.env import html_env
from agent.render.view import folded, format_date, plural, safe_href

_THEMES_SHOWN = 5


@dataclass(frozen=True)
class ArchiveEntry:
    date: dt.date
    kind: str  # "daily" or "topic"
    topic: str | None
    theme_titles: Sequence[str]
    paper_count: int
    engine: str
    href: str  # relative path (e.g. "2026-11-26-daily/digest.html") or an http(s) URL
    reader: str | None = None  # a named reader's digest (`[readers.NAME]`)


@dataclass(frozen=True)
class _EntryView:
    date: str
    kind_label: str
    heading: str
    themes: str
    meta: str
    href: str | None


def _entry_view(entry: ArchiveEntry) -> _EntryView:
    titles = [folded(t) for t in entry.theme_titles if folded(t) and t != OTHER_THEME]
    themes = " · ".join(titles[:_THEMES_SHOWN])
    if len(titles) > _THEMES_SHOWN:
        themes += f" · +{len(titles) - _THEMES_SHOWN} more"
    topic = folded(entry.topic)
    is_topic = entry.kind == "topic" and bool(topic)
    engine = "offline engine" if entry.engine == "offline" else entry.engine.removeprefix("llm:")
    return _EntryView(
        date=entry.date.isoformat(),
        kind_label=("Topic" if entry.kind == "topic" else "Daily")
        + (f" · for {folded(entry.reader)}" if entry.reader else ""),
        heading=(topic[0].upper() + topic[1:]) if is_topic else format_date(entry.date, long=True),
        themes=themes,
        meta=f"{plural(entry.paper_count, 'paper')} · {plural(len(titles), 'theme')} · {engine}",
        href=safe_href(entry.href),
    )


def render_archive_index(entries: Sequence[ArchiveEntry], *, title: str = "Past digests") -> str:
    """index.html for the archive directory; entries are sorted newest first here."""
    ordered = sorted(entries, key=lambda e: (e.date, e.kind == "daily"), reverse=True)
    views = [_entry_view(e) for e in ordered]
    summary = plural(len(views), "digest") if views else "Nothing archived yet."
    return (
        html_env().get_template("archive.html").render(title=title, entries=views, summary=summary)
    )
