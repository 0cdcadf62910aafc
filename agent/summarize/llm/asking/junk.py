"""Answers that fit the schema but say nothing: each check returns an error a model can act on.

Small local models fill a schema with whatever is at hand: the prompt's own instructions (with
the counts the prompt filled in), the paper's title with a few words or an acronym added,
another paper's title, one blurb for two papers, a random string, brackets and digits, an id
as (or in front of) a theme title, a paper's title as a theme's, the words "Today at a glance",
names the digest does not have, a query in another language. The schemas call these checks
(through the validation context, see `JunkContext`), so such an answer is re-asked with the
error, then repaired or sent to the fallback, and listed in `degraded`. The checks measure
(shares of words, runs of words) rather than compare whole strings, so an echo with a word
changed is still an echo, and a blurb that starts with its paper's title and goes on to say
what the paper did is not one.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from agent.core import bm25
from agent.core.one_line import one_line
from agent.stop_words import ENGLISH_STOP_WORDS
from agent.summarize.checks.figures import figures, shown, ungrounded, without_sentences

SHINGLE_WORDS = 6  # this many words in a row taken from the instructions is a copy
MIN_LETTERS = 1
BARE_HEADLINES = frozenset(
    {"today at a glance", "at a glance", "headline", "summary", "today", "overview"}
)
MIN_HEADLINE_WORDS = 4
# A text is its title echoed when it has most of the title's words (TITLE_COVERED) and few of
# its own (at most ECHO_EXTRA words, or a quarter of it): "<title>, a." or "<title> (ACRONYM)".
TITLE_COVERED = 0.75
ECHO_EXTRA = 3
MIN_BLURB_LETTERS = 12  # "MGVNlEjI" is no blurb; in Chinese, twelve characters can be one
SAME_BLURB = 0.9  # two blurbs this alike (word sequence ratio) are one blurb given twice
ENGLISH_SHARE = 0.15  # of a text's words that are English stop words: the text is English
MIN_MEASURED_WORDS = 3  # fewer words than this: too few to measure what the text is about
# labels a model echoes before its headline ("Today:" is kept: it reads as a sentence)
ECHOED_LABELS = ("today at a glance", "at a glance", "headline", "overview", "summary")
_INNER = re.compile(
    r"[^\w'-]|_"
)  # what `words` drops inside a word: all but letters, digits, - and '
_OUTER = re.compile(r"^[-']+|[-']+$")
_LETTERS = re.compile(r"[^A-Za-z]")  # what `_garbled` does not count (it reads Latin words)
_VOWEL = re.compile(r"[aeiouyAEIOUY]")
_FLIP = re.compile(r"(?<=[a-z])[A-Z]|(?<=[A-Z])[a-z]")  # a change of case inside a word


@dataclass(frozen=True)
class JunkContext:
    """What the checks compare against: the prompt's instruction word runs, the titles of the
    call's items by short id, and (for query expansion) the topic."""

    instructions: frozenset[tuple[str, ...]] = frozenset()
    titles: Mapping[str, str] = field(default_factory=dict)
    topic: str | None = None
    texts: Mapping[str, str] = field(default_factory=dict)  # short id -> the abstract shown
    facts: str | None = None  # what a headline or overview may name: the themes and papers


@lru_cache(maxsize=16_384)
def words(text: str) -> tuple[str, ...]:
    """Casefolded words with the punctuation around them dropped (cached: an answer's checks
    read the call's titles and blurbs many times)."""
    out = []
    for raw in text.casefold().split():
        word = _OUTER.sub("", _INNER.sub("", raw))
        if word:
            out.append(word)
    return tuple(out)


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[tuple[str, ...]]:
    """Runs of `size` words, numbers and ids left out: a prompt fills those in ("Group these 20
    new papers into at most 5 themes"), so an echo of it has them where its template has none."""
    ws = [w for w in words(text) if not (w.isdigit() or _looks_like_id(w))]
    return frozenset(tuple(ws[i : i + size]) for i in range(len(ws) - size + 1))


def context_of(info_context: object) -> JunkContext:
    """The `JunkContext` passed to `model_validate(..., context=...)`, or an empty one."""
    if isinstance(info_context, JunkContext):
        return info_context
    if isinstance(info_context, Mapping) and isinstance(info_context.get("junk"), JunkContext):
        return info_context["junk"]
    return JunkContext()


def letters(text: str) -> int:
    """How many letters (Unicode category L: what `str.isalpha` tests)."""
    return sum(map(str.isalpha, text))


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


