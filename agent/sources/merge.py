"""Merge the papers of several sources: one Paper per id, with the richest fields of all copies.

Rules, per field, over the copies of one id (in order of appearance):
- version: the highest; title, url and pdf_url come from the copy with the highest version
  (ties: the first copy that has the field), so a replaced paper shows its newest title.
- abstract: the longest. authors, categories: the first non-empty (the order is meaningful).
- primary_category, announce_type, published, source: the first non-empty.
- updated: the latest. upvotes, stars: the maximum. code_url, hf_url: the first non-empty.
Order is the order of first appearance across the lists, so the result is stable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from agent.models import Paper

T = TypeVar("T")


def merge_papers(lists: Sequence[Sequence[Paper]]) -> list[Paper]:
    """One Paper per id across all lists, richest fields kept, in order of first appearance."""
    groups: dict[str, list[Paper]] = {}
    for papers in lists:
        for paper in papers:
            groups.setdefault(merge_key(paper.id), []).append(paper)
    return [copies[0] if len(copies) == 1 else _merge(copies) for copies in groups.values()]


def merge_key(paper_id: str) -> str:
    """arXiv ids compare case-insensitively and without surrounding space."""
    return paper_id.strip().lower()


# Fields taken from the first copy that has them (the order of the lists is meaningful).
_FIRST_NON_EMPTY = (
    "authors",
    "categories",
    "primary_category",
    "announce_type",
    "published",
    "code_url",
    "hf_url",
)
_GREATEST = ("updated", "upvotes", "stars")  # the latest date, the highest count


def _merge(copies: list[Paper]) -> Paper:
    first = copies[0]
    top = _greatest(copies, "version")
    # The newest copies first, then the rest in order: fields of the newest version win.
    newest_first = [p for p in copies if p.version == top] + [p for p in copies if p.version != top]
    update: dict[str, object] = {
        "version": top,
        "title": _first(p.title for p in newest_first) or first.title,
        "url": _first(p.url for p in newest_first),
        "pdf_url": _first(p.pdf_url for p in newest_first),
        "abstract": max((p.abstract for p in copies), key=len),
    }
    update |= {name: _first(getattr(p, name) for p in copies) for name in _FIRST_NON_EMPTY}
    update |= {name: _greatest(copies, name) for name in _GREATEST}
    update["authors"] = update["authors"] or ()
    update["categories"] = update["categories"] or ()
    return first.model_copy(update=update)


def _greatest(copies: Sequence[Paper], name: str) -> Any:
    """The largest non-None value of a field over the copies, or None."""
    values = [value for p in copies if (value := getattr(p, name)) is not None]
    return max(values) if values else None


def _first(values: Iterable[T]) -> T | None:
    """The first truthy value (non-empty string or tuple, not None)."""
    for value in values:
        if value:
            return value
    return None
