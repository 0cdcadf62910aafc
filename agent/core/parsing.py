"""Bounded reading of outside text: JSON with a size and a depth cap, nesting checked in linear
time (for TOML too), and integers with a digit limit.

Every JSON entry point that takes bytes from outside (feeds' JSON APIs, paper files, Zotero,
model answers, Batch API result files, settings) goes through `loads` (or `raw_decode`), so a
200,000-deep array or a 10,000-digit number is refused with `JsonError` instead of a
RecursionError, an OverflowError or minutes of CPU.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal

MAX_DEPTH = 64  # no document we read nests deeper than a dozen levels
MAX_INT_DIGITS = 30  # an integer longer than this is a number no field means: ±inf instead

# A JSON string ("…" with backslash escapes). A string that never ends runs to the end of the
# text: otherwise every later quote would start another scan to the end (quadratic on
# `\"{` repeated). TOML adds '…' literals, triple-quoted strings and # comments; its one-line
# strings also end at the line's end.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\[\s\S]?[^"\\]*)*(?:"|\Z)')
_TOML_STRING = re.compile(
    r'"""[\s\S]*?(?:"""|\Z)|\'\'\'[\s\S]*?(?:\'\'\'|\Z)'
    r'|"[^"\\\n]*(?:\\.[^"\\\n]*)*(?:"|\n|\Z)|\'[^\'\n]*(?:\'|\n|\Z)|#[^\n]*'
)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")


def decode_utf8(content: bytes) -> str:
    """UTF-8 from a body's bytes (BOM dropped); undecodable bytes become U+FFFD."""
    return content.decode("utf-8-sig", errors="replace")


class JsonError(ValueError):
    """Not JSON we read: `kind` says why (malformed, or refused: too large, too deep or not
    readable at all, a message complete without a position). `msg` is one line; `lineno` and
    `pos` say where a malformed document breaks (1 and 0 otherwise)."""

    def __init__(
        self,
        msg: str,
        *,
        kind: Literal["malformed", "refused"] = "malformed",
        lineno: int = 1,
        pos: int = 0,
    ) -> None:
        super().__init__(msg)
        self.msg = msg
        self.kind = kind
        self.lineno = lineno
        self.pos = pos


def nesting_depth(
    text: str, *, limit: int = MAX_DEPTH, strings: re.Pattern[str] = _JSON_STRING
) -> int:
    """How deep brackets and braces nest in `text` outside strings, counted up to `limit` + 1
    (anything deeper reads as `limit` + 1). Linear: a fixed number of regex passes, then one
    short loop over what is left."""
    skeleton = _NOT_A_BRACKET.sub("", strings.sub("", text))
    if len(skeleton) <= 1:
        return len(skeleton)
    if re.search(rf"[\[{{]{{{limit + 1}}}", skeleton):  # a chain of openers: deep at once
        return limit + 1
    passes = 0
    while skeleton and passes <= limit:  # each pass removes the innermost pairs, in C
        reduced = _INNERMOST.sub("", skeleton)
        if reduced == skeleton:
            break
        skeleton, passes = reduced, passes + 1
    depth = deepest = 0
    for char in skeleton:  # what no pass could pair: unbalanced, or deeper than the limit
        depth = depth + 1 if char in "[{" else max(0, depth - 1)
        deepest = max(deepest, depth)
        if passes + deepest > limit:
            return limit + 1
    return min(passes + deepest, limit + 1)


def check_nesting(text: str, what: str, *, limit: int = MAX_DEPTH, toml: bool = False) -> None:
    """JsonError when `text` nests brackets deeper than `limit` (TOML rules with `toml`)."""
    strings = _TOML_STRING if toml else _JSON_STRING
    if nesting_depth(text, limit=limit, strings=strings) > limit:
        raise JsonError(
            f"{what} nested too deeply (more than {limit} levels); refused", kind="refused"
        )


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _whole_characters(value: Any, text: str) -> Any:
    """`value` with lone surrogates (a `"\\ud800"` escape without its pair: no character,
    and text no encoder or validator takes) replaced by U+FFFD; pairs become their character.
    Only walked when the text has such an escape."""
    if not _SURROGATE_ESCAPE.search(text):
        return value
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_whole_characters(item, text) for item in value]
    if isinstance(value, dict):
        return {_whole_characters(k, text): _whole_characters(v, text) for k, v in value.items()}
    return value


def _int(text: str) -> int | float:
    digits = len(text) - text.startswith("-")
    if digits > MAX_INT_DIGITS:
        return -math.inf if text.startswith("-") else math.inf
    return int(text)


def _decoder(strict: bool) -> json.JSONDecoder:
    return json.JSONDecoder(parse_int=_int, strict=strict)


def loads(
    text: str | bytes,
    *,
    what: str = "JSON",
    max_chars: int = 50_000_000,
    max_depth: int = MAX_DEPTH,
    strict: bool = True,
) -> Any:
    """One JSON document, at most `max_chars` long and `max_depth` deep; JsonError otherwise.
    Integers of more than MAX_INT_DIGITS digits read as ±inf (a float)."""
    if isinstance(text, bytes):
        text = decode_utf8(text)
    if len(text) > max_chars:
        raise JsonError(f"{what} longer than {max_chars:,} characters; refused", kind="refused")
    check_nesting(text, what, limit=max_depth)
    try:
        return _whole_characters(_decoder(strict).decode(text), text)
    except json.JSONDecodeError as exc:
        raise JsonError(exc.msg, lineno=exc.lineno, pos=exc.pos) from None
    except (RecursionError, ValueError) as exc:  # belt and braces: the checks above passed
        raise JsonError(f"{what} not readable ({type(exc).__name__})", kind="refused") from None


def raw_decode(
    text: str, start: int, *, what: str = "JSON", max_depth: int = MAX_DEPTH, strict: bool = True
) -> tuple[Any, int]:
    """The JSON value that starts at `start` and where it ends (json.JSONDecoder.raw_decode),
    with the depth cap and the integer limit of `loads`."""
    check_nesting(text[start:], what, limit=max_depth)
    try:
        value, end = _decoder(strict).raw_decode(text, start)
        return _whole_characters(value, text), end
    except json.JSONDecodeError as exc:
        raise JsonError(exc.msg, lineno=exc.lineno, pos=exc.pos) from None
    except (RecursionError, ValueError) as exc:
        raise JsonError(f"{what} not readable ({type(exc).__name__})", kind="refused") from None


def bounded_int(text: str | None, *, max_digits: int = 18) -> int | None:
    """A non-negative decimal integer of at most `max_digits` digits (a header, a count), or
    None: never a 5,000-digit conversion."""
    if text is None:
        return None
    text = text.strip()
    if not text or len(text) > max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


__all__ = [
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "JsonError",
    "bounded_int",
    "check_nesting",
    "decode_utf8",
    "loads",
    "nesting_depth",
    "raw_decode",
]
