"""Human languages as one subject: a paper on Greek and a paper on Arabic share no word, yet a
reader who follows one follows the other.

A mention is a capitalised language name (ISO 639-1, agent/data/language-names.txt) or a
"-lingual" word (multilingual, bilingual, cross-lingual...); the ranker adds one `LANGUAGE` term
per mention, so these papers meet in its TF-IDF space the way papers sharing a
word do. Measured with `digest eval --relevance` (evals/README.md, "Relevance").
"""

from __future__ import annotations

import functools
import re

from agent.core.resources import language_names_path

LANGUAGE = "<language>"  # the term; no word the analyzer makes has angle brackets
SHOWN_AS = "a named language"  # how a reason writes it
_LINGUAL = re.compile(r"(?:multi|bi|mono|cross|tri)-?lingual(?:ity|ism)?", re.IGNORECASE)


@functools.cache
def names() -> frozenset[str]:
    """The lower-case language names of the package's list (comment lines skipped)."""
    lines = language_names_path().read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_mention(word: str) -> bool:
    """Whether a word, as written, names a language (capitalised, as English writes them:
    "Greek", not "polish") or is a "-lingual" word (multilingual, cross-lingual...)."""
    if word[:1].isupper() and word.lower() in names():
        return True
    return _LINGUAL.fullmatch(word) is not None


__all__ = ["LANGUAGE", "SHOWN_AS", "is_mention", "names"]
