"""arxiv-rss: the recorded RSS 2.0 feeds parse into clean Papers; broken feeds fail loudly."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from agent.config import Settings, SourcesSettings
from agent.errors import ConfigError, SourceError
from agent.sources.arxiv_rss import ArxivRssSource, parse_rss, split_creators
from agent.sources.base import FetchContext
from agent.sources.http import HttpFetcher, RateGate
from tests.fakes.http_server import FakeClock, Reply, ScriptedHttpServer

RSS = Path(__file__).parent / "fixtures" / "arxiv_rss"
CS_CL = (RSS / "distill_rss_arxiv_cs_cl.xml").read_bytes()
CS_AI = (RSS / "distill_rss_arxiv_cs_ai.xml").read_bytes()
WEEKEND = (RSS / "allnewsai_rss_cs.CL_weekend_empty.xml").read_bytes()
LEGACY_RDF = (RSS / "derived_rdf_cs_cl_legacy.xml").read_bytes()
ATOM = (RSS / "derived_atom_cs_cl.xml").read_bytes()
DAY = dt.date(2026, 4, 27)
EDT = dt.timezone(dt.timedelta(hours=-4))


@pytest.fixture
def server():
    with ScriptedHttpServer() as running:
        yield running


def fetch(server: ScriptedHttpServer, spec: str, body: bytes, tmp_path: Path, **sources):
    """Serve `body` as the feed for `spec`'s categories and fetch it through the source."""
    categories = spec.removeprefix("arxiv-rss:")
    server.add(f"/rss/{categories}", Reply(200, body, {"Content-Type": "application/rss+xml"}))
    settings = Settings(
        home=tmp_path, sources=SourcesSettings(arxiv_rss_url=f"{server.url}/rss/", **sources)
    )
    clock = FakeClock()
    gate = RateGate(clock=clock.now, sleep=clock.asleep)
    with HttpFetcher(settings.sources, sleep=clock.asleep, arxiv_gate=gate) as fetcher:
        return asyncio.run(
            ArxivRssSource(categories, fetcher=fetcher).fetch(FetchContext(DAY, settings.sources))
        )


def test_cs_cl_feed(server, tmp_path):
    papers = fetch(server, "arxiv-rss:cs.CL", CS_CL, tmp_path)
    assert [p.id for p in papers] == ["2604.22002", "2604.22027", "2604.22038"]
    first, second, third = papers
    assert first.version == 1 and first.announce_type == "new"
    assert first.source == "arxiv-rss:cs.CL"
    # dc:creator is one string, with a double space before the single-name author "Deepti".
    assert first.authors == (
        "Anamta Khan",
        "Ratna Kandala",
        "Deepti",
        "Sheza Munir",
        "Joyojeet Pal",
    )
    assert first.title.startswith("When Cow Urine Cures Constipation on YouTube")
    assert first.abstract.startswith("Social media platforms have become primary channels")
    assert "Announce Type" not in first.abstract and "Abstract:" not in first.abstract
    assert first.url == "https://arxiv.org/abs/2604.22002"
    assert first.pdf_url == "https://arxiv.org/pdf/2604.22002v1"
    assert first.published == dt.datetime(2026, 4, 27, 0, 0, tzinfo=EDT)
    assert first.published.tzinfo is not None
    assert second.categories == ("cs.CL", "cs.AI", "cs.LG")
    assert second.primary_category == "cs.CL"
    assert len(second.authors) == 8 and second.authors[-1] == "Ellie Pavlick"
    assert third.authors == ("Etha Tianze Hua", "Tian Yun", "Ellie Pavlick")
    assert server.requests[0].path == "/rss/cs.CL"


def test_cs_ai_feed_cleans_latex(tmp_path):
    papers = parse_rss(CS_AI.decode(), source="arxiv-rss:cs.AI")
    assert [p.id for p in papers] == ["2604.21935", "2604.21936", "2604.21937"]
    assert all(p.announce_type == "new" and p.version == 1 for p in papers)
    medical = papers[1]
    assert "\\textbf" not in medical.abstract
    assert "central: adaptability, the ability" in medical.abstract
    assert medical.categories == ("cs.AI", "cs.CV", "cs.MA")
    assert len(medical.authors) == 18
    assert papers[0].authors == ("Michael Cooper", "Samuel Cooper")


