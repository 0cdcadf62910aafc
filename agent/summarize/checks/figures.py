"""Figures a text states, and whether its source states them too: numbers and model or dataset
names, normalised so that a faithful restatement is found.

- Numbers: `1,000` is `1000`; `25%`, `25 percent` and `25\\%` are 25; `2.12x`, `2.12×` and
  `2.12 times` are 2.12; `7B`, `7 billion` and `7,000,000,000` are seven billion; spelled-out
  numbers in the source count (`three datasets` states 3); a rounded figure is found (`over
  3x` for 3.25x, `25%` for 24.7%). Digits are what is checked in the text: a spelled-out number
  only with a unit that makes it a result (`three times`, `ten-fold`, `five percent`), since
  plain prose says "two ideas" of a paper that lists two.
- Names: a word with a digit after a letter (`GPT-4`, `T5`, `A100`), or a capital after its
  first letter (`ImageNet`, `LLaMA`, `BERT`), other than the acronyms any reader knows. Found
  when the source has it whatever its case, hyphens or spacing (`GPT 4`), as a plural
  (`LLMs`), or spelled out by initials (`NLP` for "natural language processing").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from agent.core.wording import join_phrases
from agent.models import Paper
from agent.summarize.offline.blurbs import join_sentences, split_sentences

# Acronyms a general reader knows: never a claim about a paper, and need no gloss.
COMMON_ACRONYMS = frozenset(
    [
        "AI",
        "GPU",
        "GPUS",
        "CPU",
        "CPUS",
        "RAM",
        "API",
        "APIS",
        "PC",
        "PCS",
        "TV",
        "US",
        "USA",
        "UK",
        "EU",
        "UN",
        "PDF",
        "OK",
        "ID",
        "IDS",
        "IQ",
        "DNA",
        "RNA",
        "MRI",
        "CT",
        "GB",
        "MB",
        "KB",
        "TB",
        "PHD",
        "CEO",
        "FAQ",
        "USB",
        "SMS",
        "GPS",
        "HIV",
        "COVID",
        "GPT",
        "NVIDIA",
        "IBM",
        "AMD",
        "NASA",
        "II",
        "III",
        "IV",
        "VI",
        "VII",
        "VIII",
        "IX",
        "XI",
        "XII",
    ]
)
NUMBER_WORDS: dict[str, float] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
    "thousand": 1000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "trillion": 10**12,
    "half": 0.5,
    "twice": 2,
    "double": 2,
    "triple": 3,
}
_SCALES = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "million": 1e6,
    "b": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "trillion": 1e12,
}
# A number not glued to a word before it (the 4 of "GPT-4" belongs to the name), with what
# follows it: a unit of ratio or share, and a scale ("7B", "1.5 million").
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.])(?<![A-Za-z0-9]-)(?P<digits>\d{1,3}(?:,\d{3})+|\d+)(?P<decimals>\.\d+)?"
    r"(?P<glued>[A-Za-z]+\b)?"
    r"(?:\s?(?P<scale>thousand|million|billion|trillion)\b)?"
    r"(?:\s?(?:%|×|percent\b|per cent\b|times\b|-?fold\b))?"
)
_UNIT_WORD = re.compile(
    r"\b(?P<word>three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|hundred)[\s-](?:times|fold|percent|per cent)\b",
    re.IGNORECASE,
)
# A word with a capital or a digit after its first letter (looked ahead for, so that ordinary
# words are skipped by the pattern itself: a blurb has few names and many words).
_NAME = re.compile(
    r"(?<![A-Za-z0-9_-])[A-Za-z](?=[A-Za-z0-9.-]*[A-Z0-9])[A-Za-z0-9]*(?:-[A-Za-z0-9]+|\.\d+)*"
)
_SOURCE_TOKEN = re.compile(r"[A-Za-z0-9]+")
_GLUED_SCALES = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


@dataclass(frozen=True)
class Figure:
    """A figure as the text writes it, and where."""

    text: str
    kind: Literal["number", "name"]
    start: int
    end: int


@dataclass(frozen=True)
class _Number:
    value: float
    decimals: int
    scale: float | None


def figures(text: str) -> list[Figure]:
    """The numbers and names `text` states, in order."""
    found = [_as_figure(m, "number") for m in _NUMBER.finditer(text)]
    found += [_as_figure(m, "number") for m in _UNIT_WORD.finditer(text)]
    found += [_as_figure(m, "name") for m in _NAME.finditer(text) if _is_name(m.group(0))]
    return sorted(found, key=lambda f: f.start)


def source_of(paper: Paper) -> str:
    """What a paper states, as this check reads it: its title and its abstract."""
    return f"{paper.title}\n{paper.abstract}"


def ungrounded(text: str, source: str) -> list[Figure]:
    """The figures of `text` that `source` (a paper's title and abstract) does not state."""
    known = _Source.of(source)
    return [f for f in figures(text) if not known.states(f)]


def without_sentences(text: str, wrong: Iterable[Figure]) -> str:
    """`text` without the sentences that carry any of the `wrong` figures (found in `text`)."""
    spans = [(f.start, f.end) for f in wrong]
    kept, at = [], 0
    for sentence in split_sentences(text):
        start = text.find(sentence, at)
        end = start + len(sentence) if start >= 0 else at
        at = max(at, end)
        if start < 0 or not any(start <= s < end or start < e <= end for s, e in spans):
            kept.append(sentence)
    return join_sentences(kept)


def shown(found: Sequence[Figure], limit: int = 3) -> str:
    """'35%' or '35%, GPT-4 and 2x' (the first `limit`)."""
    return join_phrases(list(dict.fromkeys(f"'{f.text}'" for f in found))[:limit])


# -------------------------------------------------------------------------------- reading


def _as_figure(match: re.Match[str], kind: Literal["number", "name"]) -> Figure:
    return Figure(match.group(0).strip(), kind, match.start(), match.end())


def _is_name(token: str) -> bool:
    bare = token.rstrip(".-")
    if bare.upper() in COMMON_ACRONYMS or bare.upper().removesuffix("S") in COMMON_ACRONYMS:
        return False
    has_digit = any(ch.isdigit() for ch in bare)
    inner_capital = any(ch.isupper() for ch in bare[1:])
    return has_digit or (inner_capital and sum(ch.isalpha() for ch in bare) >= 2)


def _number(match: re.Match[str]) -> _Number:
    """The value of a `_NUMBER` match: "3rd" is 3, "2x" is 2, "128GB" is 128, "7B" and
    "7 billion" are 7 at the scale of a billion."""
    digits, decimals = match.group("digits"), match.group("decimals") or ""
    value = float(digits.replace(",", "") + decimals)
    glued = (match.group("glued") or "").casefold()
    scale = _SCALES.get((match.group("scale") or "").casefold())
    if glued in _GLUED_SCALES:
        scale = _GLUED_SCALES[glued]
    return _Number(value, max(len(decimals) - 1, 0), scale)


@lru_cache(maxsize=4096)
def _key(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


class _Source:
    """What a source states: its numbers (plain and scaled) and the keys of its names."""

    def __init__(self, text: str) -> None:
        self.values: set[float] = set()
        for match in re.finditer(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", text):
            self.values.add(float(match.group(0).replace(",", "")))
        for match in _NUMBER.finditer(text):
            number = _number(match)
            if number.scale:
                self.values.add(number.value * number.scale)
        words = [w.casefold() for w in _SOURCE_TOKEN.findall(text)]
        self.values |= {NUMBER_WORDS[w] for w in words if w in NUMBER_WORDS}
        self.words = words
        self.keys = set(words)
        self.initials = "".join(part[0] for part in words if part[0].isalpha())

    @classmethod
    def of(cls, text: str) -> _Source:
        return _source(text)

    def states(self, figure: Figure) -> bool:
        if figure.kind == "name":
            return self._has_name(figure.text)
        match = _NUMBER.fullmatch(figure.text) or _NUMBER.match(figure.text)
        if match is None:  # a spelled-out number with a unit: "three times"
            word = figure.text.split()[0].split("-")[0].casefold()
            return self._has_value(NUMBER_WORDS.get(word, math.nan), 0)
        number = _number(match)
        if number.scale and self._has_value(number.value * number.scale, 0):
            return True
        return self._has_value(number.value, number.decimals)

    def _has_value(self, value: float, decimals: int) -> bool:
        for known in self.values:
            if math.isclose(known, value, rel_tol=1e-9):
                return True
            if decimals == 0 and value == int(value) and value >= 1:
                if math.floor(known) == value or round(known) == value:
                    return True  # "over 3x" for 3.25x, "25%" for 24.7%
            elif decimals and round(known, decimals) == value:
                return True
        return False

    def _has_name(self, name: str) -> bool:
        key = _key(name)
        if not key or self._joined(key) or key.endswith("s") and self._joined(key[:-1]):
            return True  # "LLMs" for "LLM"
        letters = key.removesuffix("s") if name[-1:] == "s" else key
        return name.rstrip("s").isupper() and len(letters) >= 2 and letters in self.initials

    def _joined(self, key: str) -> bool:
        """Whether consecutive words of the source spell `key` ("GPT 4", "GPT-3.5-Turbo" and
        "state of the art" spell "gpt4", "gpt35turbo" and "stateoftheart")."""
        if key in self.keys:
            return True
        for i, word in enumerate(self.words):
            if not key.startswith(word):
                continue
            joined = word
            for nxt in self.words[i + 1 :]:
                if len(joined) >= len(key) or not key.startswith(joined + nxt):
                    break
                joined += nxt
            if joined == key:
                return True
        return False


@lru_cache(maxsize=512)
def _source(text: str) -> _Source:
    return _Source(text)


__all__ = [
    "COMMON_ACRONYMS",
    "NUMBER_WORDS",
    "Figure",
    "figures",
    "shown",
    "source_of",
    "ungrounded",
    "without_sentences",
]
