"""Outside text as the terminal shows it: plain characters, never a control sequence or markup."""

from __future__ import annotations

from rich.markup import escape

from agent.core.safe_text import strip_hidden


def shown(text: str) -> str:
    """`text` (a title, an id, a server's answer) for a rich console string: control characters
    dropped (`strip_hidden`: rich's `escape` leaves an ESC, which starts a terminal sequence that
    can clear the screen or link text elsewhere), then rich markup escaped."""
    return escape(strip_hidden(text))