def test_weekend_feed_is_an_empty_day(server, tmp_path):
    assert fetch(server, "arxiv-rss:cs.CL", WEEKEND, tmp_path) == []


def test_multi_category_spec_url(server, tmp_path):
    papers = fetch(server, "arxiv-rss:cs.CL+cs.AI", CS_CL, tmp_path)
    assert len(papers) == 3 and papers[0].source == "arxiv-rss:cs.CL+cs.AI"
    assert server.requests[0].path == "/rss/cs.CL+cs.AI"


def _retyped(feed: bytes, types: list[str]) -> bytes:
    """The feed with the announce types of its items replaced, in order."""
    text = feed.decode()
    for new_type in types:
        text = text.replace(
            "<arxiv:announce_type>new<", f"<arxiv:announce_type>{new_type}#<", 1
        ).replace("Announce Type: new \n", f"Announce Type: {new_type}# \n", 1)
    return text.replace("#<", "<").replace("# \n", " \n").encode()


def test_announce_types_filter(server, tmp_path):
    feed = _retyped(CS_CL, ["replace", "cross", "new"])
    kept = fetch(server, "arxiv-rss:cs.CL", feed, tmp_path)  # default: new, cross
    assert [(p.id, p.announce_type) for p in kept] == [
        ("2604.22027", "cross"),
        ("2604.22038", "new"),
    ]
    every = parse_rss(feed.decode(), source="x")
    assert [p.announce_type for p in every] == ["replace", "cross", "new"]


def test_announce_types_from_settings(server, tmp_path):
    feed = _retyped(CS_CL, ["replace-cross", "absonly", "replace"])
    kept = fetch(
        server, "arxiv-rss:cs.CL", feed, tmp_path, announce_types=["replace", "replace-cross"]
    )
    assert [p.announce_type for p in kept] == ["replace-cross", "replace"]


