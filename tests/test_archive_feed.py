"""archive/feed.xml (Atom, one entry per digest with its HTML) and `digest daily --format md`,
end to end through the real command, read back with feedparser as a feed reader would."""

from __future__ import annotations

import datetime as dt
import json

import feedparser
from defusedxml.ElementTree import fromstring

from agent.core.resources import demo_day_path
from agent.render.atom_feed import MAX_ENTRIES, FeedItem, render_archive_feed
from tests.processes import run_digest


def test_daily_writes_markdown_and_the_archive_feed(tmp_path):
    home = tmp_path / "home"
    archive = home / "archive"
    (archive / "2026-11-25").mkdir(parents=True)  # an earlier digest already in the archive
    earlier = {"kind": "daily", "date": "2026-11-25", "headline": "Earlier.", "themes": []}
    (archive / "2026-11-25" / "digest.json").write_text(json.dumps(earlier), encoding="utf-8")
    (archive / "2026-11-25" / "digest.html").write_text("<p>earlier</p>", encoding="utf-8")
    args = (
        "daily",
        "--source",
        f"file:{demo_day_path()}",  # a real day (the sample day's digests are kept apart)
        "--date",
        "2026-11-26",
        "--max-papers",
        "8",
        "--format",
        "md",
    )
    result = run_digest(*args, home=home, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    markdown = (archive / "2026-11-26" / "digest.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Today at a glance\n")
    assert "Thursday 26 November 2026" in markdown and "## Also new today (" in markdown
    assert "digest.md" in result.stdout.replace("\n", "")
    assert not (archive / "2026-11-25" / "digest.md").exists()  # only with --format md

    feed = feedparser.parse((archive / "feed.xml").read_bytes(), sanitize_html=False)
    assert not feed.bozo and feed.version == "atom10"
    assert [e.title for e in feed.entries] == [
        "Paper digest · Thursday 26 November 2026",
        "Paper digest · Wednesday 25 November 2026",
    ]
    newest = feed.entries[0]
    assert newest.link == "2026-11-26/digest.html"
    html = (archive / "2026-11-26" / "digest.html").read_text(encoding="utf-8")
    assert "Today at a glance</h1>" in newest.content[0].value
    root = fromstring((archive / "feed.xml").read_bytes())
    content = root.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content")
    assert content is not None and content.text == html  # the whole email, escaped as text
    assert newest.summary.startswith("8 new papers today")
    assert 'href="feed.xml"' in (archive / "index.html").read_text(encoding="utf-8")


def test_feed_escapes_text_and_keeps_the_newest():
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    items = [
        FeedItem(
            date=dt.date(2026, 1, 1) + dt.timedelta(days=i),
            kind="topic" if i == 0 else "daily",
            topic="<script>alert(1)</script> & more" if i == 0 else None,
            headline="]]> <b>bold</b> & co",
            href=f"day-{i}/digest.html",
            html="<p>Body & <b>more</b></p>",
            updated=base + dt.timedelta(days=i),
        )
        for i in range(MAX_ENTRIES + 5)
    ]
    data = render_archive_feed(items)
    root = fromstring(data)  # well-formed, no entities
    entries = root.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == MAX_ENTRIES
    feed = feedparser.parse(data)
    assert feed.entries[0].updated.startswith("2026-02-04")  # newest first
    assert "<script>" not in data.decode() and "&lt;b&gt;bold" in data.decode()
    assert feed.entries[0].content[0].value == "<p>Body & <b>more</b></p>"
