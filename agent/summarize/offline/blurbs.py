"""Offline blurbs: the "what they did" and "what they found" sentences of an abstract."""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.dangling import dangling_start
from agent.models import Paper
from agent.summarize.offline.openings import drop_asides, stand_alone
from agent.summarize.offline.plainer import plainer, shorter
from agent.summarize.offline.text import MAX_BLURB_WORDS, capitalize_first

# ---------------------------------------------------------------- sentences and blurbs

_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Figs|Eq|Eqs|Sec|approx|resp|Dr|Mr|Ms|No)\.|\b[A-Z]\.)$"
)
# A Latin sentence ends at . ! ? before a space and a capital or digit; a CJK one at its
# full-width stop and the closing quote or bracket after it, with or without a space after it.
_CJK_STOPS, _CJK_CLOSERS = "。！？", "”」』）"
_SENT_END = re.compile(
    r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])"
    rf"|(?<=[{_CJK_STOPS}])[{_CJK_CLOSERS}]?\s*(?=[^\s{_CJK_CLOSERS}])"
)
# A full stop between a lower-case word and a capitalised one, with no space: two sentences
# run together ('dataset.This'), not 'e.g.', 'U.S.' or 'arxiv.org'.
_RUN_ON = re.compile(r"(?<=[a-z]{3})\.(?=[A-Z][a-z]+\b)")
# What a CJK sentence can end with: the sentences after it follow without a space.
CJK_ENDS = tuple(stop + close for stop in _CJK_STOPS for close in ("", *_CJK_CLOSERS))


def join_sentences(sentences: Sequence[str]) -> str:
    """Sentences as one text: a space after a Latin sentence, none after a CJK one."""
    return "".join(
        said if i == 0 or sentences[i - 1].endswith(CJK_ENDS) else " " + said
        for i, said in enumerate(sentences)
    )


def split_sentences(text: str) -> list[str]:
    """Split plain text into sentences, not breaking after 'e.g.', 'et al.' or initials."""
    text = " ".join(text.split())  # what re.sub(r"\s+", " ", text).strip() gives, faster
    if not text:
        return []
    if "." in text:  # 'dataset.This survey': a sentence run on without its space
        text = _RUN_ON.sub(". ", text)
    pieces: list[str] = []
    start = 0
    for m in _SENT_END.finditer(text):
        # Only the end of the sentence can hold an abbreviation: look at its last 40
        # characters, not the whole sentence (the pattern is anchored at the end).
        tail = text[max(start, m.start() - 39) : m.start() + 1].rstrip("\"')] ")
        if _ABBREV.search(tail):
            continue
        pieces.append(text[start : m.end()].strip())
        start = m.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


_CONTRIB = re.compile(
    r"\b(?:we|this (?:paper|work|study|report|article|survey|book|contribution)|here)\b"
    r"(?:[\s,]+[\w-]+){0,3}?[\s,]+(?:propose|present|introduce|develop|describe|design|build|"
    r"train|release|construct|devise|formulate|offer|provide|report|study|investigate|explore|examine|analy[sz]e|"
    r"evaluate|show|demonstrate|advocate|pose|consider|aim|create|argue)",
    re.IGNORECASE,
)
_RESULT = re.compile(
    r"\b(?:results? (?:show|demonstrate|indicate|suggest|reveal|confirm)|experiments? "
    r"(?:show|demonstrate|indicate|reveal|on)|outperform\w*|surpass\w*|achiev\w*|improv\w*|"
    r"speed-?ups?|faster|reduc\w*|we (?:find|found|show|observe|demonstrate)|find that|"
    r"state[- ]of[- ]the[- ]art|competitive|comparable|gains?)\b",
    re.IGNORECASE,
)
# Every match of _RESULT contains one of these (case-folded); an ASCII sentence without any of
# them cannot match, and these substring tests are far cheaper than the pattern.
_RESULT_KEYS = (
    "result", "experiment", "outperform", "surpass", "achiev", "improv", "speed", "faster",
    "reduc", "we ", "find that", "state", "competitive", "comparable", "gain",
)  # fmt: skip
_MIN_FIRST_WORDS = 15  # a first sentence shortened to make room for a result keeps this much
_NUMBER = re.compile(r"\d+(?:\.\d+)?\s?(?:%|x\b|×|times\b|points?\b|BLEU|F1)")
_PLAIN = (  # (pattern, replacement, text every match contains: a cheap test first)
    (re.compile(r"\be\.g\.,?\s*"), "for example ", "e.g."),
    (re.compile(r"\bi\.e\.,?\s*"), "that is, ", "i.e."),
    (re.compile(r"\bvs\.\s*"), "versus ", "vs."),
    (re.compile(r"\bet al\.\s*"), "and colleagues ", "et al."),
    (re.compile(r"\betc\.(?=\s+[a-z])"), "and so on", "etc."),
)


