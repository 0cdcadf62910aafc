"""Scorers that read the blurbs: length, readability, jargon, faithfulness, facts, copying.

Each is `(case, result) -> Score | None` (None: the scorer does not apply, e.g. no blurbs).
Only blurbs of the case's own papers are read; invented ids are the coverage scorer's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from difflib import SequenceMatcher

from textstat.textstat import textstatistics

from agent.core.wording import plural
from agent.dangling import dangling_start
from agent.evals.cases import EvalCase
from agent.evals.results import CaseResult, Score
from agent.models import Paper, PaperBlurb
from agent.summarize.checks.figures import COMMON_ACRONYMS, figures, source_of, ungrounded

READABILITY_TARGET = 12.0

# Our own textstat instance, with syllables from pyphen's en_US dictionary: for "en"/"en_US",
# textstat >= 0.7.4 looks words up in NLTK's cmudict and downloads it when it is missing
# (network at run time, and grades that differ between machines with and without it).
_TEXTSTAT = textstatistics()
_TEXTSTAT.set_lang("en-US")

# "the BERT model": a class noun right after the acronym says what it is.
_CLASS_NOUNS = frozenset(
    [
        "model",
        "models",
        "system",
        "systems",
        "method",
        "methods",
        "benchmark",
        "benchmarks",
        "dataset",
        "datasets",
        "framework",
        "frameworks",
        "library",
        "architecture",
        "architectures",
        "algorithm",
        "algorithms",
        "technique",
        "techniques",
        "tool",
        "tools",
        "toolkit",
        "chip",
        "chips",
        "format",
        "standard",
        "protocol",
        "approach",
        "family",
        "series",
        "language",
        "languages",
        "metric",
        "score",
        "test",
        "task",
        "tasks",
        "corpus",
        "network",
        "networks",
    ]
)
_ACRONYM = re.compile(r"\b([A-Z][A-Z0-9]*[A-Z][A-Z0-9]*)(?:s|es)?\b")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’\-][A-Za-z0-9]+)*")
_URL = re.compile(
    r"https?://|www\.|\b[\w-]+\.(?:com|org|net|io|ai|dev|example|xyz|ly)\b", re.IGNORECASE
)
_MARKUP = re.compile(r"\\[A-Za-z]+|\$[^$\s][^$]*\$|</?[A-Za-z][^>]*>|&[a-z]+;|\{\\")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_ENTITY = re.compile(
    r"\b(?:[A-Z][a-z]*[A-Z]\w*|[A-Z]{2,}\w*|[A-Za-z]+\d\w*|[A-Z][a-z]{2,})"
    r"(?:-[A-Za-z0-9]+)*"
)
_OPENERS = frozenset('.!?:;"“‘(')
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "for",
        "to",
        "and",
        "or",
        "with",
        "by",
        "from",
        "at",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "it",
        "its",
        "this",
        "that",
        "than",
        "up",
    ]
)


def case_blurbs(case: EvalCase, result: CaseResult) -> Iterator[tuple[Paper, PaperBlurb]]:
    """(paper, blurb) for each of the case's papers that has a blurb (first one only)."""
    papers, done = case.papers_by_id, set()
    for theme in result.summary.themes if result.summary else ():
        for item in theme.papers:
            if item.paper_id in papers and item.paper_id not in done:
                done.add(item.paper_id)
                yield papers[item.paper_id], item


def blurb_text(item: PaperBlurb) -> str:
    """A blurb and its why-it-matters, as the scorers read them."""
    return f"{item.blurb} {item.why_it_matters or ''}".strip()


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE.split(text.strip()) if part.strip()]


def examples(problems: list[str], limit: int = 3) -> str:
    """The first `limit` problems and how many more, for a score's reason."""
    shown = "; ".join(problems[:limit])
    return shown + (f"; and {len(problems) - limit} more" if len(problems) > limit else "")


# ------------------------------------------------------------------------------- length


def blurb_length(case: EvalCase, result: CaseResult) -> Score | None:
    """Share of blurbs of one to three sentences within the case's word bounds."""
    bounds = case.blurb_words
    items = list(case_blurbs(case, result))
    if not items:
        return None
    bad = []
    for paper, item in items:
        count, parts = len(words(item.blurb)), len(sentences(item.blurb))
        if not bounds.contains(count) or parts > 3:
            bad.append(f"{paper.id}: {plural(count, 'word')}, {plural(parts, 'sentence')}")
    good = len(items) - len(bad)
    reason = f"{good}/{len(items)} blurbs have {bounds.low}-{bounds.high} words and 1-3 sentences"
    return Score("blurb_length", good / len(items), reason + (f"; {examples(bad)}" if bad else ""))


# --------------------------------------------------------------------------- readability


