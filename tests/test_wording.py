"""Counted nouns read right ("1 paper", "1 fallback or repair"), and an empty search is not
mistaken for a quiet day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from agent.config import load_settings
from agent.core.wording import plural
from agent.models import DegradedNote, SourceHealth, Usage
from agent.pipeline import DailyOptions
from agent.terminal import health_lines, print_daily_outcome, usage_line
from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.runs import run_daily

FIXTURES = Path(__file__).parent / "fixtures"
RSS_WEEKEND = (FIXTURES / "arxiv_rss" / "allnewsai_rss_cs.CL_weekend_empty.xml").read_bytes()
EMPTY_ATOM = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>ArXiv Query: search_query=all:zzzz</title>
  <id>http://arxiv.org/api/empty</id>
  <updated>2026-12-01T00:00:00-05:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:itemsPerPage>
</feed>
"""
DAY = dt.date(2026, 12, 1)


def test_plural() -> None:
    assert plural(1, "paper") == "1 paper"
    assert plural(0, "paper") == "0 papers"
    assert plural(1200, "paper") == "1,200 papers"
    assert plural(1, "fallback or repair", "fallbacks or repairs") == "1 fallback or repair"


def test_terminal_lines_say_one_paper_and_one_call() -> None:
    [line] = health_lines((SourceHealth(name="hf-daily", status="ok", count=1),))
    assert "1 paper" in line and "1 papers" not in line
    line = usage_line(Usage(calls=1, input_tokens=10, output_tokens=2), "llm:m")
    assert "1 model call " in line


def test_daily_summary_counts_one_fallback(tmp_path: Path) -> None:
    from agent.models import Digest, Paper, PaperBlurb, Theme
    from agent.pipeline import RunOutcome

    paper = Paper(id="p1", title="One paper", abstract="An abstract.", source="file:x")
    digest = Digest(
        kind="daily",
        date=DAY,
        engine="llm:m",
        headline="h",
        themes=(
            Theme(
                title="T", summary="s", papers=(PaperBlurb(paper_id="p1", blurb="b", engine="llm"),)
            ),
        ),
        papers={"p1": paper},
        degraded=(DegradedNote(step="headline", reason="timeout", fallback="offline engine"),),
    )
    outcome = RunOutcome(status="written", message="done", digest=digest)
    console = Console(record=True, width=200)
    print_daily_outcome(console, outcome)
    text = console.export_text()
    assert "1 fallback or repair;" in text and "1 fallbacks" not in text
    assert "1 paper" in text and "1 papers" not in text


def test_the_digest_shape_does_not_count_other_as_a_theme() -> None:
    from agent.models import OTHER_THEME, Digest, Paper, PaperBlurb, Theme

    papers = {
        f"p{i}": Paper(id=f"p{i}", title=f"Paper {i}", abstract="A.", source="file:x")
        for i in range(3)
    }

    def theme(title: str, *ids: str) -> Theme:
        return Theme(
            title=title,
            summary="s",
            papers=tuple(PaperBlurb(paper_id=i, blurb="b", engine="offline") for i in ids),
        )

    digest = Digest(
        kind="daily",
        date=DAY,
        engine="offline",
        headline="h",
        papers=papers,
        themes=(theme("Agents", "p0", "p1"), theme(OTHER_THEME, "p2")),
    )
    assert digest.shape == "3 papers in 1 theme, 1 under Other"
    plain = digest.model_copy(update={"themes": (theme("Agents", "p0", "p1", "p2"),)})
    assert plain.shape == "3 papers in 1 theme"


@pytest.fixture
def server() -> Any:
    with ScriptedHttpServer() as srv:
        yield srv


def run(tmp_path: Path, server: ScriptedHttpServer, *sources: str) -> str:
    settings = load_settings(
        None,
        home=tmp_path / "home",
        engine="offline",
        sources={
            "arxiv_rss_url": f"{server.url}/rss/",
            "arxiv_api_url": f"{server.url}/api/query",
            "arxiv_min_interval_seconds": 0,
            "max_attempts": 1,
        },
    )
    options = DailyOptions(
        date=DAY, sources=sources, engine="offline", out_dir=tmp_path / "out", send=False
    )
    outcome = run_daily(settings, options)
    assert outcome.status == "empty"
    return outcome.message


def test_an_empty_search_is_not_a_weekend(tmp_path: Path, server: ScriptedHttpServer) -> None:
    server.add("/api/query", Reply(200, EMPTY_ATOM))
    message = run(tmp_path, server, "arxiv:all:zzzz")
    assert "weekend" not in message and "holiday" not in message
    assert "no paper matched arxiv:all:zzzz (try broader search terms)" in message


def test_an_empty_feed_is_still_a_quiet_day(tmp_path: Path, server: ScriptedHttpServer) -> None:
    server.add("/rss/cs.CL", Reply(200, RSS_WEEKEND))
    server.add("/api/query", Reply(200, EMPTY_ATOM))
    message = run(tmp_path, server, "arxiv-rss:cs.CL", "arxiv:all:zzzz")
    assert "(a weekend or holiday?)" in message and "no paper matched arxiv:all:zzzz" in message
