"""The reader's profile for one run: library files and Zotero, ratings, follows, dislikes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agent.select.profile import LibraryEntry, ReaderProfile

if TYPE_CHECKING:
    from agent.config import SelectionSettings, SourcesSettings
    from agent.store import ProfileStore

# Names to type are in backticks: the email shows them as code (<code>, plain in its text part).
COLD_START_HINT = (
    'Personalise this digest: in digest.toml, point `library = ["my-papers.bib"]` at your '
    "papers (.bib, .ris, Zotero .csv or a list of arXiv ids) or follow authors with "
    '`authors = ["Ada Lovelace"]`; or rate papers with `digest rate ID up|down`.'
)


def library_paths(selection: SelectionSettings, extra: Sequence[Path] = ()) -> list[Path]:
    """The config's `library` files, then the --library ones, each once."""
    paths = [Path(p).expanduser() for p in selection.library] + [p.expanduser() for p in extra]
    return list(dict.fromkeys(p.resolve() for p in paths))


async def build_profile(
    selection: SelectionSettings,
    sources: SourcesSettings,
    store: ProfileStore | None,
    extra: Sequence[Path] = (),
    *,
    reader: str = "",
) -> ReaderProfile:
    """Everything personal the ranking uses (`reader`'s ratings): the library files (and the
    `extra` ones; an id list is looked up on the arXiv API of `sources`), Zotero, follows,
    dislikes. Library problems raise ConfigError (exit 2)."""
    from agent.select.library import load_library

    library: list[LibraryEntry] = []
    for path in library_paths(selection, extra):
        library.extend(await load_library(path, sources, store))
    if selection.zotero.configured:
        from agent.select.library.zotero_api import load_zotero

        library.extend(await load_zotero(selection.zotero, store))
    liked: list[LibraryEntry] = []
    disliked: list[LibraryEntry] = []
    for rating in store.ratings(reader) if store is not None else ():
        entry = LibraryEntry(
            key=rating.paper_id,
            title=rating.title,
            abstract=rating.abstract,
            authors=rating.authors,
        )
        (liked if rating.rating > 0 else disliked).append(entry)
    return ReaderProfile(
        library=tuple(library),
        liked=tuple(liked),
        disliked=tuple(disliked),
        authors=tuple(a for a in selection.authors if a.strip()),
        not_interested=selection.not_interested,
    )
