"""The words the ranking reads, and the phrases its `why` names.

`Analyzer` turns text into stemmed terms for TF-IDF (hyphenated compounds such as
"pre-trained" kept whole and met with their closed spelling "pretrained", English stop words
dropped) and remembers the words of each stem,
so a reason can say "quantize" rather than "quantiz". `phrases` finds the
two-word phrases of a text ("KV cache", "length extrapolation") as they are written: the shared
subject a reader recognises, where single stems ("lets", "memory") say little.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from agent.select import languages
from agent.stop_words import ENGLISH_STOP_WORDS

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")
# A phrase does not run over punctuation: a word, or any mark that is not a hyphen or a space.
_PIECE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*|[^\sA-Za-z0-9-]")
_SUFFIXES = (
    "izations",
    "ization",
    "ations",
    "ation",
    "ings",
    "ing",
    "ied",
    "ies",
    "ed",
    "es",
    "s",
    "e",
)
# Words that make no subject on their own in an abstract, kept out of phrases ("novel method").
_GENERIC = frozenset(
    """
    approach approaches based best better demonstrate effective efficient existing experiment
    experiments extensive framework improve improved improves large method methods model
    models new novel paper performance present propose proposed recent results show
    significant significantly simple specific state study task tasks technique techniques
    various work ability abilities capability capabilities proven able
    """.split()  # noqa: SIM905 (a word list reads better as text)
)


def says_nothing(word: str) -> bool:
    """A word that names no subject when shown alone as what two papers share ('improve')."""
    return word.lower() in _GENERIC


def stem(word: str) -> str:
    """A light suffix stripper: 'quantization', 'quantized' and 'quantize' meet at 'quant'."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    # 'quantiz' (quantized) and 'quant' (quantization) are one: so are tokeniz/token, optimiz/optim
    return word[:-2] if word.endswith("iz") and len(word) >= 6 else word


def term(word: str) -> str:
    """The term of a lower-case word: its stem, a compound closed up first, so that
    'pre-trained', 'pretrained' and 'pre-training' are one term ('pretrain'), as are
    'sequence-to-sequence' and 'sequencetosequence'. Papers write the same compound both
    ways (GreekBART is "pretrained", AraGPT2 "pre-trained"); apart, they share nothing."""
    return stem(word.replace("-", ""))


class Analyzer:
    """Text to stemmed terms (a TfidfVectorizer analyzer), plus one `languages.LANGUAGE` term
    per language the text names; remembers the words of each stem."""

    def __init__(self) -> None:
        self._stems: dict[str, str] = {w: "" for w in ENGLISH_STOP_WORDS}  # "" = dropped
        self._forms: dict[str, set[str]] = {}
        self._written: dict[str, tuple[str, bool]] = {}  # as written: (term, names a language)

    def __call__(self, text: str) -> list[str]:
        words = _WORD.findall(text)
        written = self._written
        for word in set(words).difference(written):  # each new spelling once
            written[word] = (self._term(word.lower()), languages.is_mention(word))
        found: list[str] = []
        mentions = 0
        for word in words:
            stemmed, mention = written[word]
            if stemmed:
                found.append(stemmed)
            mentions += mention
        return found + [languages.LANGUAGE] * mentions

    def _term(self, lower: str) -> str:
        """The term of a lower-case word ("" for a stop word or a letter), remembered."""
        stems = self._stems
        if lower not in stems:
            found = stems[lower] = term(lower) if len(lower) > 1 else ""
            if found:
                self._forms.setdefault(found, set()).add(lower)
        return stems[lower]

    def word(self, stemmed: str, written: Sequence[str] = ()) -> str:
        """A word of the texts with this stem, the plainest (shortest): 'cache' for 'cach';
        as every text of `written` writes it where they agree ('layer-wise' where both papers
        write it so, though others write 'layerwise'), else as the first writes it."""
        if stemmed == languages.LANGUAGE:
            return languages.SHOWN_AS
        forms = self._forms.get(stemmed)
        if not forms:
            return stemmed
        used = [set(_WORD.findall(text.lower())) for text in written]
        for chosen in ([f for f in forms if all(f in words for words in used)], *used[:1]):
            mine = [form for form in forms if form in chosen]
            if mine:
                return _acronym_case(min(mine, key=lambda w: (len(w), w)), written)
        return _acronym_case(min(forms, key=lambda w: (len(w), w)), written)


def _acronym_case(word: str, written: Sequence[str]) -> str:
    """The word as the texts write an acronym or name of it ('GPUs', 'GB', 'BERT'), else as is."""
    pattern = re.compile(rf"(?<![A-Za-z-]){re.escape(word)}(?![A-Za-z0-9-])", re.IGNORECASE)
    for text in written:
        for found in pattern.finditer(text):
            cased = _cased(found.group())
            if cased != cased.lower():
                return cased
    return word


def phrases(text: str) -> dict[str, str]:
    """The two-word phrases of a text: a stemmed key ('kv cach') -> the phrase as first written
    ('KV cache'). Stop words, generic abstract words and punctuation break a phrase."""
    found: dict[str, str] = {}
    previous: tuple[str, str] | None = None
    for piece in _PIECE.findall(text):
        lower = piece.lower()
        if not piece[0].isalpha() or lower in ENGLISH_STOP_WORDS or lower in _GENERIC:
            previous = None
            continue
        key = stem(lower)  # as written: a phrase is shown only where both papers write it
        if len(lower) > 1 and previous is not None:
            found.setdefault(f"{previous[0]} {key}", f"{previous[1]} {_cased(piece)}")
        previous = (key, _cased(piece)) if len(lower) > 1 else None
    return found


def _cased(word: str) -> str:
    """Acronyms and names as written ('KV', 'LLaMA', 'BERT'), other words in lower case."""
    return word if any(c.isupper() for c in word[1:]) else word.lower()


def shared_phrases(
    text: str, others: Iterable[str], rarity: dict[str, float], limit: int = 2
) -> list[str]:
    """Phrases `text` shares with the `others`, the rarest (by `rarity` of their words) first."""
    mine = phrases(text)
    theirs: set[str] = set()
    for other in others:
        theirs.update(phrases(other))
    common = _joined([key for key in mine if key in theirs], mine)
    common.sort(
        key=lambda key: -sum(rarity.get(part.replace("-", ""), 0.0) for part in key.split())
    )
    return [mine[key] for key in common[:limit]]


def _joined(keys: list[str], written: dict[str, str]) -> list[str]:
    """Shared two-word phrases that run on in the text ('natural language' and 'language
    processing') joined into one ('natural language processing'); `written` learns it."""
    out: list[str] = []
    for key in keys:  # in the order the text has them
        if out and out[-1].split()[-1] == key.split()[0] and out[-1] in written:
            joined = f"{out[-1]} {key.split()[1]}"
            written[joined] = f"{written[out[-1]]} {written[key].split()[-1]}"
            out[-1] = joined
        else:
            out.append(key)
    return out


def distinct_words(words: Iterable[str]) -> list[str]:
    """The words without near-repeats ('compressed' after 'compress')."""
    kept: list[str] = []
    for word in words:
        if not any(word[:5] == other[:5] for other in kept):
            kept.append(word)
    return kept


__all__ = [
    "Analyzer",
    "distinct_words",
    "phrases",
    "says_nothing",
    "shared_phrases",
    "stem",
    "term",
]