def test_truncated_feed_is_a_source_error(server, tmp_path):
    with pytest.raises(SourceError) as info:
        fetch(server, "arxiv-rss:cs.CL", CS_CL[: len(CS_CL) // 2], tmp_path)
    message = str(info.value)
    assert message.startswith("arxiv-rss:cs.CL: malformed XML (")
    assert "\n" not in message


@pytest.mark.parametrize(
    "body",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00garbage",
        b"",
        b"<html><body>Service temporarily unavailable</body></html>",
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "boom">]><rss>&a;</rss>',
        b"<rss version='2.0'></rss>",
        b'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "http://127.0.0.1:9/x.dtd"><rss/>',
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel>&x;</channel></rss>',
        LEGACY_RDF[: len(LEGACY_RDF) // 2],
        ATOM[: len(ATOM) - 40],
    ],
    ids=[
        "binary",
        "empty",
        "html",
        "entities",
        "no-channel",
        "external-dtd",
        "xxe",
        "truncated-rdf",
        "truncated-atom",
    ],
)
def test_garbage_is_a_source_error(server, tmp_path, body):
    with pytest.raises(SourceError) as info:
        fetch(server, "arxiv-rss:cs.CL", body, tmp_path)
    assert str(info.value).startswith("arxiv-rss:cs.CL: ")
    assert "\n" not in str(info.value)


def test_item_without_any_id_fails_the_feed():
    text = CS_CL.decode()
    text = text.replace("oai:arXiv.org:2604.22002v1", "x").replace("arXiv:2604.22002v1", "x")
    text = text.replace("https://arxiv.org/abs/2604.22002", "x")
    with pytest.raises(SourceError, match="item 1 has no arXiv id"):
        parse_rss(text, source="arxiv-rss:cs.CL")


def test_split_creators():
    assert split_creators("A. Khan, R. Kandala,  Deepti") == ("A. Khan", "R. Kandala", "Deepti")
    assert split_creators("John Smith, Jr., Jane  Doe") == ("John Smith Jr.", "Jane Doe")
    assert split_creators("  ") == ()


def test_empty_categories_is_a_config_error():
    with pytest.raises(ConfigError):
        ArxivRssSource("  ")


def test_legacy_rdf_feed_with_ids_in_titles(server, tmp_path):
    """The old export.arxiv.org RSS 1.0 feed: '(arXiv:ID vN [cat] KIND)' ends the title."""
    every = parse_rss(LEGACY_RDF.decode(), source="arxiv-rss:cs.CL")
    assert [(p.id, p.version, p.announce_type) for p in every] == [
        ("2604.22002", 1, "new"),
        ("2604.22027", 2, "replace"),
        ("2604.22038", 1, "cross"),
    ]
    first, second, third = every
    assert second.title.startswith("Shared Lexical Task Representations")
    assert first.title == (
        "When Cow Urine Cures Constipation on YouTube: Limits of LLMs in Detecting "
        "Culture-specific Health Misinformation"
    )
    assert third.title == "What Do Vision-Language Models See When They Read?"
    assert first.authors == ("Anamta Khan", "Ratna Kandala", "Deepti")  # HTML links stripped
    assert first.abstract.startswith("Social media platforms") and "<p>" not in first.abstract
    assert first.categories == ("cs.CL",) and third.primary_category == "cs.LG"
    assert "represent & retrieve" in third.abstract
    assert first.pdf_url == "https://arxiv.org/pdf/2604.22002v1"
    assert first.code_url == "https://github.com/example-lab/gomutra-discourse"
    kept = fetch(server, "arxiv-rss:cs.CL", LEGACY_RDF, tmp_path)  # new + cross by default
    assert [p.id for p in kept] == ["2604.22002", "2604.22038"]


def test_atom_feed(server, tmp_path):
    every = parse_rss(ATOM.decode(), source="arxiv-rss:cs.CL")
    assert [(p.id, p.version, p.announce_type) for p in every] == [
        ("2604.22002", 1, "new"),
        ("2604.22027", 2, "replace-cross"),
    ]
    first, second = every
    assert first.authors == (
        "Anamta Khan",
        "Ratna Kandala",
        "Deepti",
        "Sheza Munir",
        "Joyojeet Pal",
    )
    assert first.abstract.startswith("Social media platforms") and "Announce" not in first.abstract
    assert second.categories == ("cs.CL", "cs.AI", "cs.LG")
    assert second.primary_category == "cs.CL"
    assert first.published == dt.datetime(2026, 4, 27, 0, 0, tzinfo=EDT)
    assert second.code_url == "https://gitlab.com/example/lexical-heads"
    assert second.pdf_url == "https://arxiv.org/pdf/2604.22027v2"
    kept = fetch(server, "arxiv-rss:cs.CL", ATOM, tmp_path, announce_types=["new"])
    assert [p.id for p in kept] == ["2604.22002"]


def test_rss_091_without_arxiv_ids_names_the_item():
    feed = (
        '<rss version="0.91"><channel><title>t</title><link>http://x.org/</link>'
        "<item><title>A paper</title><link>http://x.org/a</link></item></channel></rss>"
    )
    with pytest.raises(SourceError, match="item 1 has no arXiv id"):
        parse_rss(feed, source="arxiv-rss:cs.CL")


def test_rss_092_with_arxiv_links_parses():
    feed = (
        '<rss version="0.92"><channel><title>t</title><link>http://x.org/</link>'
        "<item><title>A paper</title><link>https://arxiv.org/abs/2604.00001v3</link>"
        "<description>Plain abstract.</description></item></channel></rss>"
    )
    [paper] = parse_rss(feed, source="arxiv-rss:cs.CL")
    assert (paper.id, paper.version, paper.abstract) == ("2604.00001", 3, "Plain abstract.")
