"""The short `why` each selected paper carries: the strongest reason it is in the digest."""

from __future__ import annotations

from agent.select.profile import LibraryEntry
from agent.select.ranking import Evidence

TITLE_CHARS = 60
SAME_PAPER = 0.95  # cosine similarity above which it is the reader's own paper


def clip_title(title: str, limit: int = TITLE_CHARS) -> str:
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    return title[: limit - 1].rsplit(" ", 1)[0] + "…"


FOLLOWED_PREFIX = "followed author: "


def followed(author: str) -> str:
    return f"{FOLLOWED_PREFIX}{author}"


def library(evidence: Evidence, entry: LibraryEntry, *, rated: bool) -> str:
    where = "a paper you rated up" if rated else "your library"
    if evidence.similarity >= SAME_PAPER:
        return f"{'rated up' if rated else 'in your library'}: {clip_title(entry.title)}"
    text = f"close to {where}: {clip_title(entry.title)}"
    if evidence.terms:
        text += f" ({', '.join(evidence.terms)})"
    return text


def keywords(found: list[str]) -> str:
    return f"keyword{'s' if len(found) > 1 else ''}: {', '.join(found)}"


def interests(terms: list[str]) -> str:
    return f"matches your interests: {', '.join(terms)}" if terms else "matches your interests"


def upvotes(count: int) -> str:
    return f"{count:,} upvote{'s' if count != 1 else ''}"


NEW = "new in your sources"
