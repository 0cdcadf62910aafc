"""Per-paper links and facts: found by the sources, shown in the HTML, the text part, the
Markdown and digest.json (`links`), with only http(s) URLs ever rendered."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from agent.models import Digest, Paper, PaperBlurb, Theme
from agent.render import digest_to_json, render_html, render_markdown, render_text
from agent.sources.arxiv_api import parse_atom
from agent.sources.hf_daily import parse_daily_papers
from agent.sources.links import code_repo_url
from agent.sources.merge import merge_papers

FIXTURES = Path(__file__).parent / "fixtures"
HF_BODY = (FIXTURES / "hf_daily_papers" / "sotawhat_hf_daily_papers_limit30.json").read_text()


def test_code_repo_url_finds_github_and_gitlab_projects():
    assert (
        code_repo_url("Code: https://github.com/IBM/Flash-GMM.")
        == "https://github.com/IBM/Flash-GMM"
    )
    assert code_repo_url("see github.com/foo/bar.git, and more") == "https://github.com/foo/bar"
    assert (
        code_repo_url("at https://gitlab.com/group/proj/-/tree/main (MIT)")
        == "https://gitlab.com/group/proj"
    )
    assert code_repo_url("https://github.com/topics/llm only") is None
    assert code_repo_url("no link here", None, "") is None
    assert code_repo_url(None, "https://GitHub.com/a/b") == "https://github.com/a/b"


def test_hugging_face_day_carries_code_stars_and_page():
    papers = parse_daily_papers(HF_BODY, source="hf-daily")
    with_code = [p for p in papers if p.code_url]
    assert len(papers) == 30 and len(with_code) == 17  # 16 githubRepo, one in an abstract
    from_abstract = next(p for p in papers if p.id == "2606.12488")
    assert from_abstract.code_url == "https://github.com/miccunifi/iamcl2r"
    assert from_abstract.stars is None  # stars belong to githubRepo only
    msa = next(p for p in papers if p.id == "2606.13392")
    assert msa.code_url == "https://github.com/MiniMax-AI/MSA"
    assert (msa.stars, msa.upvotes) == (251, 103)
    assert msa.hf_url == "https://huggingface.co/papers/2606.13392"
    assert msa.pdf_url == "https://arxiv.org/pdf/2606.13392"
    no_code = next(p for p in papers if p.id == "2606.00467")
    assert (no_code.code_url, no_code.stars) == (None, None)


def test_arxiv_api_comment_gives_the_code_repo():
    feed = (
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">'
        "<entry><id>http://arxiv.org/abs/2601.00001v2</id><title>T</title>"
        "<summary>An abstract without links.</summary>"
        "<arxiv:comment>12 pages. Code: https://github.com/someone/thing</arxiv:comment>"
        "</entry></feed>"
    )
    [paper] = parse_atom(feed, source="arxiv").papers
    assert paper.code_url == "https://github.com/someone/thing"


def test_merge_keeps_code_stars_and_hf_page_of_any_copy():
    rss = Paper(id="2606.13392", version=1, title="MSA", source="arxiv-rss:cs.CL")
    hf = Paper(
        id="2606.13392",
        title="MSA",
        source="hf-daily",
        code_url="https://github.com/MiniMax-AI/MSA",
        stars=251,
        upvotes=103,
        hf_url="https://huggingface.co/papers/2606.13392",
    )
    [merged] = merge_papers([[rss], [hf]])
    assert (merged.code_url, merged.stars, merged.upvotes, merged.version) == (
        "https://github.com/MiniMax-AI/MSA",
        251,
        103,
        1,
    )
    assert merged.hf_url == "https://huggingface.co/papers/2606.13392"


def _hf_digest() -> Digest:
    papers = parse_daily_papers(HF_BODY, source="hf-daily")
    evil = papers[1].model_copy(update={"code_url": "javascript:alert(1)"})
    papers = [papers[0], evil, *papers[2:]]
    theme = Theme(
        title="Everything",
        summary="All of the day.",
        papers=tuple(PaperBlurb(paper_id=p.id, blurb="A blurb.") for p in papers),
    )
    return Digest(
        kind="daily",
        date=dt.date(2026, 6, 12),
        engine="offline",
        headline="A day.",
        themes=(theme,),
        papers={p.id: p for p in papers},
    )


def test_every_part_shows_the_links_and_facts():
    digest = _hf_digest()
    html = render_html(digest).html
    assert html.count('href="https://github.com/') == 16  # 17 repos, one made unsafe
    assert 'href="https://github.com/MiniMax-AI/MSA"' in html
    assert ">Code</a>" in html and ">PDF</a>" in html and ">Hugging Face</a>" in html
    assert "103 upvotes · 251 stars" in html
    assert "javascript:" not in html

    text = render_text(digest)
    assert "  Code: https://github.com/MiniMax-AI/MSA" in text.splitlines()
    assert "  PDF: https://arxiv.org/pdf/2606.13392" in text.splitlines()
    assert "  Hugging Face: https://huggingface.co/papers/2606.13392" in text.splitlines()
    assert "  103 upvotes · 251 stars" in text.splitlines()

    markdown = render_markdown(digest)
    assert "[Code](<https://github.com/MiniMax-AI/MSA>)" in markdown

    data = json.loads(json.dumps(digest_to_json(digest)))
    entries = {e["id"]: e for e in data["themes"][0]["papers"]}
    assert entries["2606.13392"]["links"] == {
        "abstract": "https://arxiv.org/abs/2606.13392",
        "pdf": "https://arxiv.org/pdf/2606.13392",
        "code": "https://github.com/MiniMax-AI/MSA",
        "huggingface": "https://huggingface.co/papers/2606.13392",
    }
    assert (entries["2606.13392"]["upvotes"], entries["2606.13392"]["stars"]) == (103, 251)
    assert "code" not in entries["2606.12730"]["links"]  # the javascript: link is dropped
    assert entries["2606.00467"]["stars"] is None


def test_upvotes_are_said_once_when_the_why_line_gives_them():
    from agent.render.view import build_view

    msa = "2606.13392"
    plain = _hf_digest()
    with_why = plain.model_copy(update={"why": {msa: "103 upvotes"}})
    facts = {
        name: next(p for t in build_view(d).themes for p in t.papers if p.id == msa).facts
        for name, d in (("plain", plain), ("why", with_why))
    }
    assert facts == {"plain": "103 upvotes · 251 stars", "why": "251 stars"}
