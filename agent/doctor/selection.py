"""What the selection reads from the config: library files and arXiv category names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from agent.config import Settings
from agent.doctor.checks import Check
from agent.errors import ConfigError
from agent.select.library import describe_library_file
from agent.taxonomy import category_problem

RSS_PREFIX = "arxiv-rss:"


def _whose(reader: str | None) -> str:
    return f" ({reader})" if reader else ""


def _libraries(settings: Settings) -> Iterator[tuple[str | None, str]]:
    for path in settings.library:
        yield None, path
    for name, reader in settings.readers.items():
        for path in reader.library or ():
            yield name, path


def check_libraries(settings: Settings) -> Iterator[Check]:
    """One line per library file (the readers' too): read and parsed now, nothing looked up."""
    for reader, path in _libraries(settings):
        part = f"library{_whose(reader)}"
        try:
            found = describe_library_file(Path(path))
        except ConfigError as exc:
            yield Check.failed(
                part,
                str(exc).removeprefix("library "),
                "fix `library` in the config (a .bib, .ris, .csv, .txt or .json)",
            )
            continue
        yield Check.ok(part, f"{Path(path).expanduser().resolve()}: {found}")


def rss_categories(spec: str) -> list[str]:
    """The categories of an `arxiv-rss:A+B` source spec (none for another source)."""
    if not spec.startswith(RSS_PREFIX):
        return []
    names = spec.removeprefix(RSS_PREFIX).replace(",", "+").split("+")
    return [name.strip() for name in names if name.strip()]


def category_problems(names: list[str]) -> list[str]:
    return [problem for problem in map(category_problem, names) if problem]


def check_category_filters(settings: Settings) -> Iterator[Check]:
    """The `categories` filters (top level and per reader): a misspelt one keeps no paper."""
    filters = [(None, settings.categories)] + [
        (name, reader.categories or []) for name, reader in settings.readers.items()
    ]
    for reader, names in filters:
        if not names:
            continue
        part = f"categories{_whose(reader)}"
        problems = category_problems(names)
        if problems:
            yield Check.failed(
                part,
                "; ".join(problems),
                "fix `categories` in the config: a misspelt one matches no paper",
            )
        else:
            yield Check.ok(part, f"{', '.join(names)}: all arXiv categories")


__all__ = ["category_problems", "check_category_filters", "check_libraries", "rss_categories"]
