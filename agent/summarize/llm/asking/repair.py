"""Deterministic repairs of model answers that stayed invalid after the re-asks.

- An assignment of ids to themes: invented ids are dropped, the first of duplicates is kept,
  empty themes and themes past the limit are dropped (their papers become unassigned), and
  unassigned papers go to the nearest theme by TF-IDF similarity, or to "Other".
- Texts: cut to their character bound at a word boundary; blurbs to 60 words at a sentence
  boundary; a paragraph (the topic overview) to its whole sentences, each said once.

Every function says what it changed, so the caller can record a DegradedNote.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from agent.models import Paper
from agent.summarize import offline
from agent.summarize.drafts import OTHER_TITLE, ThemeDraft
from agent.summarize.offline.blurbs import CJK_ENDS, join_sentences, split_sentences

logger = logging.getLogger(__name__)

ELLIPSIS = "…"
_SENTENCE_ENDS = (".", "!", "?", "…", '."', ".”", ".)", "?)", '?"', *CJK_ENDS)


@dataclass(frozen=True)
class Group:
    """A theme as an answer gave it: title, summary and member ids (short or real)."""

    title: str
    summary: str | None
    members: tuple[str, ...]


@dataclass
class Fixes:
    """What `clean_groups` and `place_leftovers` changed."""

    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    empty_themes: int = 0
    extra_themes: int = 0
    placed: int = 0
    to_other: int = 0
    titled: int = 0  # themes titled from their papers (the answer's title was empty or junk)

    def describe(self, what: str = "paper") -> str:
        parts = []
        if self.unknown:
            parts.append(f"dropped {_count(len(self.unknown), 'invented id')}")
        if self.duplicates:
            parts.append(
                f"kept the first place of {_count(len(self.duplicates), what)} given twice"
            )
        if self.empty_themes:
            parts.append(f"dropped {_count(self.empty_themes, 'empty theme')}")
        if self.extra_themes:
            parts.append(f"dropped {_count(self.extra_themes, 'theme')} over the limit")
        if self.placed:
            parts.append(f"put {_count(self.placed, 'unassigned paper')} in the nearest theme")
        if self.to_other:
            parts.append(f'put {_count(self.to_other, "unassigned paper")} under "{OTHER_TITLE}"')
        if self.titled:
            parts.append(f"titled {_count(self.titled, 'theme')} from its papers")
        return "repaired: " + "; ".join(parts) if parts else "repaired"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def clip(text: str | None, max_chars: int) -> str:
    """`text` folded and cut to `max_chars` at a word boundary (with an ellipsis)."""
    text = " ".join((text or "").split())
    if len(text) <= max_chars:
        return text
    limit = max(max_chars - 1, 0)
    head = text[:limit]
    if text[limit] != " " and " " in head:  # the cut is inside a word: drop that word
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:-") + ELLIPSIS


def word_count(text: str) -> int:
    return len(text.split())


def trim_words(text: str, max_words: int) -> str:
    """`text` cut to at most `max_words` words, at the last sentence end that fits; a first
    sentence longer than that is cut at a word with an ellipsis."""
    words = text.split()
    if len(words) <= max_words:
        return " ".join(words)
    kept = 0
    for i, word in enumerate(words[:max_words], start=1):
        if word.endswith(_SENTENCE_ENDS):
            kept = i
    if kept:
        return " ".join(words[:kept])
    return " ".join(words[:max_words]).rstrip(",;:-") + ELLIPSIS


def whole_sentences(text: str) -> str:
    """`text` folded, without a sentence left unfinished at its end (cut off by an output or a
    length bound) and without a sentence said again (a small model's loop); "" when no whole
    sentence is left."""
    sentences = split_sentences(text)  # not broken after 'e.g.', 'et al.' or initials
    if sentences and (
        not sentences[-1].endswith(_SENTENCE_ENDS) or sentences[-1].endswith(ELLIPSIS)
    ):
        sentences.pop()  # only the last one can be unfinished
    kept: list[str] = []
    seen: set[str] = set()
    for said in sentences:
        key = said.casefold()
        if key not in seen:
            seen.add(key)
            kept.append(said)
    return join_sentences(kept)


def clean_groups(
    groups: Sequence[Group], known: Sequence[str], *, max_groups: int
) -> tuple[list[Group], Fixes]:
    """Keep known ids, each once (first place wins); drop empty groups and groups past
    `max_groups` (their members become unassigned)."""
    allowed = set(known)
    seen: set[str] = set()
    fixes = Fixes()
    out: list[Group] = []
    for group in groups:
        members: list[str] = []
        here: set[str] = set()
        for member in group.members:
            if member not in allowed:
                fixes.unknown.append(member)
            elif member in seen or member in here:  # twice in one group counts too
                fixes.duplicates.append(member)
            else:
                members.append(member)
                here.add(member)
        if not members:
            fixes.empty_themes += 1
            continue
        if len(out) >= max_groups:
            fixes.extra_themes += 1
            continue
        seen.update(members)
        out.append(Group(group.title, group.summary, tuple(members)))
    return out, fixes


def place_leftovers(
    themes: Sequence[ThemeDraft],
    leftovers: Sequence[Paper],
    papers_by_id: Mapping[str, Paper],
    fixes: Fixes,
) -> list[ThemeDraft]:
    """Add each leftover paper to the most similar theme (TF-IDF), or to "Other"."""
    if not leftovers:
        return list(themes)
    members = [[papers_by_id[i] for i in t.paper_ids] for t in themes]
    try:
        nearest = offline.nearest_themes(leftovers, members) if themes else []
    except ValueError:  # texts without a single usable term (TF-IDF has no features)
        logger.warning(
            "no text similarity for %d leftover papers; they go to Other", len(leftovers)
        )
        nearest = []
    nearest = nearest or [None] * len(leftovers)
    added: dict[int, list[str]] = {}
    other: list[str] = []
    for paper, index in zip(leftovers, nearest, strict=True):
        if index is None:
            other.append(paper.id)
        else:
            added.setdefault(index, []).append(paper.id)
    out = [
        ThemeDraft(t.title, t.summary, t.paper_ids + tuple(added.get(i, ()))) if i in added else t
        for i, t in enumerate(themes)
    ]
    fixes.placed += sum(len(v) for v in added.values())
    if other:
        fixes.to_other += len(other)
        at = next((i for i, t in enumerate(out) if t.title == OTHER_TITLE), None)
        if at is None:
            papers = [papers_by_id[i] for i in other]
            summary = offline.write_theme_summary(OTHER_TITLE, papers)
            out.append(ThemeDraft(OTHER_TITLE, summary, tuple(other)))
        else:
            t = out[at]
            out[at] = ThemeDraft(t.title, t.summary, t.paper_ids + tuple(other))
    return out


__all__ = [
    "Fixes",
    "Group",
    "clean_groups",
    "clip",
    "place_leftovers",
    "trim_words",
    "word_count",
]
