"""The render stage: HTML and text parts, the email message, digest.json, files, archive index."""

from __future__ import annotations

import datetime as dt
import json
import re
from email import policy
from email.parser import BytesParser
from html import unescape
from html.parser import HTMLParser

import pytest

from agent.models import (
    OTHER_THEME,
    DegradedNote,
    Digest,
    Paper,
    PaperBlurb,
    SourceHealth,
    Theme,
    Usage,
)
from agent.render import (
    ArchiveEntry,
    build_message,
    digest_to_json,
    render_archive_index,
    render_html,
    render_markdown,
    render_text,
    subject_line,
    write_digest_files,
)
from agent.render.env import wrap
from agent.render.view import safe_url, short_authors, short_name

DATE = dt.date(2026, 11, 26)  # a Thursday
EVIL_TITLE = "Attacks <script>alert(1)</script> on models"
# The longest kind of link the policy builds: a repository with long owner and repo names.
LONG_URL = "https://github.com/" + "a-very-long-owner-name" * 2 + "/" + "a-long-repository-name" * 3


# --- factory ------------------------------------------------------------------------------


def make_paper(i: int, **overrides) -> Paper:
    fields = {
        "id": f"2611.{i:05d}",
        "version": 1,
        "title": f"Paper number {i} on sparse attention",
        "abstract": f"We study sparse attention, case {i}.",
        "authors": ("Alice Martin", "Bo Chen"),
        "url": f"https://arxiv.org/abs/2611.{i:05d}",
        "pdf_url": f"https://arxiv.org/pdf/2611.{i:05d}",
        "source": "arxiv",
    }
    fields.update(overrides)
    return Paper(**fields)


