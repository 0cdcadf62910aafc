"""Whether the output is written in the case's language, judged by the script of its letters.

Script detection, not language identification: Chinese output is mostly Han characters,
Russian mostly Cyrillic, German mostly Latin. Names and acronyms kept as they are (BERT, KV
cache) lower the share a little, which is why the bar is a share, not all-or-nothing.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from agent.core.language import language_name

# Scripts a language is written in (Unicode character-name prefixes); Latin when not listed.
_SCRIPTS = {
    "chinese": ("CJK",),
    "japanese": ("CJK", "HIRAGANA", "KATAKANA"),
    "korean": ("HANGUL",),
    "russian": ("CYRILLIC",),
    "ukrainian": ("CYRILLIC",),
    "arabic": ("ARABIC",),
    "persian": ("ARABIC",),
    "greek": ("GREEK",),
    "hindi": ("DEVANAGARI",),
    "hebrew": ("HEBREW",),
    "thai": ("THAI",),
    "bengali": ("BENGALI",),
}


def expected_scripts(language: str) -> tuple[str, ...]:
    name = language_name(language).lower()
    for key, scripts in _SCRIPTS.items():
        if name.startswith(key):
            return scripts
    return ("LATIN",)


def script_counts(text: str) -> Counter[str]:
    """Letters by script: the first word of each letter's Unicode name ('CJK', 'LATIN')."""
    counts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha():
            counts[unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]] += 1
    return counts


def script_share(text: str, language: str) -> float:
    """The share of the text's letters written in the language's script (0 when no letters)."""
    counts = script_counts(text)
    total = sum(counts.values())
    if not total:
        return 0.0
    wanted = expected_scripts(language)
    return sum(n for script, n in counts.items() if script in wanted) / total