def echoes(text: str, title: str) -> bool:
    """Whether `text` is `title` echoed: most of the title's words and few others, such as
    the title with a suffix, an acronym, or its last words cut."""
    mine, theirs = words(text.rstrip(" .…")), _word_set(title)
    if not mine or not theirs:
        return False
    covered = len(theirs & frozenset(mine)) / len(theirs)
    if covered >= TITLE_COVERED:
        extra = sum(1 for w in mine if w not in theirs)
        if extra <= max(ECHO_EXTRA, len(mine) // 4):
            return True
    return _starts_like(words(title), mine)  # its first words: 3 or more


@lru_cache(maxsize=16_384)
def _word_set(text: str) -> frozenset[str]:
    return frozenset(words(text))


def blurb_problems(blurbs: Sequence[tuple[str, str]], context: JunkContext) -> dict[str, str]:
    """{short id: what is wrong} for the (short id, blurb) pairs of one answer that do not say
    something about their own paper: a title (their own, echoed, or another paper's), too few
    letters or words that are no words, nothing of their paper's abstract, or one blurb given
    to two papers."""
    problems: dict[str, str] = {}
    for sid, text in blurbs:
        problem = _not_about_its_paper(text, sid, context)
        if problem:
            problems.setdefault(sid, problem)
    for (sid, text), (other, other_text) in itertools.combinations(blurbs, 2):
        if sid in problems or other in problems or sid == other:
            continue
        if _same_text(text, other_text) and not _same_paper(sid, other, context):
            message = (
                f"the blurbs for {sid} and {other} are the same: write each about its own paper"
            )
            problems[sid] = problems[other] = message
    return problems


def _not_about_its_paper(text: str, sid: str, context: JunkContext) -> str | None:
    title = context.titles.get(sid)
    if title and words(text) == words(title):
        return f"the blurb for {sid} only repeats its title: say what the paper did and found"
    if title and echoes(text, title):
        return (
            f"the blurb for {sid} is its title with a few words added: say what the paper "
            "did and found, in plain words"
        )
    for other, other_title in context.titles.items():
        if other != sid and echoes(text, other_title):
            return f"the blurb for {sid} is the title of {other}: write about {sid}'s own paper"
    if letters(text) < MIN_BLURB_LETTERS or _garbled(text):
        return f"the blurb for {sid} ({_shown(text)}) is no sentence: say what the paper did"
    source = context.texts.get(sid)
    if source and not _shares_a_term(text, f"{title or ''} {source}"):
        return (
            f"the blurb for {sid} ({_shown(text)}) says nothing its paper's abstract says: "
            "write what this paper did and found"
        )
    return None


def _shares_a_term(text: str, source: str) -> bool:
    """Whether an English text has a content word of its English source (True when either is
    not English, or the text is too short to tell: other checks catch those)."""
    if not (_english(text) and _english(source)):
        return True
    terms = _terms(text)
    return not terms or bool(terms & _terms(source))


@lru_cache(maxsize=4096)
def _terms(text: str) -> frozenset[str]:
    return frozenset(bm25.tokens(text))


def _english(text: str) -> bool:
    ws = words(text)
    if len(ws) < MIN_MEASURED_WORDS:
        return False
    return sum(w in ENGLISH_STOP_WORDS for w in ws) >= ENGLISH_SHARE * len(ws)


def _garbled(text: str) -> bool:
    """Most words look like no word: runs of letters without a vowel, or case flipping inside
    a word ("MGVNlEjI", "xQzPlk")."""
    ws = [w for w in text.split() if len(_LETTERS.sub("", w)) >= 4]
    if not ws or _latin_share(text) < 0.5:
        return False
    odd = sum(1 for w in ws if _odd_word(w))
    return odd * 2 > len(ws)


def _odd_word(word: str) -> bool:
    if not _VOWEL.search(word):
        return not word.isupper()  # "BERT" is an acronym, "xqzpl" is not a word
    return len(_FLIP.findall(word)) >= 4  # "RoBERTa" flips three times


def _same_text(one: str, two: str) -> bool:
    a, b = words(one), words(two)
    if not a or not b or min(len(a), len(b)) < SAME_BLURB * max(len(a), len(b)):
        return False  # lengths this far apart cannot reach the ratio
    shared = len(set(a) & set(b))
    if shared < SAME_BLURB * min(len(set(a)), len(set(b))):
        return False
    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= SAME_BLURB


def _same_paper(one: str, two: str, context: JunkContext) -> bool:
    """Two ids whose papers read the same (a paper listed twice): one blurb fits both."""
    return words(context.titles.get(one, "")) == words(context.titles.get(two, "")) and (
        context.texts.get(one) == context.texts.get(two)
    )


def id_as_title(text: str, ids: Iterable[str]) -> str | None:
    """A theme title (or summary) that is an id ("P13"; one that starts with an id, "P13:
    LM-Infinite...", is `theme_id_problem`'s)."""
    stripped = " ".join(text.split()).strip(" .:")
    if stripped.upper() in {i.upper() for i in ids} or _looks_like_id(stripped):
        return (
            f"the title {_shown(text)} is an id: name what the theme's papers are about, "
            "in a few plain words"
        )
    return None  # a title that starts with an id: `theme_id_problem`


def _starts_with_id(text: str, ids: Iterable[str]) -> bool:
    """ "P13: …", "[P1] …", "P2 - …": one of `ids` or any P-number, then a mark, at the start
    ("T5: …" names a model unless T5 is an id of the call)."""
    known = {i.upper() for i in ids}
    parts = text.lstrip("[(").split(maxsplit=1)
    if not parts:
        return False
    head = parts[0]
    bare = head.rstrip(":.)]-–—,")
    is_id = bare.upper() in known or bare[:1] in "Pp" and _looks_like_id(bare)
    rest = parts[1] if len(parts) > 1 else ""
    return is_id and (bare != head or rest.startswith(("-", "–", "—", ":")))


def copied_paper_title(
    text: str, members: Collection[str], context: JunkContext, what: str = "theme title"
) -> str | None:
    """A theme title that is a paper's title, or its first words: it names one paper, not what
    the theme's papers (`members`, short ids) share. A theme of one paper may carry its own
    paper's title; a summary that is a title says nothing, whatever the theme."""
    if not words(text):
        return None
    for sid, paper_title in context.titles.items():
        if what == "theme title" and list(members) == [sid]:
            continue
        if len(words(paper_title)) >= 3 and echoes(text, paper_title):  # or its first words
            whose = f"{sid}, one of its {len(members)} papers" if sid in members else sid
            return (
                f"the {what} {_shown(text)} is the title of {whose}: name what the papers "
                "share, in a few plain words"
            )
    return None


def one_papers_name(title: str, members: Collection[str], context: JunkContext) -> str | None:
    """A theme title that names what only one of its papers has (a system, model or dataset
    name, as the figures check reads names: "InfiniGen" over five papers, four of which never
    say it): it names one paper, not what they share. A theme of one paper may carry it."""
    if len(members) < 2:
        return None
    ids = frozenset(context.titles)
    names = [f.text for f in figures(title) if f.kind == "name"]
    for name in dict.fromkeys(n for n in names if n.split("-")[0] not in ids):  # ids: not names
        stated = sum(
            1
            for sid in members
            if not ungrounded(name, f"{context.titles.get(sid, '')}\n{context.texts.get(sid, '')}")
        )
        if stated < 2:
            return (
                f"the theme title {_shown(title)} names {name!r}, which "
                f"{'only one' if stated else 'none'} of its {len(members)} papers has: name "
                "what the papers share, in a few plain words"
            )
    return None


def theme_id_problem(text: str, ids: Iterable[str], what: str = "theme title") -> str | None:
    """A theme's title that is an id, or a title or summary with a paper id in front."""
    problem = id_as_title(text, ids) if what == "theme title" else None
    if problem is None and _starts_with_id(" ".join(text.split()), ids):
        problem = (
            f"the {what} {_shown(text)} starts with a paper id: say what the theme's papers "
            "share, in plain words, without ids"
        )
    return problem


def theme_text_problem(
    text: str,
    members: Collection[str],
    ids: Iterable[str],
    context: JunkContext,
    what: str = "theme title",
) -> str | None:
    """What is wrong with the title or summary of a theme of `members` (short ids of `ids`):
    an id, a paper id in front, or a paper's title (see `theme_id_problem`,
    `copied_paper_title`); None when nothing is."""
    return theme_id_problem(text, ids, what) or copied_paper_title(text, members, context, what)


def ungrounded_names(text: str, context: JunkContext, what: str = "headline") -> str | None:
    """Names and figures a headline (or overview) gives that the digest it sums up does not
    have."""
    if context.facts is None:
        return None
    found = ungrounded(text, context.facts)
    if not found:
        return None
    return (
        f"the {what} names {shown(found)}, which no theme or paper of the digest has: "
        "name only the themes and papers given"
    )


def without_ungrounded(text: str, context: JunkContext) -> str:
    """A headline or overview without its sentences that name what the digest does not have
    (salvage)."""
    if context.facts is None:
        return text
    return without_sentences(text, ungrounded(text, context.facts))


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


def _starts_like(title_words: Sequence[str], text_words: Sequence[str]) -> bool:
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
    if not total or text.isascii():
        return 1.0
    latin = sum(
        1
        for ch in text
        if unicodedata.category(ch).startswith("L") and "LATIN" in unicodedata.name(ch, "")
    )
    return latin / total


def _looks_like_id(text: str) -> bool:
    return len(text) >= 2 and text[0] in "PpTt" and text[1:].isdigit() and len(text) <= 5


def _shown(text: str, limit: int = 40) -> str:
    return repr(one_line(text, limit))


__all__ = [
    "JunkContext",
    "bare_headline",
    "blurb_problems",
    "context_of",
    "copied_instructions",
    "copied_paper_title",
    "echoes",
    "id_as_title",
    "no_words",
    "off_topic_queries",
    "shingles",
    "theme_id_problem",
    "theme_text_problem",
    "ungrounded_names",
    "without_section_label",
    "without_ungrounded",
    "words",
]