_SPACE_BEFORE_MARK = re.compile(r"\s+([,.;:!?])")
_DOUBLE_COMMA = re.compile(r",\s*,")
_WE = re.compile(r"\bwe\b", re.IGNORECASE)
_MARKUP = re.compile(r"</?[A-Za-z][\w:-]{0,30}(?:\s[^<>]{0,80})?/?>")  # '<system>', '</paper>'


def _tidy(sentence: str) -> str:
    s = _MARKUP.sub(" ", sentence)  # a blurb never carries markup, even quoted from an abstract
    s = drop_asides(s)
    for pattern, repl, needed in _PLAIN:
        if needed in s:
            s = pattern.sub(repl, s)
    s = shorter(plainer(stand_alone(s)))
    s = _SPACE_BEFORE_MARK.sub(r"\1", s)
    s = _DOUBLE_COMMA.sub(",", s)
    s = " ".join(s.split())
    head = s.split(" ", 1)[0]
    if head[:1].islower() and not any(c.isupper() for c in head):  # not 'mLongT5'
        s = capitalize_first(s)
    if s and s[-1] not in ".!?":
        s = s.rstrip(",;:-") + "."
    return s


_PRONOUN = re.compile(r"\b(?:[Ww]e|[Oo]ur|us|ourselves)\b")


def _third_person(sentences: list[str]) -> list[str]:
    """'We propose X. Our model ...' -> 'The authors propose X. The model ...'."""
    out: list[str] = []
    named = False

    def swap(m: re.Match[str]) -> str:
        nonlocal named
        word = m.group(0)
        low = word.lower()
        if low == "we":
            repl = "they" if named else "the authors"
            named = True
        elif low == "our":
            repl = "the" if m.start() == 0 else "their"
        else:
            repl = {"us": "them", "ourselves": "themselves"}[low]
        return capitalize_first(repl) if word[0].isupper() else repl

    for s in sentences:
        out.append(_PRONOUN.sub(swap, s))
    return out


def _words(text: str) -> int:
    return len(text.split())


# 'To address X and enable Y, we propose Z': the clause before the subject is what goes first
# when the sentence is too long, since a cut inside it leaves no sentence ('To address X.').
_LEAD_CLAUSE = re.compile(
    r"^(?:in\s+order\s+to|to|while|whilst|although|though|because|since|by|despite|unlike"
    r"|given|whereas)\b.{3,}?,\s+(?=(?:we|the\s+authors|our|they)\b)",
    re.IGNORECASE,
)


def _clip(sentence: str, limit: int) -> str:
    """Shorten one sentence to at most `limit` words: without its lead clause when it has one
    before the subject, then at a clause boundary when possible."""
    words = sentence.split()
    if len(words) <= limit:
        return sentence
    lead = _LEAD_CLAUSE.match(sentence)
    if lead is not None:
        return _clip(capitalize_first(sentence[lead.end() :]), limit)
    head = " ".join(words[:limit])
    cut = max(head.rfind(", "), head.rfind("; "), head.rfind(" - "))
    if cut >= len(head) // 2:
        return head[:cut].rstrip(",;: -") + "."
    return " ".join(words[: limit - 1]).rstrip(",;:-") + "…"


_SKIP = re.compile(
    r"https?://|www\.|github|\b(?:code|data|models?|weights|checkpoints)\b[^.]{0,40}"
    r"\b(?:is|are|will be)(?: made)? (?:publicly |freely |openly )?(?:available|released)"
    r"|\bwe (?:release|open-source)",
    re.IGNORECASE,
)


# Words without which _SKIP and _INSTRUCTION cannot match: most abstracts have none of them,
# and a substring test is far cheaper than those case-insensitive patterns (same results).
_SKIP_WORDS = ("http", "www.", "github", "available", "release", "open-source")
_INSTRUCTION_WORDS = ("ignore", "disregard", "forget", "instruction", "system prompt", "<")


def _may_contain(text: str, words: tuple[str, ...]) -> bool:
    folded = text.casefold()
    return any(w in folded for w in words)


# The case-insensitive patterns above are written in lower case, so on an ASCII sentence each
# finds what its case-sensitive twin finds in the lower-cased sentence, two to three times
# faster (outside ASCII, case-insensitive matching is subtler: the pattern itself decides).
_TWINS = {p: re.compile(p.pattern) for p in (_CONTRIB, _RESULT, _SKIP)}


def _caseless(pattern: re.Pattern[str], sentence: str) -> tuple[re.Pattern[str], str]:
    """The pattern and text that find what `pattern` finds in `sentence` (see _TWINS)."""
    if sentence.isascii():
        return _TWINS[pattern], sentence.lower()
    return pattern, sentence


def _has(pattern: re.Pattern[str], sentence: str) -> bool:
    """Whether _CONTRIB, _RESULT or _SKIP matches somewhere in the sentence."""
    twin, text = _caseless(pattern, sentence)
    return twin.search(text) is not None


