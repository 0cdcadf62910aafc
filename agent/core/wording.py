"""Counted nouns and spans of time for the terminal and the email: "1 paper", "2 papers",
"45 s", "9 min"."""

from __future__ import annotations

from collections.abc import Sequence


def plural(n: int, word: str, words: str | None = None) -> str:
    """`n` and the word, singular for exactly one; `words` when the plural is irregular."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def duration(seconds: float) -> str:
    """'45 s', '9 min', '1 h 20 min' (whole seconds under 90 s, else whole minutes)."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def join_phrases(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c' (empty items left out)."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


__all__ = ["duration", "join_phrases", "plural"]
