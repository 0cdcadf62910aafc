"""The words the ranking reads, and the phrases its `why` names.

`Analyzer` turns text into stemmed terms for TF-IDF (hyphenated compounds such as
"pre-trained" kept whole, English stop words dropped) and remembers how each stem is written
most often, so a reason can say "quantization" rather than "quantiz". `phrases` finds the
two-word phrases of a text ("KV cache", "length extrapolation") as they are written: the shared
subject a reader recognises, where single stems ("lets", "memory") say little.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

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
    various work
    """.split()  # noqa: SIM905 (a word list reads better as text)
)


def stem(word: str) -> str:
    """A light suffix stripper: 'quantization' and 'quantized' meet at 'quantiz'."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


class Analyzer:
    """Text to stemmed terms (a TfidfVectorizer analyzer); remembers each stem's commonest form."""

    def __init__(self) -> None:
        self._stems: dict[str, str] = {w: "" for w in ENGLISH_STOP_WORDS}  # "" = dropped
        self._forms: dict[str, Counter[str]] = {}

    def __call__(self, text: str) -> list[str]:
        words = _WORD.findall(text.lower())
        stems = self._stems
        seen = set(words)
        for word in seen.difference(stems):
            stems[word] = stem(word) if len(word) > 1 else ""
        for word in seen:  # forms by the texts that use them: one count per text
            if stems[word]:
                self._forms.setdefault(stems[word], Counter())[word] += 1
        return [term for term in map(stems.__getitem__, words) if term]

    def word(self, term: str) -> str:
        """How most texts write this stem ('quantization' for 'quantiz')."""
        forms = self._forms.get(term)
        if not forms:
            return term
        return min(forms.items(), key=lambda item: (-item[1], item[0]))[0]


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
        key = stem(lower)
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
    common = [key for key in mine if key in theirs]
    common.sort(key=lambda key: -sum(rarity.get(part, 0.0) for part in key.split()))
    return [mine[key] for key in common[:limit]]


__all__ = ["Analyzer", "phrases", "shared_phrases", "stem"]
