"""archive/feed.xml: an Atom 1.0 feed of the archive, one entry per digest with its HTML.

Built with ElementTree, so every title, headline and the HTML body are escaped as XML text;
a feed reader shows the digest as the email shows it. Newest first, the latest `MAX_ENTRIES`.
ElementTree escapes markup but writes any character: every text and attribute goes through
`xml_text`, which drops what XML 1.0 does not allow (C0 controls, lone surrogates, U+FFFE,
U+FFFF), so one odd character in one archived digest cannot make the whole feed unreadable.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from agent.render.view import folded, format_date, safe_href

ATOM_NS = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 30
FEED_ID = "urn:paper-digest:archive"
# Everything but XML 1.0's `Char` production: tab, line feed, carriage return, U+0020-U+D7FF,
# U+E000-U+FFFD and U+10000-U+10FFFF.
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


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


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 does not allow (a parser refuses the document)."""
    return _NOT_XML_CHAR.sub("", text)


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    """A child Atom element whose text and attributes hold only characters XML 1.0 allows."""
    child = ET.SubElement(
        parent, f"{{{ATOM_NS}}}{tag}", {k: xml_text(v) for k, v in attrib.items()}
    )
    if text is not None:
        child.text = xml_text(text)
    return child


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
    _add(feed, "id", FEED_ID)
    _add(feed, "title", title)
    newest = max((i.updated for i in ordered), default=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    _add(feed, "updated", _stamp(newest))
    _add(feed, "link", rel="alternate", href="index.html")
    _add(feed, "link", rel="self", href="feed.xml")
    _add(_add(feed, "author"), "name", "paper-digest")
    for item in ordered:
        entry = _add(feed, "entry")
        _add(entry, "id", f"{FEED_ID}:{item.href}")
        _add(entry, "title", _title(item))
        _add(entry, "updated", _stamp(item.updated))
        href = safe_href(item.href)
        if href:
            _add(entry, "link", rel="alternate", type="text/html", href=href)
        _add(entry, "summary", folded(item.headline))
        _add(entry, "content", item.html, type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