def grade(text: str) -> float:
    """Flesch-Kincaid grade level (textstat); 0 for text without words."""
    return float(_TEXTSTAT.flesch_kincaid_grade(text)) if words(text) else 0.0


def readability(case: EvalCase, result: CaseResult) -> Score | None:
    """Mean Flesch-Kincaid grade of the blurbs (lower is better; target <= 12)."""
    grades = [(paper.id, grade(blurb_text(item))) for paper, item in case_blurbs(case, result)]
    if not grades:
        return None
    mean = sum(value for _, value in grades) / len(grades)
    above = sorted((g for g in grades if g[1] > READABILITY_TARGET), key=lambda g: -g[1])
    reason = f"mean grade {mean:.1f} (target <= {READABILITY_TARGET:g}); {len(above)}/{len(grades)} above"
    if above:
        reason += ": " + ", ".join(f"{pid} {value:.1f}" for pid, value in above[:3])
    return Score("readability", round(mean, 3), reason)


# ------------------------------------------------------------------------------- jargon


def _initials_match(acronym: str, before: list[str]) -> bool:
    """True when the initials of the words before "(ACR)" spell the acronym's letters in order
    (stop words may be skipped, a word may give more than one letter as in "PreTrained")."""
    letters = [ch for ch in acronym.lower() if ch.isalpha()]
    before = [part for word in before for part in re.split(r"[-‐–]", word) if part]
    initials = "".join(
        "".join(ch for ch in word if ch.isupper()).lower() or word[0].lower()
        for word in before
        if word
    )
    initials_all = "".join(word[0].lower() for word in before if word)
    for pool in (initials, initials_all):
        it = iter(pool)
        if all(letter in it for letter in letters):
            return True
    return False


def unexplained_acronyms(text: str) -> list[str]:
    """All-caps tokens (2+ letters) that are neither common nor glossed in `text`: glossed means
    "long form (ACR)", "ACR (a gloss)", "ACR, a/an/the ...," or "ACR model/system/...".
    """
    found: list[str] = []
    for match in _ACRONYM.finditer(text):
        acronym = match.group(1)
        letters = sum(ch.isalpha() for ch in acronym)
        if letters < 2 or acronym in COMMON_ACRONYMS or acronym in found:
            continue
        if _glossed(text, acronym):
            continue
        found.append(acronym)
    return found


def _glossed(text: str, acronym: str) -> bool:
    escaped = re.escape(acronym)
    for match in re.finditer(rf"\(\s*{escaped}s?\s*\)", text):
        before = words(text[: match.start()])[-(len(acronym) + 3) :]
        if _initials_match(acronym, before):
            return True
    if re.search(rf"\b{escaped}s?\s*\((?:[^()]*\s){{1,}}[^()]*\)", text):
        return True  # ACR (two or more words of gloss)
    if re.search(rf"\b{escaped}s?\s*(?:,|—|–|-|:)\s*(?:a|an|the)\s+\w+", text):
        return True  # ACR, a method that ...
    following = re.search(rf"\b{escaped}s?\s+([a-z]+)", text)
    return bool(following and following.group(1) in _CLASS_NOUNS)


def jargon(case: EvalCase, result: CaseResult) -> Score | None:
    """Share of blurbs that leave no acronym unexplained (common ones like AI or GPU are fine)."""
    items = list(case_blurbs(case, result))
    if not items:
        return None
    bad = []
    for paper, item in items:
        left = unexplained_acronyms(blurb_text(item))
        if left:
            bad.append(f"{paper.id}: {', '.join(left)}")
    good = len(items) - len(bad)
    reason = f"{good}/{len(items)} blurbs explain every acronym"
    return Score(
        "jargon", good / len(items), reason + (f"; unexplained: {examples(bad)}" if bad else "")
    )


# ------------------------------------------------------------------------- faithfulness


def unsupported(paper: Paper, text: str) -> list[str]:
    """What in `text` its paper's title and abstract do not support: numbers (read as the
    run's figures check reads them), names, URLs, markup. Names are capitalised words not
    opening a sentence, acronyms, CamelCase and tokens with digits."""
    source = source_of(paper)
    lowered = source.lower()
    problems: list[str] = []
    if _URL.search(text):
        problems.append("a URL")
    markup = _MARKUP.search(text)
    if markup:
        problems.append(f"markup {markup.group(0)!r}")
    # Numbers are read as the run's own check reads them (1,000 = 1000, 35 % = 35 percent,
    # 7B = 7 billion), so the eval and the email never disagree about the same blurb.
    problems += [f"number {f.text}" for f in ungrounded(text, source) if f.kind == "number"]
    for sentence in sentences(text):
        for match in _ENTITY.finditer(sentence):
            name = match.group(0)
            before = sentence[: match.start()].rstrip()
            if not before or before[-1] in _OPENERS or name.upper() in COMMON_ACRONYMS:
                continue  # opens a sentence (also "tokens.They"), a quote or a clause
            if name.lower() in lowered:
                continue
            parts = [part for part in name.split("-") if part]
            if len(parts) > 1 and all(part.lower() in lowered for part in parts):
                continue
            problems.append(f"name {name}")
    return list(dict.fromkeys(problems))


