"""Remove characters that hide or disguise text: control characters, bidi overrides, zero-width.

A title must not be able to show "png.exe" for "exe.gnp" (U+202E), carry a NUL into SQLite or a
terminal escape into the console. Tabs and line breaks stay (callers fold whitespace).
"""

from __future__ import annotations

import re
import unicodedata

_BIDI_AND_ZERO_WIDTH = re.compile(
    "[\u200b-\u200f"  # zero-width space, non-joiner, joiner; LRM, RLM
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u2064"  # word joiner, invisible operators
    "\u2066-\u2069"  # bidi isolates
    "\u061c\ufeff]"  # Arabic letter mark, zero-width no-break space (BOM)
)


def strip_hidden(text: str) -> str:
    """`text` without control characters (except tab and line breaks), bidi controls and
    zero-width characters."""
    text = _BIDI_AND_ZERO_WIDTH.sub("", text)
    if text.isprintable():
        return text
    return "".join(
        ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) not in ("Cc", "Cs")
    )
