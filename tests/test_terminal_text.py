"""Untrusted text on the terminal: rich's markup escape leaves control characters, so an ESC in
a theme title the model wrote, a Zotero title or a source's id would clear the screen or link
text elsewhere (OSC 8). Each is cleaned where it comes in (the model's schemas, LibraryEntry,
Paper) and, whatever got past, again where the terminal shows it (`agent.core.console_text`)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from rich.console import Console

from agent.models import Digest, Paper, PaperBlurb, SourceHealth, Theme
from agent.terminal import print_digest, theme_lines

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
