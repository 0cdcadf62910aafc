"""Answers that fit the schema but say nothing: each check returns an error a model can act on.

Small local models fill a schema with whatever is at hand: the prompt's own instructions, the
paper's title, brackets and digits, an id as a theme title, the words "Today at a glance", a
query in another language. The schemas call these checks (through the validation context, see
`JunkContext`), so such an answer is re-asked with the error, then repaired or sent to the
fallback, and listed in `degraded`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from agent.core.one_line import one_line

SHINGLE_WORDS = 6  # this many words in a row taken from the instructions is a copy
MIN_LETTERS = 1
BARE_HEADLINES = frozenset(
    {"today at a glance", "at a glance", "headline", "summary", "today", "overview"}
)
MIN_HEADLINE_WORDS = 4
# labels a model echoes before its headline ("Today:" is kept: it reads as a sentence)
ECHOED_LABELS = ("today at a glance", "at a glance", "headline", "overview", "summary")


@dataclass(frozen=True)
class JunkContext:
    """What the checks compare against: the prompt's instruction word runs, the titles of the
    call's items by short id, and (for query expansion) the topic."""

    instructions: frozenset[tuple[str, ...]] = frozenset()
    titles: Mapping[str, str] = field(default_factory=dict)
    topic: str | None = None


def words(text: str) -> list[str]:
    """Casefolded words with the punctuation around them dropped."""
    out = []
    for raw in text.casefold().split():
        word = "".join(ch for ch in raw if ch.isalnum() or ch in "-'")
        word = word.strip("-'")
        if word:
            out.append(word)
    return out


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[tuple[str, ...]]:
    ws = words(text)
    return frozenset(tuple(ws[i : i + size]) for i in range(len(ws) - size + 1))


def context_of(info_context: object) -> JunkContext:
    """The `JunkContext` passed to `model_validate(..., context=...)`, or an empty one."""
    if isinstance(info_context, JunkContext):
        return info_context
    if isinstance(info_context, Mapping) and isinstance(info_context.get("junk"), JunkContext):
        return info_context["junk"]
    return JunkContext()


def letters(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch).startswith("L"))


def no_words(text: str) -> str | None:
    if text.strip() and letters(text) < MIN_LETTERS:
        return f"{_shown(text)} has no words in it (only symbols or digits): write plain words"
    return None


def copied_instructions(text: str, context: JunkContext) -> str | None:
    if context.instructions and shingles(text) & context.instructions:
        return (
            "this repeats the instructions instead of answering them: write about the "
            "paper itself, in your own words"
        )
    return None


def same_as_title(text: str, sid: str, context: JunkContext) -> str | None:
    title = context.titles.get(sid)
    if title and words(text) and words(text) == words(title):
        return f"the blurb for {sid} only repeats its title: say what the paper did and found"
    return None


def id_as_title(text: str, ids: Iterable[str]) -> str | None:
    stripped = " ".join(text.split()).strip(" .:")
    if stripped.upper() in {i.upper() for i in ids} or _looks_like_id(stripped):
        return (
            f"the title {_shown(text)} is an id: name what the theme's papers are about, "
            "in a few plain words"
        )
    return None


def copied_paper_title(title: str, member_sids: Iterable[str], context: JunkContext) -> str | None:
    """A theme of several papers titled with one of them's title names one paper, not the theme."""
    members = list(member_sids)
    if len(members) < 2 or not words(title):
        return None
    for sid in members:
        paper_title = context.titles.get(sid)
        if paper_title and _starts_like(words(paper_title), words(title.rstrip("…. "))):
            return (
                f"the theme title {_shown(title)} is the title of {sid}, one of its "
                f"{len(members)} papers: name what the papers share, in a few plain words"
            )
    return None


def without_section_label(text: str) -> str:
    """The headline without a leading echo of its section's label ("Today at a glance: …")."""
    stripped = text.lstrip()
    for label in ECHOED_LABELS:
        if stripped.casefold().startswith(label):
            rest = stripped[len(label) :]
            if rest[:1] in (":", "-", "—", "–", "."):
                rest = rest[1:].lstrip()
                return rest[:1].upper() + rest[1:]
    return text


def _starts_like(title_words: list[str], text_words: list[str]) -> bool:
    """`text` is the title, or its first words (3 or more) with the last one possibly cut."""
    n = len(text_words)
    if n == len(title_words) and text_words == title_words:
        return True
    return (
        3 <= n <= len(title_words)
        and text_words[:-1] == title_words[: n - 1]
        and title_words[n - 1].startswith(text_words[-1])
    )


def bare_headline(text: str) -> str | None:
    ws = words(text)
    if " ".join(ws) in BARE_HEADLINES or len(ws) < MIN_HEADLINE_WORDS:
        return (
            f"the headline {_shown(text)} says nothing: write 2 or 3 plain sentences on what "
            "the themes are about"
        )
    return None


def off_topic_queries(queries: Iterable[str], topic: str | None) -> str | None:
    """Queries that share no word with the topic and are written in another script."""
    if not topic:
        return None
    topic_words = {w for w in words(topic) if len(w) >= 3}
    latin_topic = _latin_share(topic) >= 0.5
    strays = []
    shared_any = False
    for query in queries:
        query_words = set(words(query))
        if query_words & topic_words or any(
            t[:5] == w[:5] for t in topic_words for w in query_words if len(w) >= 5
        ):
            shared_any = True
        elif latin_topic and _latin_share(query) < 0.5:
            strays.append(query)
    if strays:
        return (
            f"{_shown(strays[0])} is not in the topic's language and shares no word with it: "
            "write arXiv keyword queries in English, starting with the topic's own words"
        )
    if topic_words and not shared_any:
        return "no query uses a word of the topic: start with the topic's own words"
    return None


def _latin_share(text: str) -> float:
    total = letters(text)
    if not total:
        return 1.0
    latin = sum(
        1
        for ch in text
        if unicodedata.category(ch).startswith("L") and "LATIN" in unicodedata.name(ch, "")
    )
    return latin / total


def _looks_like_id(text: str) -> bool:
    return len(text) >= 2 and text[0] in "PpTt" and text[1:].isdigit()


def _shown(text: str, limit: int = 40) -> str:
    return repr(one_line(text, limit))


__all__ = [
    "JunkContext",
    "bare_headline",
    "context_of",
    "copied_instructions",
    "copied_paper_title",
    "id_as_title",
    "no_words",
    "off_topic_queries",
    "same_as_title",
    "shingles",
    "without_section_label",
    "words",
]
