"""The reader's plain rules: keyword patterns, category filters, the text a paper is ranked by."""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.models import Paper


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    """One case-insensitive whole-word pattern for the keywords, or None when there are none."""
    words = [re.escape(word.strip()) for word in keywords if word.strip()]
    return re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE) if words else None


def paper_text(paper: Paper) -> str:
    """Title twice (it says the most per word), then the abstract."""
    return f"{paper.title}. {paper.title}. {paper.abstract}"


def categories_in(paper: Paper, wanted: Sequence[str]) -> list[str]:
    """The paper's categories among `wanted` (an archive such as 'cs' counts for 'cs.CL')."""
    return [
        cat
        for cat in paper.categories
        if any(cat == want or cat.startswith(want + ".") for want in wanted)
    ]


def in_categories(paper: Paper, categories: Sequence[str]) -> bool:
    if not categories or not paper.categories:
        return True
    return bool(categories_in(paper, categories))


def author_key(name: str) -> str:
    """A name compared loosely: lower case, letters only, 'Family, Given' turned around."""
    name = " ".join(name.split())
    if "," in name:
        family, _, given = name.partition(",")
        name = f"{given} {family}"
    return " ".join(re.sub(r"[^\w\s]", " ", name.lower()).split())


def followed_author(paper: Paper, followed: Sequence[str]) -> str | None:
    """The first followed author among the paper's authors (as written in the paper), else None."""
    wanted = {author_key(name) for name in followed if name.strip()}
    if not wanted:
        return None
    for author in paper.authors:
        if author_key(author) in wanted:
            return author
    return None
