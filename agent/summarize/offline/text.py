"""Text helpers for the offline engine: terms for TF-IDF and readable phrases.

Sentences and blurbs live in `blurbs`, heading-worthiness of phrases in
`phrases`.

Everything here is deterministic and model-free. The input is already-cleaned text (see
`agent.sources.clean`); these helpers only pick and tidy sentences and terms.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache

from agent.models import Paper
from agent.stop_words import ENGLISH_STOP_WORDS

MAX_BLURB_WORDS = 60

# Stop words for the grouping features: English stop words and the commonest abstract verbs.
# (A longer filler list made the grouping worse on the labelled sample, so it is kept apart.)
_ABSTRACT_BOILERPLATE = """
    propose proposed paper approach method result show novel work based using use new state
    art performance
    """
CLUSTER_STOPWORDS: frozenset[str] = frozenset(ENGLISH_STOP_WORDS) | frozenset(
    _ABSTRACT_BOILERPLATE.split()
)

# Words that never make a theme title or key phrase: the above plus academic filler.
_FILLER = """
    propose proposed proposes proposing present presents presented introduce introduces introduced
    paper papers work works approach approaches method methods result results show shows shown
    showing novel new based using use used uses state art performance significant significantly
    existing recent recently different various achieve achieves achieved achieving demonstrate
    demonstrates demonstrated study studies studied investigate investigates explore explores
    including include includes furthermore moreover however additionally addition finally
    specifically notably particular particularly respectively compared comparable compare
    effective effectively efficient efficiently simple simply improve improves improved improving
    improvement improvements outperform outperforms outperforming provide provides provided
    make makes making way ways able allow allows allowing enable enables enabling given
    number numbers amount set range variety lot lots great greatly higher lower
    larger smaller good better best strong stronger key important crucial critical
    challenge challenges challenging problem problems issue issues task tasks time times
    technique techniques framework frameworks proposed experiment experiments experimental
    evaluation evaluate evaluated extensive propose achieves remarkable impressive substantial
    recent years year prior previous previously current currently paradigm widely commonly
    leading lead leads focus focuses aim aims goal called named dubbed termed known like
    typically usually often generally general overall despite whilst while et al fig eq
    code available publicly open-source github com https http www org via ie eg etc vs
    wide broad diverse multiple single specific certain common standard vanilla conventional
    popular successful success successfully tremendous promising powerful potential
    require requires required requiring need needs needed instead thus hence therefore
    terms term respect regard regarding according due able first second third one two three
    relatively relative particular certain around across toward towards within without
    lack lacks lacking valuable insight insights excel excels pave paves difficulty
    fundamentally fundamental prove proves unprecedented incur incurs progressively growing
    considerable considerably extremely highly largely mainly mostly nearly fully
    demonstrating illustrate illustrates discuss discusses discussed report reports
    indicate indicates indicating date gain gains reduce reduces reducing increase increases
    increasing generate generates obtain obtains yield yields perform performs conduct
    capable represent represents community understand understands support supports
    supported supporting contribute contributes contribution contributions
    taken given seen known extend extends extending tend tends
    """
STOPWORDS: frozenset[str] = CLUSTER_STOPWORDS | frozenset(_FILLER.split())

# "of" is allowed to bridge two content words ("mixture of experts", "chain of thought").
_BRIDGE = "of"
# A word, or a punctuation mark that ends a phrase (hyphens and apostrophes do not).
_TOKEN = re.compile(r"[a-z][a-z0-9]*|[^\w\s'-]|_")
_NO_STRIP = ("ss", "us", "is", "as", "os")


@lru_cache(maxsize=200_000)
def normalize_word(word: str) -> str:
    """Fold simple English plurals so 'models' and 'model' are one term."""
    if len(word) <= 2 or not word.endswith("s") or word.endswith(_NO_STRIP):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    return word[:-1]


_CONTENT: dict[str, str | None] = {}  # raw token -> normalised word, or None for a break


def _content(raw: str) -> str | None:
    """The normalised word of a raw token, None for a break; remembered (stem cache)."""
    ok = raw[0].isalpha() and len(raw) >= 2 and raw not in CLUSTER_STOPWORDS
    word = normalize_word(raw) if ok else None
    if len(_CONTENT) < 500_000:
        _CONTENT[raw] = word
    return word


def analyze(text: str) -> list[str]:
    """Unigram and bigram terms of a text: stop words and punctuation break phrases;
    'of' may join two words ('mixture of expert')."""
    terms: list[str] = []
    append = terms.append
    known = _CONTENT.get  # the hot loop of the engine: one dict lookup per token
    prev: str | None = None
    bridge: str | None = None
    for raw in _TOKEN.findall(text.lower()):
        if raw == _BRIDGE and prev is not None:
            bridge, prev = prev, None
            continue
        word = known(raw, "")
        if word == "":
            word = _content(raw)
        if word is None:
            prev = bridge = None
            continue
        append(word)
        if prev is not None:
            append(prev + " " + word)
        elif bridge is not None:
            append(bridge + " of " + word)
        prev, bridge = word, None
    return terms


@lru_cache(maxsize=8192)
def term_set(text: str) -> frozenset[str]:
    """The distinct terms of a text (cached: titles and summaries ask for the same papers)."""
    return frozenset(analyze(text))


def paper_text(paper: Paper) -> str:
    """The text the engine reads for a paper; the title counts twice."""
    return f"{paper.title}.\n{paper.title}.\n{paper.abstract}"


# ---------------------------------------------------------------- readable phrases


def _word_pattern(token: str) -> str:
    forms = {token, token + "s", token + "es"}
    if token.endswith("y"):
        forms.add(token[:-1] + "ies")
    return "(?:" + "|".join(sorted((re.escape(f) for f in forms), key=len, reverse=True)) + ")"


@lru_cache(maxsize=4096)
def term_regex(term: str) -> re.Pattern[str]:
    words = term.split(" ")
    parts = [words[0] if words[0] == "of" else _word_pattern(words[0])]
    for w in words[1:]:
        parts.append(r"[\s-]+" + (w if w == "of" else _word_pattern(w)))
    return re.compile(r"(?<![\w-])" + "".join(parts) + r"(?![\w-])", re.IGNORECASE)


@lru_cache(maxsize=65_536)
def _folded(text: str) -> str:
    return text.casefold()


def _key(term: str) -> str:
    """A piece of text every match of `term_regex(term)` contains, case-folded."""
    first = term.split(" ", 1)[0]
    return first.removesuffix("y")  # 'query' is also written 'queries'


def term_matches(term: str, texts: Iterable[str]) -> Iterator[tuple[str, re.Match[str]]]:
    """Every (text, match) of `term_regex(term)`. A text without the term's first word (any
    case) cannot match, and a substring test skips it far faster than the pattern would."""
    pattern, key = term_regex(term), _key(term)
    for text in texts:
        if key in _folded(text):
            for m in pattern.finditer(text):
                yield text, m


def term_in(term: str, text: str) -> bool:
    """Whether `term_regex(term)` matches somewhere in `text` (see `term_matches`)."""
    return _key(term) in _folded(text) and term_regex(term).search(text) is not None


def _at_sentence_start(text: str, start: int) -> bool:
    before = text[max(0, start - 2) : start]
    return start == 0 or before.endswith((". ", "\n", ": ", "? ", "! ")) or before in (".", "\n")


def _cased(word_forms: Counter[str], alone: bool) -> str:
    """One word's casing: acronyms as written ('KV', 'LLaMA'); a lone name ('Arabic') when it
    is nearly always capitalised; everything else lower case."""
    best = min(word_forms.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    total = sum(word_forms.values())
    if any(c.isupper() for c in best[1:]):
        return best
    capitalized = sum(n for w, n in word_forms.items() if w[:1].isupper())
    if alone and best[:1].isupper() and capitalized >= 0.9 * total:
        return best
    return best.lower()


def surface_form(term: str, texts: Iterable[str]) -> str | None:
    """How people write `term` in these texts (hyphens, plural, casing); None if never."""
    shapes: Counter[str] = Counter()
    words: dict[str, list[Counter[str]]] = {}
    for text, m in term_matches(term, texts):
        form = re.sub(r"\s+", " ", m.group(0))
        shape = form.lower()
        shapes[shape] += 1
        pieces = re.split(r"([\s-]+)", form)[::2]
        slots = words.setdefault(shape, [Counter() for _ in pieces])
        first_ambiguous = _at_sentence_start(text, m.start())
        for i, piece in enumerate(pieces):
            if i == 0 and first_ambiguous and piece[1:].islower():
                continue  # "Sentence embeddings ..." at a sentence start says nothing
            slots[i][piece] += 1
    if not shapes:
        return None
    shape = min(shapes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    seps = re.split(r"[^\s-]+", shape)[1:-1]
    slots = words[shape]
    # A name with an acronym in it ('Transformer-XL', 'Megatron-LM') keeps its casing.
    named = any(
        any(c.isupper() for c in min(f.items(), key=lambda kv: (-kv[1], kv[0]))[0][1:])
        for f in slots
        if f
    )
    out = []
    for i, piece in enumerate(re.split(r"[\s-]+", shape)):
        forms = slots[i]
        if named and forms:
            out.append(min(forms.items(), key=lambda kv: (-kv[1], kv[0]))[0])
        else:
            out.append(_cased(forms, alone=len(seps) == 0) if forms else piece)
        if i < len(seps):
            out.append(seps[i])
    return "".join(out)


def capitalize_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def short_name(title: str) -> str | None:
    """The system name a title announces ('Keyformer: KV Cache Reduction ...' -> 'Keyformer')."""
    head, sep, _ = title.partition(":")
    head = head.strip()
    if sep and head and len(head.split()) <= 3 and len(head) <= 30:
        return head
    return None
