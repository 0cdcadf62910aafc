"""archive/feed.xml: an Atom 1.0 feed of the archive, one entry per digest with its HTML.

Built with ElementTree, so every title, headline and the HTML body are escaped as XML text;
a feed reader shows the digest as the email shows it. Newest first, the latest `MAX_ENTRIES`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from agent.render.view import folded, format_date, safe_href

ATOM_NS = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 30
FEED_ID = "urn:paper-digest:archive"


@dataclass(frozen=True)
class FeedItem:
    date: dt.date
    kind: str  # "daily" or "topic"
    topic: str | None
    headline: str
    href: str  # relative to the archive root ("2026-11-26/digest.html")
    html: str  # the digest's HTML, shown as the entry's content
    updated: dt.datetime  # when the digest was written (aware)
    reader: str | None = None  # a named reader's digest (`[readers.NAME]`)


def _title(item: FeedItem) -> str:
    topic = folded(item.topic)
    reader = f" · for {folded(item.reader)}" if item.reader else ""
    if item.kind == "topic" and topic:
        return f"Topic: {topic} · {format_date(item.date)}{reader}"
    return f"Paper digest · {format_date(item.date, long=True)}{reader}"


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def render_archive_feed(items: Sequence[FeedItem], *, title: str = "Paper digest") -> bytes:
    """The feed document (UTF-8 bytes with an XML declaration)."""
    ordered = sorted(items, key=lambda i: (i.date, i.updated), reverse=True)[:MAX_ENTRIES]
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    ET.SubElement(feed, f"{{{ATOM_NS}}}id").text = FEED_ID
    ET.SubElement(feed, f"{{{ATOM_NS}}}title").text = title
    newest = max((i.updated for i in ordered), default=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    ET.SubElement(feed, f"{{{ATOM_NS}}}updated").text = _stamp(newest)
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", rel="alternate", href="index.html")
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", rel="self", href="feed.xml")
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    ET.SubElement(author, f"{{{ATOM_NS}}}name").text = "paper-digest"
    for item in ordered:
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        ET.SubElement(entry, f"{{{ATOM_NS}}}id").text = f"{FEED_ID}:{item.href}"
        ET.SubElement(entry, f"{{{ATOM_NS}}}title").text = _title(item)
        ET.SubElement(entry, f"{{{ATOM_NS}}}updated").text = _stamp(item.updated)
        href = safe_href(item.href)
        if href:
            ET.SubElement(entry, f"{{{ATOM_NS}}}link", rel="alternate", type="text/html", href=href)
        ET.SubElement(entry, f"{{{ATOM_NS}}}summary").text = folded(item.headline)
        ET.SubElement(entry, f"{{{ATOM_NS}}}content", type="html").text = item.html
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
