"""merge_papers: one Paper per arXiv id across sources, richest fields, stable order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from agent.models import Paper
from agent.sources.arxiv_rss import parse_rss
from agent.sources.hf_daily import parse_daily_papers
from agent.sources.merge import merge_papers

FIXTURES = Path(__file__).parent / "fixtures"
RSS_CL = parse_rss(
    (FIXTURES / "arxiv_rss" / "distill_rss_arxiv_cs_cl.xml").read_text(encoding="utf-8"),
    source="arxiv-rss:cs.CL",
)
HF = parse_daily_papers(
    (FIXTURES / "hf_daily_papers" / "sotawhat_hf_daily_papers_limit30.json").read_text("utf-8"),
    source="hf-daily",
)


def test_disjoint_sources_keep_everything_in_order():
    merged = merge_papers([RSS_CL, HF])
    assert len(merged) == 33
    assert [p.id for p in merged[:4]] == ["2604.22002", "2604.22027", "2604.22038", "2606.00467"]
    assert merged[0] is RSS_CL[0]  # a paper seen once is passed through untouched


def test_same_source_twice_is_deduplicated():
    assert merge_papers([RSS_CL, RSS_CL, []]) == list(RSS_CL)


def test_richest_fields_win():
    rss = RSS_CL[1]  # 2604.22027 v1, from RSS: categories, announce type, no upvotes
    hf_copy = Paper(
        id=rss.id,
        title=rss.title,
        abstract=rss.abstract + " Code and data are released.",
        authors=(),
        url="https://arxiv.org/abs/2604.22027",
        source="hf-daily",
        upvotes=42,
        published=dt.datetime(2026, 4, 24, tzinfo=dt.UTC),
    )
    api_v2 = Paper(
        id=rss.id,
        version=2,
        title="Shared Lexical Task Representations Explain Behavioral Variability (v2)",
        abstract="short",
        authors=("Zhuonan Yang",),
        categories=("cs.CL",),
        primary_category="cs.CL",
        url="https://arxiv.org/abs/2604.22027",
        pdf_url="https://arxiv.org/pdf/2604.22027v2",
        updated=dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        source="arxiv:cat:cs.CL",
        upvotes=3,
    )
    other = RSS_CL[0]
    merged = merge_papers([[rss, other], [hf_copy], [api_v2]])
    assert [p.id for p in merged] == [rss.id, other.id]
    paper = merged[0]
    assert paper.version == 2
    assert paper.title.endswith("(v2)")  # the newest version's title
    assert paper.pdf_url == "https://arxiv.org/pdf/2604.22027v2"
    assert paper.abstract == hf_copy.abstract  # the longest
    assert paper.authors == rss.authors  # first non-empty, order kept
    assert paper.categories == ("cs.CL", "cs.AI", "cs.LG")
    assert paper.primary_category == "cs.CL"
    assert paper.upvotes == 42
    assert paper.announce_type == "new"
    assert paper.published == rss.published
    assert paper.updated == dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    assert paper.source == "arxiv-rss:cs.CL"  # where it was first seen


def test_hf_first_then_rss_fills_the_gaps():
    hf_copy = Paper(id=RSS_CL[2].id, title=RSS_CL[2].title, source="hf-daily", upvotes=7)
    (paper,) = merge_papers([[hf_copy], [RSS_CL[2]]])
    assert paper.source == "hf-daily" and paper.upvotes == 7
    assert paper.version == 1 and paper.pdf_url == "https://arxiv.org/pdf/2604.22038v1"
    assert paper.authors == ("Etha Tianze Hua", "Tian Yun", "Ellie Pavlick")
    assert paper.categories == ("cs.CL",) and paper.abstract == RSS_CL[2].abstract


def test_empty():
    assert merge_papers([]) == [] and merge_papers([[], []]) == []
