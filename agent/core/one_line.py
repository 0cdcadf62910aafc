"""Text for one line of a log, an error or a note: whitespace folded, clipped with an ellipsis."""

from __future__ import annotations


def one_line(text: object, limit: int = 160) -> str:
    """`text` on one line, at most `limit` characters (the last one "…" when clipped)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


__all__ = ["one_line"]
