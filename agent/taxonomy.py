"""arXiv's category names (shipped as package data) and "did you mean" for a misspelt one."""

from __future__ import annotations

import difflib
from functools import cache
from pathlib import Path

TAXONOMY_URL = "https://arxiv.org/category_taxonomy"
_DATA = Path(__file__).resolve().parent / "data" / "arxiv-categories.tsv"


@cache
def arxiv_categories() -> dict[str, str]:
    """Every active category (and each archive a feed takes whole) -> its name."""
    found: dict[str, str] = {}
    for line in _DATA.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, _, name = line.partition("\t")
            found[code] = name
    return found


@cache
def _by_lower() -> dict[str, str]:
    return {code.lower(): code for code in arxiv_categories()}


def closest_categories(name: str, limit: int = 3) -> list[str]:
    """The categories `name` most likely meant: the same letters in arXiv's case when there
    are (cs.cl -> cs.CL), else the nearest spellings (cs.LGG -> cs.LG, cs.PL, cs.LO)."""
    wanted = name.strip().lower()
    lower = _by_lower()
    if wanted in lower:  # only the case differs: that is the one
        return [lower[wanted]]
    near = difflib.get_close_matches(wanted, list(lower), n=limit, cutoff=0.6)
    return [lower[key] for key in near]


def arxiv_spelling(name: str) -> str | None:
    """`name` as arXiv spells it (cs.cl -> cs.CL), or None when arXiv has no such category."""
    if name in arxiv_categories():
        return name
    return _by_lower().get(name.strip().lower())


def category_problem(name: str) -> str | None:
    """None for a category arXiv has; else one line with the closest names."""
    if name in arxiv_categories():
        return None
    close = closest_categories(name)
    hint = f"did you mean {' or '.join(close)}?" if close else f"see {TAXONOMY_URL}"
    return f"{name!r} is not an arXiv category; {hint}"


__all__ = [
    "TAXONOMY_URL",
    "arxiv_categories",
    "arxiv_spelling",
    "category_problem",
    "closest_categories",
]