def _result_words(sentence: str) -> int:
    """How many result phrases (_RESULT) a sentence has."""
    if sentence.isascii() and not any(key in sentence.lower() for key in _RESULT_KEYS):
        return 0
    twin, text = _caseless(_RESULT, sentence)
    return len(twin.findall(text))


def _skipped(sentence: str) -> bool:
    """A sentence about code or data being available (_SKIP)."""
    return _may_contain(sentence, _SKIP_WORDS) and _has(_SKIP, sentence)


# 'The property ...' once 'More importantly,' is gone: a definite subject after a connective
# names something of the sentence before (the authors, and what they propose, are the paper's own).
_DEFINITE = re.compile(
    r"the\s+(?!(?:authors|proposed|presented|introduced|developed|produced|new)\b)[\w-]+",
    re.IGNORECASE,
)


def _leans_back(sentence: str, tidied: str) -> bool:
    """Whether the tidied sentence still needs the one before it: it opens dangling, or its
    connective was dropped ('In other words, the efficiency gain ...') over a definite subject."""
    if dangling_start(tidied) is not None:
        return True
    return dangling_start(sentence) is not None and _DEFINITE.match(tidied) is not None


def _pick(
    sentences: list[str], tidied: list[str], *, may_skip: bool = True
) -> tuple[int, list[int]]:
    """The 'what it does' sentence (one that stands alone once tidied, when there is one),
    and the later sentences that report results, best first: those with numbers lead. A result
    that leans on the sentence before it is a candidate only right after the first one, where
    what it points at is what the reader has just read."""
    usable = [not s.endswith(":") and not (may_skip and _skipped(s)) for s in sentences]
    leaning = [_leans_back(s, t) for s, t in zip(sentences, tidied, strict=True)]
    alone = [ok and not lean for ok, lean in zip(usable, leaning, strict=True)]
    contrib = next(
        (i for i, s in enumerate(sentences) if alone[i] and _has(_CONTRIB, s)),
        next(
            (i for i, t in enumerate(tidied) if alone[i] and _WE.match(t)),
            next((i for i in range(len(sentences)) if alone[i]), None),
        ),
    )
    if contrib is None:  # every sentence leans on another: the old choice, tidied as it can be
        contrib = next((i for i, s in enumerate(sentences) if usable[i] and _has(_CONTRIB, s)), 0)
    scored = []
    for i, s in enumerate(sentences):
        if i <= contrib or not usable[i]:
            continue
        leans_back = leaning[i]
        if leans_back and i != contrib + 1:
            continue  # 'This achievement ...' under a sentence that is not the one it points at
        numbers = len(_NUMBER.findall(s))
        score = _result_words(s) + 1.5 * numbers + (3.0 if numbers else 0.0)
        score -= 1.0 if leans_back else 0.0
        score += 0.5 if i == len(sentences) - 1 else 0.0
        if score > 0:
            scored.append((-score, i))
    return contrib, [i for _, i in sorted(scored)]


# Sentences addressed to a language model rather than a reader (prompt injection) are never quoted.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget)\b[^.]{0,40}\b(?:instructions?|prompts?|rules)\b"
    r"|\bnew instructions?\b|\bsystem prompt\b|</?(?:system|paper|assistant|user)>",
    re.IGNORECASE,
)


def make_blurb(paper: Paper) -> str:
    """One or two plain sentences: what the paper does and what it found; <= 60 words.

    The first sentence stands alone (no 'However', 'To address this', 'These models': see
    `openings` and `agent.dangling`). The results sentence is the best-scoring one that still
    fits; when only a sentence with numbers is too long to pair, the first is shortened to
    make room rather than lose the result. Falls back to the title.
    """
    abstract = _MARKUP.sub(" ", paper.abstract)
    sentences = split_sentences(abstract)
    if _may_contain(abstract, _INSTRUCTION_WORDS):
        sentences = [s for s in sentences if not _INSTRUCTION.search(s)]
    if sentences:
        tidied = [_tidy(s) for s in sentences]
        contrib, results = _pick(sentences, tidied, may_skip=_may_contain(abstract, _SKIP_WORDS))
        text = _pair(tidied[contrib], [tidied[i] for i in results])
        if text.strip(" .…"):
            return text
    title = " ".join(paper.title.split()[:MAX_BLURB_WORDS])
    return title if title.endswith((".", "!", "?", "…")) else title + "."


def _pair(first: str, results: list[str]) -> str:
    """The first sentence and the best result that fits with it (see `make_blurb`)."""
    for result in results:
        pair = _third_person([first, result])
        if _words(" ".join(pair)) <= MAX_BLURB_WORDS:
            return " ".join(pair)
    numbered = [r for r in results if _NUMBER.search(r)]
    if numbered:
        room = MAX_BLURB_WORDS - _words(numbered[0])
        if room >= _MIN_FIRST_WORDS:
            return " ".join(_third_person([_clip(first, room), numbered[0]]))
    return _clip(_third_person([first])[0], MAX_BLURB_WORDS)
