"""Plainer sentences from the academic phrasing of abstracts.

Plainer words: 'utilize' -> 'use', 'a novel' -> 'a new', 'a wide range of' -> 'many' (only
swaps that keep the meaning whatever the context; names, numbers and technical terms are never
touched). Shorter sentences: a long sentence loses a trailing clause that only elaborates
(', which ...', ', enabling ...', ', such as ...') unless it holds a number. A blurb reads a
little easier (a lower grade) and is less a verbatim copy of its abstract."""

from __future__ import annotations

import re

_SWAPS: tuple[tuple[str, str], ...] = (
    (r"in order to", "to"),
    (r"due to the fact that", "because"),
    (r"a (?:wide|broad|large|diverse) (?:range|variety|array|spectrum|set) of", "many"),
    (r"a (?:variety|plethora|multitude|myriad) of", "many"),
    (r"a (?:large|great|significant|substantial) (?:number|amount) of", "many"),
    (r"the (?:vast )?majority of", "most"),
    (r"numerous", "many"),
    (r"prior to", "before"),
    (r"approximately", "about"),
    (r"subsequently", "then"),
    (r"in terms of", "in"),
    (r"novel", "new"),
    (r"methodology", "method"),
    (r"methodologies", "methods"),
    (r"utili[sz]es", "uses"),
    (r"utili[sz]ed", "used"),
    (r"utili[sz]ing", "using"),
    (r"utili[sz]ation", "use"),
    (r"utili[sz]e", "use"),
    (r"leverages", "uses"),
    (r"leveraged", "used"),
    (r"leveraging", "using"),
    (r"employs", "uses"),
    (r"employed", "used"),
    (r"employing", "using"),
    (r"demonstrates", "shows"),
    (r"demonstrated", "showed"),
    (r"demonstrating", "showing"),
    (r"demonstrate", "show"),
    (r"exhibits", "shows"),
    (r"exhibited", "showed"),
    (r"exhibiting", "showing"),
    (r"exhibit", "show"),
    (r"facilitates", "helps"),
    (r"facilitate", "help"),
    (r"enhances", "improves"),
    (r"enhanced", "improved"),
    (r"enhancing", "improving"),
    (r"enhance", "improve"),
)
_PATTERN = re.compile(r"\b(" + "|".join(f"(?:{p})" for p, _ in _SWAPS) + r")\b(?!-)", re.IGNORECASE)
_COMPILED = tuple((re.compile(f"(?:{p})", re.IGNORECASE), plain) for p, plain in _SWAPS)


def _swap(m: re.Match[str]) -> str:
    found = m.group(1)
    for pattern, plain in _COMPILED:
        if pattern.fullmatch(found):
            return plain[:1].upper() + plain[1:] if found[:1].isupper() else plain
    return found  # pragma: no cover - every match is one of the swaps


def plainer(sentence: str) -> str:
    """The sentence with the swaps of `_SWAPS` made (a capital kept at the start)."""
    return _PATTERN.sub(_swap, sentence)


_LONG = 28  # words: a sentence longer than this may lose an elaborating tail
_TAIL = re.compile(
    r",\s+(?:which|thereby|thus|making|enabling|allowing|leading|resulting|yielding|while"
    r"|whereas|such\s+as|including|especially|particularly|where|as\s+well\s+as)\b[^,;:.!?]*"
    r"(?:,[^,;:.!?]*)*?(?=[.!?]?$)",
    re.IGNORECASE,
)


def shorter(sentence: str) -> str:
    """A long sentence without its elaborating tail (', which ...'), when what is left still
    has 12 words and the tail no digit."""
    if len(sentence.split()) <= _LONG:
        return sentence
    for m in _TAIL.finditer(sentence):
        head = sentence[: m.start()].rstrip()
        if not any(c.isdigit() for c in m.group(0)) and len(head.split()) >= 12:
            return head + sentence[m.end() :]
    return sentence


__all__ = ["plainer", "shorter"]
