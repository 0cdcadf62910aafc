"""The short `why` each selected paper carries: the strongest reason it is in the digest.

A reason names what a reader recognises: the library paper a pick is close to and the phrases
they share ("KV cache", "length extrapolation"), the keyword, the followed author, the upvotes.
A weak match says so. A paper with nothing personal to say gets no reason (`NOTHING`) rather
than the same filler on every paper.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.select.profile import LibraryEntry
from agent.select.ranking import Evidence

TITLE_CHARS = 60
WEAK = "weak match"  # how a reason that is little more than chance starts
SAME_PAPER = 0.95  # cosine similarity above which it is the reader's own paper
NOTHING = ""  # no reason worth a line: the paper is here because it is new


def clip_title(title: str, limit: int = TITLE_CHARS) -> str:
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    return title[: limit - 1].rsplit(" ", 1)[0] + "…"


FOLLOWED_PREFIX = "followed author: "


def followed(author: str) -> str:
    return f"{FOLLOWED_PREFIX}{author}"


def library(evidence: Evidence, entry: LibraryEntry, *, rated: bool) -> str:
    """'close to your library: TITLE (shared: KV cache, memory offloading)'; 'weak match' when
    the closeness is little more than chance."""
    where = "a paper you rated up" if rated else "your library"
    if evidence.similarity >= SAME_PAPER:
        return f"{'rated up' if rated else 'in your library'}: {clip_title(entry.title)}"
    lead = f"{WEAK} to {where}" if evidence.weak else f"close to {where}"
    text = f"{lead}: {clip_title(entry.title)}"
    if evidence.terms:
        text += f" (shared: {', '.join(evidence.terms)})"
    return text


def shared_authors(names: Sequence[str]) -> str:
    return (
        f"by {'authors' if len(names) > 1 else 'an author'} of your papers: {', '.join(names[:2])}"
    )


def keywords(found: list[str]) -> str:
    return f"keyword{'s' if len(found) > 1 else ''}: {', '.join(found)}"


def interests(terms: Sequence[str], *, weak: bool = False) -> str:
    """'matches your interests: speculative decoding' (the reader's own phrases, when the paper
    has all of one); 'weak match to your interests: decoding' when it shares only words."""
    lead = f"{WEAK} to your interests" if weak else "matches your interests"
    return f"{lead}: {', '.join(clip_title(t) for t in terms)}" if terms else lead


def upvotes(count: int) -> str:
    return f"trending: {count:,} upvote{'s' if count != 1 else ''}"


def categories(found: Sequence[str]) -> str:
    return f"in your categories: {', '.join(found)}"
