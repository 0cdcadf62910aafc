"""Offline blurbs: the "what they did" and "what they found" sentences of an abstract."""

from __future__ import annotations

import re

from agent.models import Paper
from agent.summarize.offline.text import MAX_BLURB_WORDS, capitalize_first

# ---------------------------------------------------------------- sentences and blurbs

_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Figs|Eq|Eqs|Sec|approx|resp|Dr|Mr|Ms|No)\.|\b[A-Z]\.)$"
)
_SENT_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split plain text into sentences, not breaking after 'e.g.', 'et al.' or initials."""
    text = " ".join(text.split())  # what re.sub(r"\s+", " ", text).strip() gives, faster
    if not text:
        return []
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
    r"\b(?:we|this (?:paper|work|study|report|article|survey|book|contribution)|here)\b[^.]*?\b"
    r"(?:propose|present|introduce|develop|describe|design|build|train|release|construct|"
    r"devise|formulate|offer|provide|report|study|investigate|explore|examine|analy[sz]e|"
    r"evaluate|show|demonstrate|advocate|pose|consider|aim|create)",
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
_NUMBER = re.compile(r"\d+(?:\.\d+)?\s?(?:%|x\b|×|times\b|points?\b|BLEU|F1)")
_PAREN = re.compile(r"\s+\((?:[^()]{0,160})\)")  # ' (e.g., ...)', not 'O(n)'

_CONNECTIVE = re.compile(
    r"^(?:Furthermore|Moreover|Additionally|In addition|Finally|Specifically|Notably|"
    r"Interestingly|Importantly|Overall|Concretely|Consequently|As a result|To this end|"
    r"In particular|Further|Also|Then|Thus|Hence|Therefore|Besides|Lastly|Second|Third|"
    r"First|Secondly|Thirdly)\s*,?\s+"
)
_LEAD_IN = re.compile(
    r"^(?:In|Within|Through|With) this (?:paper|work|study|report|article|contribution|"
    r"technical report|research)\s*,?\s+(?=we\b)|^Here\s*,?\s+(?=we\b)",
    re.IGNORECASE,
)
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
    s = _PAREN.sub("", s)
    for pattern, repl, needed in _PLAIN:
        if needed in s:
            s = pattern.sub(repl, s)
    s = _CONNECTIVE.sub("", s)
    s = _LEAD_IN.sub("", s)
    s = _SPACE_BEFORE_MARK.sub(r"\1", s)
    s = _DOUBLE_COMMA.sub(",", s)
    s = " ".join(s.split())
    head = s.split(" ", 1)[0]
    if head.isalpha() and head[1:].islower():  # leave names like 'mLongT5' alone
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


def _clip(sentence: str, limit: int) -> str:
    """Shorten one sentence to at most `limit` words, at a clause boundary when possible."""
    words = sentence.split()
    if len(words) <= limit:
        return sentence
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


def _pick(sentences: list[str], *, may_skip: bool = True) -> tuple[int, list[int]]:
    """The 'what it does' sentence, and the later sentences that report results, best first."""
    usable = [not s.endswith(":") and not (may_skip and _skipped(s)) for s in sentences]
    contrib = next((i for i, s in enumerate(sentences) if usable[i] and _has(_CONTRIB, s)), None)
    if contrib is None:
        contrib = next(
            (i for i, s in enumerate(sentences) if usable[i] and _WE.search(s)),
            next((i for i in range(len(sentences)) if usable[i]), 0),
        )
    scored = []
    for i, s in enumerate(sentences):
        if i <= contrib or not usable[i]:
            continue
        score = _result_words(s) + 1.5 * len(_NUMBER.findall(s))
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

    The results sentence is the best-scoring one that still fits; only a 'what it does'
    sentence that is itself over the limit gets clipped. Falls back to the title.
    """
    abstract = _MARKUP.sub(" ", paper.abstract)
    sentences = split_sentences(abstract)
    if _may_contain(abstract, _INSTRUCTION_WORDS):
        sentences = [s for s in sentences if not _INSTRUCTION.search(s)]
    if sentences:
        contrib, results = _pick(sentences, may_skip=_may_contain(abstract, _SKIP_WORDS))
        first = _tidy(sentences[contrib])
        text = ""
        for i in results:
            pair = _third_person([first, _tidy(sentences[i])])
            if _words(" ".join(pair)) <= MAX_BLURB_WORDS:
                text = " ".join(pair)
                break
        if not text:
            text = _clip(_third_person([first])[0], MAX_BLURB_WORDS)
        if text.strip(" .…"):
            return text
    title = " ".join(paper.title.split()[:MAX_BLURB_WORDS])
    return title if title.endswith((".", "!", "?", "…")) else title + "."
