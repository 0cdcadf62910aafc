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
from typing import TypeVar

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


def _merge(copies: list[Paper]) -> Paper:
    first = copies[0]
    versions = [p.version for p in copies if p.version is not None]
    top = max(versions) if versions else None
    # The newest copies first, then the rest in order: fields of the newest version win.
    newest_first = [p for p in copies if p.version == top] + [p for p in copies if p.version != top]
    upvotes = [p.upvotes for p in copies if p.upvotes is not None]
    updated = [p.updated for p in copies if p.updated is not None]
    stars = [p.stars for p in copies if p.stars is not None]
    return first.model_copy(
        update={
            "version": top,
            "title": _first(p.title for p in newest_first) or first.title,
            "url": _first(p.url for p in newest_first),
            "pdf_url": _first(p.pdf_url for p in newest_first),
            "abstract": max((p.abstract for p in copies), key=len),
            "authors": _first(p.authors for p in copies) or (),
            "categories": _first(p.categories for p in copies) or (),
            "primary_category": _first(p.primary_category for p in copies),
            "announce_type": _first(p.announce_type for p in copies),
            "published": _first(p.published for p in copies),
            "updated": max(updated) if updated else None,
            "upvotes": max(upvotes) if upvotes else None,
            "stars": max(stars) if stars else None,
            "code_url": _first(p.code_url for p in copies),
            "hf_url": _first(p.hf_url for p in copies),
        }
    )


def _first(values: Iterable[T]) -> T | None:
    """The first truthy value (non-empty string or tuple, not None)."""
    for value in values:
        if value:
            return value
    return None