def faithfulness(case: EvalCase, result: CaseResult) -> Score | None:
    """Share of blurbs whose numbers and names all appear in their own title or abstract, with
    no URL and no markup."""
    items = list(case_blurbs(case, result))
    if not items:
        return None
    bad = []
    for paper, item in items:
        problems = unsupported(paper, blurb_text(item))
        if problems:
            bad.append(f"{paper.id}: {', '.join(problems[:3])}")
    good = len(items) - len(bad)
    reason = f"{good}/{len(items)} blurbs hold only what their abstract says"
    return Score("faithfulness", good / len(items), reason + (f"; {examples(bad)}" if bad else ""))


def fact_kept(fact: str, text: str) -> bool:
    """A fact is kept when `text` states every number in it, read as the run's figures check
    reads them (2.12 matches 2.12x and 2.12 times; the 4 of GPT-4 is a name's), or, for a fact
    without numbers, when at least half its content words are."""
    if any(f.kind == "number" for f in figures(fact)):
        return not [f for f in ungrounded(fact, text) if f.kind == "number"]
    content = [w.lower() for w in words(fact) if w.lower() not in _STOP]
    present = {w.lower() for w in words(text)}
    return bool(content) and sum(w in present for w in content) * 2 >= len(content)


def facts_kept(case: EvalCase, result: CaseResult) -> Score | None:
    """Share of the case's per-paper notes (facts a blurb must keep) found in the blurbs."""
    if not case.notes:
        return None
    blurbs = {paper.id: blurb_text(item) for paper, item in case_blurbs(case, result)}
    total, lost = 0, []
    for pid, facts in case.notes.items():
        for fact in facts:
            total += 1
            if not fact_kept(fact, blurbs.get(pid, "")):
                lost.append(f"{pid}: {fact!r}")
    if not total:
        return None
    reason = f"{total - len(lost)}/{total} facts kept"
    return Score(
        "facts_kept",
        (total - len(lost)) / total,
        reason + (f"; lost {examples(lost)}" if lost else ""),
    )


# ---------------------------------------------------------------------------- openings


def dangling_starts(case: EvalCase, result: CaseResult) -> Score | None:
    """Share of blurbs that open on a sentence they do not show ('However, ...', 'To address
    this issue, ...', 'These models ...'; see `agent.dangling`). Lower is better."""
    items = list(case_blurbs(case, result))
    if not items:
        return None
    bad = [f"{p.id}: {lead!r}" for p, item in items if (lead := dangling_start(item.blurb))]
    reason = f"{len(bad)}/{len(items)} blurbs start with a dangling reference"
    return Score(
        "dangling_start", len(bad) / len(items), reason + (f"; {examples(bad)}" if bad else "")
    )


# ----------------------------------------------------------------------------- copying


def _norm_words(text: str) -> list[str]:
    return [word.lower() for word in words(text)]


def copy_ratio(blurb: str, abstract: str) -> tuple[float, int]:
    """(longest run of words shared with the abstract / blurb words, that run's length)."""
    mine, theirs = _norm_words(blurb), _norm_words(abstract)
    if not mine or not theirs:
        return 0.0, 0
    matcher = SequenceMatcher(None, mine, theirs, autojunk=False)
    run = matcher.find_longest_match(0, len(mine), 0, len(theirs)).size
    return run / len(mine), run


def copy_rate(case: EvalCase, result: CaseResult) -> Score | None:
    """Mean share of a blurb that is one verbatim run of its abstract (lower is better)."""
    rates = [
        (paper.id, *copy_ratio(item.blurb, paper.abstract))
        for paper, item in case_blurbs(case, result)
        if paper.abstract
    ]
    if not rates:
        return None
    mean = sum(rate for _, rate, _ in rates) / len(rates)
    worst = max(rates, key=lambda r: r[1])
    reason = (
        f"mean {mean:.0%} of a blurb copied in one run; worst {worst[0]}: "
        f"{worst[2]} words ({worst[1]:.0%})"
    )
    return Score("copy_rate", round(mean, 4), reason)


__all__ = [
    "COMMON_ACRONYMS",
    "READABILITY_TARGET",
    "blurb_length",
    "blurb_text",
    "case_blurbs",
    "copy_rate",
    "copy_ratio",
    "dangling_starts",
    "examples",
    "fact_kept",
    "facts_kept",
    "faithfulness",
    "grade",
    "jargon",
    "readability",
    "unexplained_acronyms",
    "unsupported",
]
