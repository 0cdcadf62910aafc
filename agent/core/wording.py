"""Counted nouns for the terminal and the email: "1 paper", "2 papers", "1 fallback"."""

from __future__ import annotations


def plural(n: int, word: str, words: str | None = None) -> str:
    """`n` and the word, singular for exactly one; `words` when the plural is irregular."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


__all__ = ["plural"]
