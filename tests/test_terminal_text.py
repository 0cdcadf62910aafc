"""Untrusted text on the terminal: rich's markup escape leaves control characters, so an ESC in
a theme title the model wrote, a Zotero title or a source's id would clear the screen or link
text elsewhere (OSC 8). Each is cleaned where it comes in (the model's schemas, LibraryEntry,
Paper) and, whatever got past, again where the terminal shows it (`agent.core.console_text`)."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring
from rich.console import Console

from agent.core.resources import demo_day_path
from agent.models import Digest, Paper, PaperBlurb, SourceHealth, Theme
from agent.select.profile import LibraryEntry
from agent.terminal import print_digest, theme_lines
from tests.bounded_cli import cli, no_traceback
from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest, Reply, request_schema
from tests.fakes.zotero_server import FakeZotero, item
from tests.llm_answers import answer_from_schema, sample_papers

DATE = "2026-12-01"
CLEAR = "\x1b[2J\x1b[31m"  # clear the screen, then red
LINK = "\x1b]8;;https://evil.example/\x1b\\"  # OSC 8: the text after it links to evil.example


def _terminal_text(print_to: Any) -> str:
    """What `print_to(console)` writes to a plain console (no styles of rich's own)."""
    buffer = io.StringIO()
    print_to(Console(file=buffer, width=200, highlight=False, emoji=False, color_system=None))
    return buffer.getvalue()


def test_the_terminal_shows_no_control_sequence_whatever_a_digest_holds() -> None:
    """The second layer: text built past the validators (a digest.json of an older version,
    a model-free path) is still shown without its control characters."""
    paper = Paper(id="2612.00001", title="Sparse attention", url="https://arxiv.org/abs/2612.00001")
    digest = Digest(
        kind="topic",
        date=dt.date(2026, 12, 1),
        topic=f"{CLEAR}decoding",
        engine="llm:gpt-4o-mini",
        headline=f"{CLEAR}Three themes.",
        overview=f"{LINK}Overview.",
        themes=(
            Theme(
                title=f"{CLEAR}Decoding methods",
                summary=f"{LINK}Summary.",
                papers=(PaperBlurb(paper_id=paper.id, blurb=f"{CLEAR}It does.", engine="llm"),),
            ),
        ),
        papers={paper.id: paper},
        why={paper.id: f"in your library: {LINK}Mine"},
        health=(SourceHealth(name=f"s2:{CLEAR}x", status="failed", reason=f"{LINK}down"),),
    )
    shown = _terminal_text(lambda console: print_digest(console, digest))
    shown += _terminal_text(lambda console: theme_lines(console, digest))
    assert "Decoding methods" in shown and "It does." in shown and "down" in shown
    assert "\x1b" not in shown, [line for line in shown.splitlines() if "\x1b" in line]


def test_a_library_entry_keeps_no_hidden_character() -> None:
    entry = LibraryEntry(
        key=f"K1{CLEAR}",
        title=f"{CLEAR}{LINK}Mine\u202e",
        abstract="About\x00 it\uffff.",
        authors=(f"Ada{CLEAR}", "\u200b"),
    )
    assert (entry.key, entry.title) == ("K1[2J[31m", "[2J[31m]8;;https://evil.example/\\Mine")
    assert entry.abstract == "About it." and entry.authors == ("Ada[2J[31m",)


def _hostile_model(body: dict[str, Any]) -> Reply:
    """Valid answers, with terminal escapes in every theme title and in the headline."""
    schema, as_tool = request_schema(body)
    assert schema is not None
    answer = answer_from_schema(schema, themes=3, prompt=RecordedRequest.text_of(body))
    for theme in answer.get("themes", []):
        theme["title"] = f"{CLEAR}Decoding methods"
    if "headline" in answer:
        answer["headline"] = f"Today:{CLEAR} several themes. Read on."
    return Reply(answer, tool_call=as_tool)


@pytest.mark.timeout(90)
def test_model_escape_sequences_reach_neither_the_terminal_nor_the_feed(tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=_hostile_model) as server:
        config = tmp_path / "digest.toml"
        config.write_text(
            f'[llm]\nbase_url = "{server.base_url}"\napi_key = "sk-test-0123456789abcdef"\n'
            'dialect = "json_schema"\nlocal_defaults = false\ntimeout_seconds = 5.0\n'
            "max_attempts = 1\nmax_retry_wait_seconds = 0.0\n",
            encoding="utf-8",
        )
        # a real day: the sample day's digests are kept out of the feed this test reads
        args = (
            "daily",
            "--config",
            str(config),
            "--source",
            f"file:{demo_day_path()}",
            "--no-send",
        )
        result = cli(tmp_path, *args, "--date", DATE)
    output = no_traceback(result)
    assert result.exit_code == 0, output
    assert "Decoding methods" in output  # the model's titles were kept, without the escapes
    assert "\x1b" not in output, [line for line in output.splitlines() if "\x1b" in line]
    archive = tmp_path / "home" / "archive"
    data = json.loads((archive / DATE / "digest.json").read_text("utf-8"))
    assert data["themes"][0]["title"] == "[2J[31mDecoding methods"
    assert "\x1b" not in data["headline"]
    feed = (archive / "feed.xml").read_bytes()
    fromstring(feed)
    assert b"Decoding methods" in feed  # the model's digest is in it


@pytest.mark.timeout(90)
def test_zotero_escape_sequences_reach_neither_the_terminal_nor_the_feed(tmp_path: Path) -> None:
    """A Zotero group library is anyone in the group's text; its titles reach the "why"."""
    [paper] = sample_papers(1)
    mine = item("K1", f"{CLEAR}{LINK}{paper.title}", paper.abstract, ("Ada Lovelace",))
    with FakeZotero(user_id="42", api_key="zotero-key-0123456789", items=[mine]) as zotero:
        config = tmp_path / "digest.toml"
        config.write_text(
            f'[zotero]\nuser_id = "42"\napi_key = "zotero-key-0123456789"\n'
            f'base_url = "{zotero.url}"\n',
            encoding="utf-8",
        )
        args = ("daily", "--config", str(config), "--source", "sample", "--engine", "offline")
        result = cli(tmp_path, *args, "--no-send", "--date", DATE)
    output = no_traceback(result)
    assert result.exit_code == 0, output
    assert "your library" in output  # the library paper was matched and named
    assert "\x1b" not in output, [line for line in output.splitlines() if "\x1b" in line]
    fromstring((tmp_path / "home" / "archive" / "feed.xml").read_bytes())