def make_digest(
    n_papers: int = 6,
    *,
    n_themes: int = 2,
    blurb: str = "A short plain blurb about the paper & its results.",
    papers: dict[int, dict] | None = None,
    also_new: int = 0,
    **overrides,
) -> Digest:
    """n_papers split over n_themes, plus `also_new` title-only papers; `papers` overrides fields."""
    papers = papers or {}
    all_papers = [make_paper(i, **papers.get(i, {})) for i in range(n_papers + also_new)]
    in_themes, rest = all_papers[:n_papers], all_papers[n_papers:]
    per = max(1, -(-n_papers // max(1, n_themes)))
    themes = []
    for t in range(n_themes):
        members = in_themes[t * per : (t + 1) * per]
        themes.append(
            Theme(
                title=f"Theme {t + 1} title",
                summary=f"What theme {t + 1} is about.",
                papers=tuple(
                    PaperBlurb(
                        paper_id=p.id,
                        blurb=blurb,
                        why_it_matters="It makes things faster." if j == 0 else None,
                        engine="llm",
                    )
                    for j, p in enumerate(members)
                ),
                engine="llm",
            )
        )
    fields = {
        "kind": "daily",
        "date": DATE,
        "engine": "llm:gpt-4o-mini",
        "headline": "Sparse attention everywhere today; two themes stand out.",
        "themes": tuple(themes),
        "also_new": tuple(p.id for p in rest),
        "papers": {p.id: p for p in all_papers},
        "health": (
            SourceHealth(name="arxiv", status="ok", count=n_papers),
            SourceHealth(name="hf-daily", status="failed", reason="HTTP 503"),
        ),
        "usage": Usage(
            calls=4, input_tokens=1200, output_tokens=300, cost_usd=0.0021, wall_seconds=3.5
        ),
        "prompt_versions": {"grouping": "v3"},
    }
    fields.update(overrides)
    return Digest(**fields)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.hidden_text: list[str] = []
        self._in_preheader = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "href" in attrs:
            self.hrefs.append(attrs["href"] or "")
        if "preheader" in (attrs.get("class") or ""):
            self._in_preheader = True
            self.preheader_style = attrs.get("style") or ""

    def handle_endtag(self, tag):
        if tag == "div":
            self._in_preheader = False

    def handle_data(self, data):
        if self._in_preheader:
            self.hidden_text.append(data)


def links(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


# --- escaping and links -------------------------------------------------------------------


def test_untrusted_text_is_escaped_in_html_and_raw_in_text():
    digest = make_digest(
        2,
        n_themes=1,
        papers={0: {"title": EVIL_TITLE}},
        blurb="Faster & smaller, with <b>no</b> loss.",
    )
    html = render_html(digest).html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Faster &amp; smaller, with &lt;b&gt;no&lt;/b&gt; loss." in html
    text = render_text(digest)
    assert "<script>alert(1)</script>" in text
    assert "Faster & smaller" in text and "&amp;" not in text


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox",
        "ftp://example.org/x",
        "https://",
        "//evil.example/x",
        "java\nscript:alert(1)",
    ],
)
def test_unsafe_urls_are_not_linked(bad):
    digest = make_digest(
        2,
        n_themes=1,
        also_new=1,
        papers={0: {"url": bad, "pdf_url": bad}, 2: {"url": bad, "pdf_url": None}},
    )
    html = render_html(digest).html
    hrefs = links(html).hrefs
    assert all(h.startswith(("https://", "http://", "#")) for h in hrefs), hrefs
    assert "javascript" not in html.lower()
    assert "data:text" not in html
    assert "https://arxiv.org/abs/2611.00001" in hrefs  # the good paper still linked
    assert safe_url(bad) is None
    assert "javascript" not in render_text(digest).lower()
    assert "javascript" not in json.dumps(digest_to_json(digest)).lower()


def test_links_are_rebuilt_from_ids_and_the_pdf_is_a_fallback():
    digest = make_digest(
        2,
        n_themes=1,
        papers={
            0: {"url": "http://arxiv.org/abs/2611.00000v2"},  # rebuilt: https, unversioned
            1: {"url": "https://example.org/p1", "pdf_url": "https://arxiv.org/pdf/2611.00001v3"},
        },
    )
    hrefs = links(render_html(digest).html).hrefs
    assert "https://arxiv.org/abs/2611.00000" in hrefs
    assert "https://arxiv.org/pdf/2611.00001v3" in hrefs  # the abstract page of another site
    assert not any("example.org" in href for href in hrefs)  # is not one the policy builds


def test_short_authors():
    assert short_authors(["Alice Martin", "Bo Chen"]) == "A. Martin, B. Chen"
    assert short_authors(["Alice Martin", "Bo Chen", "Carla de la Cruz"]) == (
        "A. Martin, B. Chen, C. de la Cruz"
    )
    assert short_authors(["Alice Martin", "Bo Chen", "C. D", "Eve Stone"]) == (
        "A. Martin, B. Chen et al."
    )
    assert short_name("Jean-Pierre Dupont") == "J.-P. Dupont"
    assert short_name("Martin, Alice B.") == "A. B. Martin"
    assert short_name("Ludwig van Beethoven") == "L. van Beethoven"
    assert short_name("Plato") == "Plato"
    assert short_authors([]) == ""


# --- HTML structure -----------------------------------------------------------------------


def test_html_has_the_parts_the_reader_needs():
    digest = make_digest(
        4,
        n_themes=2,
        also_new=3,
        updated=("2611.00000",),
        notices=("The arXiv feed was late today.",),
    )
    html = render_html(digest).html
    assert "Today at a glance" in html
    assert digest.headline in html
    assert 'href="#theme-1"' in html and 'id="theme-1"' in html  # contents anchors
    assert "Theme 2 title" in html and "(2)" in html
    assert "Also new today (3)" in html
    assert "Updated papers (1)" in html
    assert "The arXiv feed was late today." in html
    assert "Why it matters:" in html
    assert "A. Martin, B. Chen" in html
    assert "Written by the language model gpt-4o-mini." in html
    assert "4 model calls" in html and "1,200 tokens in, 300 out" in html
    assert "about $0.0021" in html and "3.5 s" in html
    assert "hf-daily: failed (HTTP 503)" in html and "arxiv: ok (4 papers)" in html
    # email-safe shell: inlined CSS, dark-mode query kept, color-scheme, ~640px container
    assert 'name="color-scheme" content="light dark"' in html
    assert "@media (prefers-color-scheme:dark)" in html or "prefers-color-scheme: dark" in html
    assert 'width="640"' in html and "max-width:640px" in html
    assert 'role="presentation"' in html
    assert re.search(r'<p class="bl" style="[^"]*font-size', html)  # CSS inlined


def test_preheader_is_present_and_hidden():
    digest = make_digest(headline="H" * 30 + " is the gist of today, in more words than fit. " * 4)
    parsed = links(render_html(digest).html)
    hidden = "".join(parsed.hidden_text)
    assert hidden.startswith("H" * 30)
    assert len(hidden.strip("\u2007\ufeff ")) <= 100
    assert "display:none" in parsed.preheader_style.replace(" ", "")
    assert "mso-hide:all" in parsed.preheader_style.replace(" ", "")


def test_offline_engine_is_said_plainly():
    from agent.summarize import NO_MODEL_NOTICE

    for notices, why in [
        ((NO_MODEL_NOTICE,), "no language model configured"),
        ((), "asked for with --engine offline"),  # a model configured, or not: it was asked
    ]:
        digest = make_digest(engine="offline", usage=Usage(wall_seconds=1.2), notices=notices)
        html = render_html(digest).html
        text = render_text(digest)
        for part in (html, text):
            assert f"Written by the offline engine ({why})" in part
            assert "no model calls" in part


def _offline_section(theme: Theme) -> Theme:
    """`theme` as the offline engine wrote it whole: title, summary and every blurb."""
    papers = tuple(p.model_copy(update={"engine": "offline"}) for p in theme.papers)
    return theme.model_copy(
        update={"degraded": True, "engine": "offline", "title_engine": "offline", "papers": papers}
    )


def test_degraded_theme_and_notes_are_marked():
    digest = make_digest(4, n_themes=2)
    themes = (digest.themes[0], _offline_section(digest.themes[1]))
    digest = digest.model_copy(
        update={
            "themes": themes,
            "degraded": (
                DegradedNote(
                    step="blurbs",
                    scope="Theme 2 title",
                    reason="the model timed out",
                    fallback="offline engine",
                ),
                DegradedNote(
                    step="headline", reason="invalid JSON twice", fallback="fallback model"
                ),
            ),
        }
    )
    html = render_html(digest).html
    text = render_text(digest)
    marker = "The offline engine wrote this section because the model server did not answer."
    assert marker in html and html.count("The offline engine wrote this section") == 1
    assert "The headline came from the fallback model because the model" in html
    assert "invalid JSON twice" not in html  # parser internals stay in digest.json
    assert marker.split(" because")[0] in text  # wrapped, but there
    assert 'class="warn"' in html


@pytest.mark.parametrize(
    ("title", "summary", "offline_blurbs", "label"),
    [
        ("offline", "offline", 3, "The offline engine wrote this section because"),
        (
            "llm", "llm", 3,
            ("In this section the offline engine wrote the 3 paper summaries because the model's "
            "answers were not usable; the language model wrote the title and the summary."),
        ),
        (
            "llm", "offline", 1,
            ("In this section the offline engine wrote the summary and 1 of the 3 paper summaries "
            "(marked “offline”) because the model's answers were not usable; the language model "
            "wrote the title and the other 2 paper summaries."),
        ),
        (
            "offline", "offline", 0,
            ("In this section the offline engine wrote the title and the summary because the "
            "model's answers were not usable; the language model wrote the paper summaries."),
        ),
    ],
    ids=["all-offline", "model-title-and-summary", "mixed", "model-blurbs-only"],
)  # fmt: skip
def test_a_section_label_says_which_parts_each_engine_wrote(
    title: str, summary: str, offline_blurbs: int, label: str
) -> None:
    digest = make_digest(3, n_themes=1)
    [theme] = digest.themes
    papers = tuple(
        p.model_copy(update={"engine": "offline" if i < offline_blurbs else "llm"})
        for i, p in enumerate(theme.papers)
    )
    theme = theme.model_copy(
        update={"title_engine": title, "engine": summary, "papers": papers, "degraded": True}
    )
    note = DegradedNote(step="blurbs", scope=theme.title, reason="junk", fallback="offline engine")
    digest = digest.model_copy(update={"themes": (theme,), "degraded": (note,)})
    text = " ".join(render_text(digest).replace("!", " ").split())
    html = " ".join(unescape(render_html(digest).html).split())
    assert label in text and label in html
    assert text.count("[offline]") == offline_blurbs  # each offline blurb marked, no other


def test_the_terminal_marks_each_offline_part_of_a_topic_section() -> None:
    """`digest topic`'s terminal digest: a degraded section names what the offline engine
    wrote, and each blurb it wrote is marked; the model's blurbs are not."""
    from io import StringIO

    from rich.console import Console

    from agent.terminal import print_digest

    digest = make_digest(4, n_themes=2, kind="topic", topic="sparse attention")
    first, second = digest.themes
    mixed = second.model_copy(
        update={
            "degraded": True,
            "title_engine": "llm",
            "papers": (
                second.papers[0].model_copy(
                    update={"engine": "offline", "blurb": "Offline words."}
                ),
                second.papers[1].model_copy(update={"blurb": "Model words."}),
            ),
        }
    )
    out = StringIO()
    print_digest(Console(file=out, width=200, color_system=None), digest.model_copy(
        update={"themes": (first, mixed)}
    ))  # fmt: skip
    lines = out.getvalue().splitlines()
    [heading] = [line for line in lines if line.startswith("Theme 2 title")]
    assert heading.endswith("(offline engine: 1 of the 2 paper summaries (marked “offline”))")
    assert not any(line.startswith("Theme 1 title") and "offline" in line for line in lines)
    assert any(line.strip() == "Offline words. [offline]" for line in lines)
    assert any(line.strip() == "Model words." for line in lines)
    assert "offline fallback" not in out.getvalue()


def test_not_degraded_has_no_marker():
    html = render_html(make_digest()).html
    assert "This section was written" not in html


def test_topic_digest_names_topic_and_shows_overview():
    digest = make_digest(
        kind="topic",
        topic="mixture-of-experts routing",
        overview="Recent work on routing tokens to experts.",
        also_new=2,
    )
    html = render_html(digest).html
    assert "Mixture-of-experts routing" in html
    assert "Recent work on routing tokens to experts." in html
    assert "Also found (2)" in html
    assert subject_line(digest) == "Paper digest: mixture-of-experts routing — 8 papers"


# --- size cap -----------------------------------------------------------------------------


LONG_BLURB = (
    "This paper shows, with a great many careful experiments and ablations, that "
    "a surprisingly simple change to attention helps a lot. "
) * 12


def test_sixty_long_blurbs_are_shrunk_under_the_cap():
    digest = make_digest(60, n_themes=6, blurb=LONG_BLURB)
    full = render_html(digest, max_bytes=10**9)
    assert full.size > 100_000 and full.shrunk == 0
    rendered = render_html(digest)
    assert rendered.size <= 100_000
    assert rendered.shrunk > 0
    assert f"To keep this email short, {rendered.shrunk} blurbs were shortened" in rendered.html
    assert "see digest.json or the archive for all" in rendered.html
    # every paper still has its title (linked) in the email
    for i in range(60):
        assert f"https://arxiv.org/abs/2611.{i:05d}" in rendered.html
    # lowest-ranked first: the first paper of the first theme keeps its blurb,
    # the last paper of the last theme lost it; and the fewest were shrunk
    first_block = rendered.html.split("2611.00000", 1)[1][:3000]
    assert "surprisingly simple change" in first_block
    assert "surprisingly simple change" not in rendered.html.split("2611.00059", 1)[1]
    assert render_html(digest, max_bytes=rendered.size + 0).shrunk == rendered.shrunk
    # a tighter cap shortens more blurbs (the search is not stuck at "all of them")
    assert render_html(digest, max_bytes=rendered.size - 1).shrunk > rendered.shrunk


def test_three_hundred_papers_fit_under_the_cap():
    digest = make_digest(300, n_themes=10, blurb=LONG_BLURB[:400])
    rendered = render_html(digest)
    assert rendered.size <= 100_000
    assert rendered.shrunk > 0
    assert "To keep this email short" in rendered.html


def test_also_new_is_cut_only_as_a_last_resort():
    digest = make_digest(20, n_themes=2, also_new=1200)
    rendered = render_html(digest)
    assert rendered.size <= 100_000
    assert rendered.shrunk == 20 and rendered.also_new_cut > 0
    assert "listed in digest.json and the archive" in rendered.html


def test_small_digest_is_not_shrunk():
    rendered = render_html(make_digest())
    assert rendered.shrunk == 0 and "To keep this email short" not in rendered.html


# --- text part ----------------------------------------------------------------------------


def test_text_is_wrapped_at_72_and_urls_are_whole_on_their_own_line():
    long_title = "A title with many many words that will certainly need folding " * 3
    digest = make_digest(
        3,
        n_themes=1,
        also_new=1,
        papers={0: {"url": LONG_URL, "title": long_title}},
        blurb=("Supercalifragilisticexpialidocious" * 3 + " and more words " * 20),
    )
    text = render_text(digest)
    for line in text.splitlines():
        if len(line) > 72:
            assert line.strip() == LONG_URL, line
    assert f"  {LONG_URL}" in text.splitlines()  # too long to share a line with its label
    lines = text.splitlines()
    for i in range(1, 3):  # blurbed papers: one labelled link per line
        assert f"  Abstract: https://arxiv.org/abs/2611.{i:05d}" in lines
    assert "  https://arxiv.org/abs/2611.00003" in lines  # also new: the bare link
    assert "Also new today (1)".upper() in text


def test_wrap_keeps_urls_in_prose_whole():
    prose = "See " + LONG_URL + " for the code, and " + "words " * 30
    lines = wrap(prose, indent="  ").splitlines()
    assert any(line.strip() == LONG_URL for line in lines)
    assert all(len(line) <= 72 or line.strip() == LONG_URL for line in lines)


# --- message ------------------------------------------------------------------------------


def test_subject_line():
    assert subject_line(make_digest(30, n_themes=7)) == (
        "Paper digest, Thu 26 Nov 2026: 7 themes, 30 papers"
    )
    assert subject_line(make_digest(1, n_themes=1)) == (
        "Paper digest, Thu 26 Nov 2026: 1 theme, 1 paper"
    )


def test_the_subject_counts_themes_as_the_digest_does_without_other():
    """'9 themes' in the subject over a digest that says '8 themes, 3 under Other' (stop 37)."""
    digest = make_digest(30, n_themes=3)
    themes = list(digest.themes)
    themes[-1] = themes[-1].model_copy(update={"title": OTHER_THEME})
    digest = digest.model_copy(update={"themes": tuple(themes)})
    assert subject_line(digest) == "Paper digest, Thu 26 Nov 2026: 2 themes, 30 papers"
    only_other = digest.model_copy(update={"themes": (themes[-1],)})
    assert subject_line(only_other).endswith(f": {len(themes[-1].papers)} papers")


def test_empty_digest_renders():
    digest = make_digest(0, n_themes=0, headline="Nothing new today.")
    assert subject_line(digest) == "Paper digest, Thu 26 Nov 2026: no new papers"
    html, text = render_html(digest).html, render_text(digest)
    assert "No new papers." in html and "No new papers." in text
    assert "Nothing new today." in html and "In this digest" not in html


def test_message_parses_back_with_text_then_html():
    digest = make_digest(papers={0: {"title": EVIL_TITLE}})
    html, text = render_html(digest).html, render_text(digest)
    msg = build_message(
        digest,
        html,
        text,
        sender="Digest <digest@example.org>",
        recipients=["a@example.org", "b@example.org"],
        list_unsubscribe="mailto:unsubscribe@example.org",
    )
    parsed = BytesParser(policy=policy.default).parsebytes(msg.as_bytes())
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content() == text
    assert parts[1].get_content() == html
    assert parsed["Subject"] == subject_line(digest)
    assert parsed["Date"] and parsed["Message-ID"].startswith("<")
    assert parsed["From"] == "Digest <digest@example.org>"
    assert parsed["To"] == "a@example.org, b@example.org"
    assert parsed["List-Unsubscribe"] == "<mailto:unsubscribe@example.org>"


def test_message_id_is_stable_per_digest_key():
    one = make_digest()
    again = make_digest(headline="Another rendering of the same day.")
    other_day = make_digest(date=DATE + dt.timedelta(days=1))
    topic = make_digest(kind="topic", topic="routing")
    more_papers = make_digest(also_new=1)

    def mid(d):
        return build_message(d, "<p>x</p>", "x")["Message-ID"]

    assert mid(one) == mid(again)
    assert len({mid(one), mid(other_day), mid(topic), mid(more_papers)}) == 4
    assert "@paper-digest.local>" in mid(one)


def test_message_without_sender_has_no_from_or_to():
    msg = build_message(make_digest(), "<p>x</p>", "x")
    assert msg["From"] is None and msg["To"] is None and msg["List-Unsubscribe"] is None


# --- json ---------------------------------------------------------------------------------


def test_json_has_the_fields_and_round_trips():
    digest = make_digest(
        4,
        n_themes=2,
        also_new=2,
        updated=("2611.00001",),
        notices=("n1",),
        degraded=(DegradedNote(step="headline", reason="r", fallback="offline engine"),),
    )
    data = digest_to_json(digest)
    assert json.loads(json.dumps(data)) == data
    assert data["schema_version"] == 1
    for key in (
        "kind",
        "date",
        "topic",
        "engine",
        "headline",
        "overview",
        "themes",
        "also_new",
        "updated",
        "health",
        "degraded",
        "notices",
        "usage",
        "prompt_versions",
    ):
        assert key in data, key
    assert data["date"] == "2026-11-26"
    theme = data["themes"][0]
    assert {"title", "summary", "engine", "degraded", "papers"} <= theme.keys()
    paper = theme["papers"][0]
    for key in ("id", "title", "authors", "blurb", "why_it_matters", "url", "pdf_url", "engine"):
        assert key in paper, key
    assert paper["authors"] == ["Alice Martin", "Bo Chen"]
    assert {"id", "title", "url"} <= data["also_new"][0].keys()
    assert data["updated"][0]["id"] == "2611.00001"
    assert data["health"][1] == {
        "name": "hf-daily",
        "status": "failed",
        "count": 0,
        "reason": "HTTP 503",
        "note": None,
    }
    assert data["usage"]["calls"] == 4
    assert data["prompt_versions"] == {"grouping": "v3"}
    # every paper of the digest is there exactly once
    ids = [p["id"] for t in data["themes"] for p in t["papers"]] + [
        p["id"] for p in data["also_new"]
    ]
    assert sorted(ids) == sorted(p for p in digest.papers)


def test_json_has_no_secret_looking_fields():
    blob = json.dumps(digest_to_json(make_digest())).lower()
    for word in ("api_key", "password", "secret", 'token":'):
        assert word not in blob


# --- files --------------------------------------------------------------------------------


def test_write_digest_files(tmp_path):
    out = tmp_path / "2026-11-26-daily"
    digest = make_digest(papers={0: {"title": EVIL_TITLE}})
    files = write_digest_files(digest, out, sender="d@example.org", recipients=["r@example.org"])
    assert {p.name for p in out.iterdir()} == {
        "digest.html",
        "digest.txt",
        "digest.eml",
        "digest.json",
    }
    assert files.html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "<script>alert(1)</script>" in files.text.read_text(encoding="utf-8")
    assert json.loads(files.json.read_text(encoding="utf-8"))["kind"] == "daily"
    msg = BytesParser(policy=policy.default).parsebytes(files.eml.read_bytes())
    assert msg["To"] == "r@example.org"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    # re-writing replaces files, leaving no temp files behind
    write_digest_files(digest, out)
    assert len(list(out.iterdir())) == 4


# --- archive ------------------------------------------------------------------------------


def test_archive_index_newest_first_and_escaped():
    entries = [
        ArchiveEntry(
            DATE - dt.timedelta(days=2),
            "daily",
            None,
            ("Old theme", OTHER_THEME),
            10,
            "offline",
            "2026-11-24-daily/digest.html",
        ),
        ArchiveEntry(
            DATE,
            "daily",
            None,
            ("<script>x()</script> theme", "B"),
            30,
            "llm:gpt-4o-mini",
            "2026-11-26-daily/digest.html",
        ),
        ArchiveEntry(
            DATE - dt.timedelta(days=1),
            "topic",
            "routing <b>MoE</b>",
            ("R",),
            5,
            "offline",
            "javascript:alert(1)",
        ),
    ]
    html = render_archive_index(entries)
    assert "<script>x()" not in html and "&lt;script&gt;x()&lt;/script&gt; theme" in html
    assert "Routing &lt;b&gt;MoE&lt;/b&gt;" in html
    assert "javascript" not in html
    first, second, third = (html.index(s) for s in ("2026-11-26", "2026-11-25", "2026-11-24"))
    assert first < second < third
    assert 'href="2026-11-26-daily/digest.html"' in html
    assert "30 papers" in html and "gpt-4o-mini" in html
    assert "10 papers · 1 theme ·" in html and "· Other" not in html  # Other is no theme


def test_archive_index_empty():
    assert "No digests yet." in render_archive_index([])


def test_text_part_and_eml_are_capped_like_the_html(tmp_path):
    """3,000 "also new" titles: the text part (not only the HTML) is cut, says so, and the
    .eml stays under its cap; digest.json keeps every paper."""
    from agent.render import write_digest_files
    from agent.render.email import default_message_cap

    digest = make_digest(20, n_themes=2, also_new=3000)
    files = write_digest_files(digest, tmp_path / "out")
    html, text = files.html.read_bytes(), files.text.read_bytes()
    assert len(html) <= 100_000 and len(text) <= 100_000
    assert files.eml.stat().st_size <= default_message_cap(100_000)
    decoded = text.decode("utf-8")
    assert "To keep this email short" in decoded
    assert "more, listed in digest.json and the archive" in decoded
    assert len(json.loads(files.json.read_text(encoding="utf-8"))["also_new"]) == 3000


def test_every_paper_shows_the_id_digest_rate_needs_with_or_without_a_why():
    digest = make_digest(4, n_themes=2)
    with_why = digest.model_copy(update={"why": {"2611.00000": "in your categories: cs.CL"}})
    for d in (digest, with_why):
        html = render_html(d).html
        text = render_text(d)
        markdown = render_markdown(d)
        for i in range(4):
            pid = f"2611.{i:05d}"
            assert re.search(rf'<span class="nw"[^>]*>{re.escape(pid)}</span>', html), pid
            assert f"[{pid}]" in text, pid
            assert re.search(rf"^  (Why here: .* · )?{re.escape(pid)}$", markdown, re.MULTILINE), (
                pid
            )
    assert "Why here: in your categories: cs.CL" in render_html(with_why).html
    assert "Why here" not in render_html(digest).html
