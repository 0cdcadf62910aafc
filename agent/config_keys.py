"""Config file keys: the line of each, and the closest real key to one that is not a setting.

Where each key is comes from a linear scan of the TOML text, line by line (tomllib keeps no
positions); the closest key is looked up in the settings model at the key's level."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ValidationError

from agent.core.one_line import one_line
from agent.errors import SettingsError

KeyPath = tuple[str | int, ...]

# One part of a dotted key: bare, "basic" (escapes kept as written) or 'literal'.
_PART = re.compile(r"""\s*(?:([A-Za-z0-9_-]+)|"((?:[^"\\\n]|\\.)*)"|'([^'\n]*)')\s*""")
_MULTILINE = re.compile(r'"""|\'\'\'')


def _dotted(text: str, start: int) -> tuple[list[str], int] | None:
    """The parts of the dotted key at `start` and where it ends, or None when there is none."""
    parts: list[str] = []
    position = start
    while True:
        match = _PART.match(text, position)
        if match is None or match.end() == position:
            return None
        parts.append(next(group for group in match.groups() if group is not None))
        position = match.end()
        if not text.startswith(".", position):
            return parts, position
        position += 1


def key_lines(text: str) -> dict[KeyPath, int]:
    """The 1-based line of every table header and `key =` line of a TOML text, by key path as
    the settings see it: `[[webhooks]]` entries are numbered from 0 (`webhooks.0.url`), dotted
    keys and headers are split. Keys inside inline tables and multi-line values are not listed
    (look up their parent with `line_of`). Linear in the text; never raises."""
    lines: dict[KeyPath, int] = {}
    arrays: dict[KeyPath, int] = {}  # each [[array]] seen, with the index of its last entry
    table: KeyPath = ()
    open_quote: str | None = None  # inside a multi-line string, which quotes end it
    for number, line in enumerate(text.splitlines(), start=1):
        if open_quote is not None:
            if line.count(open_quote) % 2 == 1:
                open_quote = None
            continue
        stripped = line.lstrip()
        array = stripped.startswith("[[")
        if stripped.startswith("["):
            parsed = _dotted(stripped, 2 if array else 1)
            if parsed is not None and stripped.startswith("]]" if array else "]", parsed[1]):
                table = _resolve(parsed[0], arrays)
                if array:
                    arrays[table] = arrays.get(table, -1) + 1
                    lines.setdefault(table, number)
                    table = (*table, arrays[table])
                lines.setdefault(table, number)
            continue
        parsed = _dotted(stripped, 0)
        if parsed is None or not stripped.startswith("=", parsed[1]):
            continue
        lines.setdefault((*table, *parsed[0]), number)
        quotes = _MULTILINE.findall(stripped, parsed[1])
        if len(quotes) % 2 == 1:
            open_quote = quotes[-1]
    return lines


def _resolve(parts: Sequence[str], arrays: dict[KeyPath, int]) -> KeyPath:
    """A header's key path, with the current entry's index after every [[array]] in it."""
    path: KeyPath = ()
    for part in parts:
        path = (*path, part)
        if path in arrays and len(path) < len(parts):
            path = (*path, arrays[path])
    return path


def line_of(lines: dict[KeyPath, int], loc: KeyPath) -> int | None:
    """The line of `loc`, else of the nearest table or key above it that is in the file."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _model_at(model: type[BaseModel], loc: KeyPath) -> type[BaseModel] | None:
    """The settings model that holds the keys at `loc` (a table path), or None when none does."""
    kind: object = model
    for part in loc:
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            if not isinstance(part, str) or part not in kind.model_fields:
                return None
            kind = unwrap(kind.model_fields[part].annotation)
        elif typing.get_origin(kind) in (list, dict):
            kind = unwrap(typing.get_args(kind)[-1])
        else:
            return None
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def unwrap(kind: object) -> object:
    """`X` of `X | None` and of `Annotated[X, ...]`."""
    if typing.get_origin(kind) is typing.Annotated:
        kind = typing.get_args(kind)[0]
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        if len(members) == 1:
            return unwrap(members[0])
    return kind


def closest_key(model: type[BaseModel], loc: KeyPath) -> str | None:
    """For a key `loc` that is not a setting, the closest real key at its level (difflib)."""
    holder = _model_at(model, loc[:-1])
    if holder is None or not loc:
        return None
    close = difflib.get_close_matches(str(loc[-1]), sorted(holder.model_fields), n=1, cutoff=0.6)
    return close[0] if close else None


def _env_name(loc: KeyPath, environ: Mapping[str, str]) -> str | None:
    """The DIGEST_* variable a problem at `loc` came from, when one is set for it."""
    names = {name.upper() for name in environ}
    parts = [str(part).upper() for part in loc if isinstance(part, str)]
    for end in range(len(parts), 0, -1):
        name = "DIGEST_" + "__".join(parts[:end])
        if name in names:
            return name
    return None


def describe(
    error: ValidationError,
    model: type[BaseModel],
    origin: Path | None,
    text: str,
    environ: Mapping[str, str],
) -> SettingsError:
    """Every problem on one line, each under the place it came from, the file's in line order:
    'bad config in F: line 6: llm.modle: unknown key, did you mean model?; line 9: ...' or
    'bad environment setting DIGEST_C: c: msg'. `text` is the config file `origin` as it was
    read for the settings (the lines are found in it; the file is not read again)."""
    lines = key_lines(text) if origin is not None else {}
    by_place: dict[str, list[tuple[int, str]]] = {}
    variables: list[str] = []
    file_lines: set[int] = set()
    for item in error.errors():
        loc: KeyPath = tuple(item["loc"])
        where = ".".join(str(part) for part in loc) or "settings"
        message = one_line(item["msg"], 300)
        if item["type"] == "extra_forbidden":
            close = closest_key(model, loc)
            message = "unknown key" + (f", did you mean {close}?" if close else "")
        variable = _env_name(loc, environ)
        if variable or origin is None:
            place = f"bad environment setting {variable}" if variable else "bad settings"
            by_place.setdefault(place, []).append((0, f"{where}: {message}"))
            variables.append(variable or "the settings")
            continue
        line = line_of(lines, loc)
        at = f"line {line}: " if line else ""
        by_place.setdefault(f"bad config in {origin}", []).append(
            (line or 0, f"{at}{where}: {message}")
        )
        file_lines.add(line or 0)
    text = "; ".join(
        f"{place}: " + "; ".join(problem for _, problem in sorted(problems, key=lambda p: p[0]))
        for place, problems in by_place.items()
    )
    return SettingsError(text, _places(origin, file_lines, variables))


def _places(origin: Path | None, file_lines: set[int], variables: list[str]) -> list[str]:
    """'digest.toml lines 1, 6', then each variable once."""
    places = list(dict.fromkeys(variables))
    numbers = sorted(line for line in file_lines if line)
    if origin is not None and numbers:
        word = "line" if len(numbers) == 1 else "lines"
        places.insert(0, f"{origin} {word} {', '.join(map(str, numbers))}")
    elif origin is not None and file_lines:
        places.insert(0, str(origin))
    return places
