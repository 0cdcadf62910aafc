"""archive/feed.xml (Atom, one entry per digest with its HTML) and `digest daily --format md`,
end to end through the real command, read back with feedparser as a feed reader would."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import feedparser
import pytest
from defusedxml.ElementTree import fromstring

from agent.core.resources import demo_day_path
from agent.render.atom_feed import MAX_ENTRIES, FeedItem, render_archive_feed
from tests.bounded_cli import cli, no_traceback
from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.processes import run_digest

ATOM = "{http://www.w3.org/2005/Atom}"
# Characters XML 1.0 does not allow: C0 controls (ESC, NUL, backspace) and the noncharacters
# U+FFFE and U+FFFF. One of them anywhere makes the whole feed unreadable.
NOT_XML = "\x1b[2J\x00\x08\ufffe\uffff"


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
    assert newest.summary.startswith("30 new papers today, 8 of them summarised here")
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


def test_feed_drops_what_xml_forbids_from_every_text():
    bad = NOT_XML + "\ud800"  # and a lone surrogate (from a JSON escape)
    item = FeedItem(
        date=dt.date(2026, 1, 1),
        kind="topic",
        topic=f"long{bad} context",
        headline=f"Three{bad} themes today.",
        href=f"2026-01-01/digest{bad}.html",
        html=f"<p>Body{bad}</p>",
        updated=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        reader=f"ada{bad}",
    )
    data = render_archive_feed([item], title=f"Paper{bad} digest")
    root = fromstring(data)  # well-formed: a feed reader can read it
    entry = root.find(f"{ATOM}entry")
    assert root.findtext(f"{ATOM}title") == "Paper[2J digest"
    assert entry.findtext(f"{ATOM}title").startswith("Topic: long[2J context")
    assert entry.findtext(f"{ATOM}summary") == "Three[2J themes today."
    assert entry.findtext(f"{ATOM}content") == "<p>Body[2J</p>"


def test_one_bad_archived_day_does_not_break_the_feed(tmp_path):
    """The feed is rebuilt from the archive on every run: an earlier digest written with a
    control character in it (by an older version) must not make every later feed invalid."""
    earlier = tmp_path / "home" / "archive" / "2026-11-25"
    earlier.mkdir(parents=True)
    digest = {"kind": "daily", "date": "2026-11-25", "headline": f"Old{NOT_XML}.", "themes": []}
    (earlier / "digest.json").write_text(json.dumps(digest), encoding="utf-8")
    (earlier / "digest.html").write_text(f"<p>old{NOT_XML}</p>", encoding="utf-8")
    # a real day (the sample day's digests are kept apart, out of the feed)
    args = ("daily", "--source", f"file:{demo_day_path()}", "--engine", "offline", "--no-send")
    no_traceback(cli(tmp_path, *args, "--date", "2026-11-26", "--max-papers", "5"))
    root = fromstring((tmp_path / "home" / "archive" / "feed.xml").read_bytes())
    assert [e.findtext(f"{ATOM}summary") for e in root.findall(f"{ATOM}entry")][1] == "Old[2J."


@pytest.mark.parametrize("bad", ["\uffff", "\ufffe", "\ufdd0"])
def test_a_noncharacter_in_a_source_title_leaves_the_feed_well_formed(tmp_path: Path, bad: str):
    def item(i: int, title: str) -> dict:
        paper = {"id": f"2612.0{i:04d}", "title": title, "summary": f"We study topic {i}."}
        return {"paper": {**paper, "authors": [{"name": "Ada Lovelace"}], "upvotes": 3}}

    items = [item(i, f"Speculative decoding study {i}") for i in range(1, 6)]
    items.append(item(9, f"Fast decoding{bad} for everyone"))
    with ScriptedHttpServer() as server:
        body = json.dumps(items)
        server.add("/api/daily_papers", Reply(200, body, {"Content-Type": "application/json"}))
        config = tmp_path / "digest.toml"
        config.write_text(
            f'[sources]\nhf_url = "{server.url}/api/daily_papers"\nmax_attempts = 1\n',
            encoding="utf-8",
        )
        args = ("daily", "--config", str(config), "--source", "hf-daily", "--engine", "offline")
        result = cli(tmp_path, *args, "--no-send", "--date", "2026-12-01")
    assert result.exit_code == 0, no_traceback(result)
    feed = (tmp_path / "home" / "archive" / "feed.xml").read_bytes()
    fromstring(feed)
    assert "Fast decoding for everyone" in feed.decode("utf-8")
