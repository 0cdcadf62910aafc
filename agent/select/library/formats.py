"""Parsers of library exports: BibTeX, RIS and Zotero's CSV. Each returns LibraryEntry values
or raises ConfigError naming the file and the entry that is broken."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from agent.core.one_line import one_line
from agent.errors import ConfigError
from agent.select.profile import LibraryEntry
from agent.sources.clean import clean_text

_BRACES = re.compile(r"[{}]")
_AUTHOR_SEPARATOR = re.compile(r" and ")  # on whitespace-normalised text: linear, unlike \s+and\s+


def _clean(value: object) -> str:
    return " ".join(_BRACES.sub("", clean_text(str(value or ""))).split())


def _entry(path: Path, key: str, title: str, abstract: str, authors: list[str]) -> LibraryEntry:
    title = _clean(title)
    if not title:
        raise ConfigError(f"library {path}: entry {key} has no title")
    names = tuple(name for name in (_clean(a) for a in authors) if name)
    return LibraryEntry(key=key, title=title, abstract=_clean(abstract), authors=names)


def parse_bibtex(text: str, path: Path) -> list[LibraryEntry]:
    """BibTeX as Zotero, Mendeley and JabRef export it (bibtexparser)."""
    import bibtexparser

    library = bibtexparser.parse_string(text)
    if library.failed_blocks:
        block = library.failed_blocks[0]
        line = getattr(block, "start_line", None)
        where = f" at line {line + 1}" if isinstance(line, int) else ""
        raw = one_line(getattr(block, "raw", ""), 60)
        raise ConfigError(f"library {path}: broken entry{where}: {raw!r}")
    entries = []
    for item in library.entries:
        fields = {name.lower(): field.value for name, field in item.fields_dict.items()}
        authors = _AUTHOR_SEPARATOR.split(" ".join(str(fields.get("author") or "").split()))
        entries.append(
            _entry(path, item.key, fields.get("title", ""), fields.get("abstract", ""), authors)
        )
    return entries


def parse_ris(text: str, path: Path) -> list[LibraryEntry]:
    """RIS (rispy); a record without its closing `ER  -` is a broken entry."""
    import rispy

    starts = len(re.findall(r"^TY  -", text, flags=re.MULTILINE))
    ends = len(re.findall(r"^ER  -", text, flags=re.MULTILINE))
    if starts != ends:
        raise ConfigError(
            f"library {path}: broken entry: {starts} records start (TY) but {ends} end (ER)"
        )
    try:
        records = rispy.loads(text)
    except Exception as exc:  # noqa: BLE001 (rispy raises plain exceptions on malformed tags)
        raise ConfigError(f"library {path}: not valid RIS: {one_line(exc)}") from None
    entries = []
    for number, record in enumerate(records, start=1):
        key = str(record.get("id") or record.get("doi") or f"record {number}")
        title = (
            record.get("title")
            or record.get("primary_title")
            or record.get("secondary_title")
            or ""
        )
        authors = list(record.get("authors") or record.get("first_authors") or [])
        entries.append(_entry(path, key, title, record.get("abstract", ""), authors))
    return entries


def parse_zotero_csv(text: str, path: Path) -> list[LibraryEntry]:
    """Zotero's CSV export: columns Key, Title, Author ("Family, Given; ..."), Abstract Note.
    A row csv cannot read (an unclosed quote runs a field past csv's limit) is named by its
    number as a spreadsheet counts rows: the header is row 1."""
    reader = csv.DictReader(io.StringIO(text))
    entries = []
    number = 0  # the last row read whole (the header is row 1)
    try:
        columns = set(reader.fieldnames or ())
        number = 1
        if "Title" not in columns:
            raise ConfigError(f"library {path}: not a Zotero CSV export (no Title column)")
        for number, row in enumerate(reader, start=2):
            key = (row.get("Key") or "").strip() or f"row {number}"
            authors = [a for a in (row.get("Author") or "").split(";") if a.strip()]
            entries.append(
                _entry(path, key, row.get("Title") or "", row.get("Abstract Note") or "", authors)
            )
    except csv.Error as exc:
        broken = "1 (the header)" if number == 0 else str(number + 1)
        hint = " (an unclosed quote?)" if "field limit" in str(exc) else ""
        raise ConfigError(
            f"library {path}: broken CSV at row {broken}: {one_line(exc, 120)}{hint}"
        ) from None
    return entries
