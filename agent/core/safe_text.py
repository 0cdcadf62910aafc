"""Remove characters that hide or disguise text: control characters, bidi overrides, zero-width,
and noncharacters.

A title must not be able to show "png.exe" for "exe.gnp" (U+202E), carry a NUL into SQLite or a
terminal escape into the console, nor make a document that quotes it invalid (U+FFFE and U+FFFF
are not allowed in XML 1.0). Tabs and line breaks stay (callers fold whitespace).
"""

from __future__ import annotations

import re
import unicodedata

# Noncharacters: U+FDD0-U+FDEF and the last two code points of every plane (U+FFFE, U+FFFF, ...).
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    chr(plane + 0xFFFE) + chr(plane + 0xFFFF) for plane in range(0, 0x110000, 0x10000)
)
_HIDDEN = re.compile(
    "[\u200b-\u200f"  # zero-width space, non-joiner, joiner; LRM, RLM
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u2064"  # word joiner, invisible operators
    "\u2066-\u2069"  # bidi isolates
    "\u061c\ufeff"  # Arabic letter mark, zero-width no-break space (BOM)
    f"{_NONCHARACTERS}]"
)


def visible_names(value: object) -> object:
    """A list of names (a model field's raw input) as a tuple without hidden characters and
    without the names left empty; anything else as it is, for the model to judge."""
    if isinstance(value, list | tuple):
        names = (strip_hidden(v).strip() if isinstance(v, str) else v for v in value)
        return tuple(name for name in names if name != "")
    return value


def strip_hidden(text: str) -> str:
    """`text` without control characters (except tab and line breaks), bidi controls,
    zero-width characters and noncharacters."""
    text = _HIDDEN.sub("", text)
    if text.isprintable():
        return text
    return "".join(
        ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) not in ("Cc", "Cs")
    )
