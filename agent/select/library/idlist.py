"""A plain list of arXiv ids or DOIs, one a line; arXiv ids are looked up through the arXiv
API source (its base URL setting and its one-request-every-3-seconds gate)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from agent.errors import ConfigError, SourceError
from agent.select.profile import LibraryEntry
from agent.sources.arxiv_ids import find_arxiv_id

if TYPE_CHECKING:
    from agent.config import SourcesSettings
    from agent.sources.http import HttpFetcher
    from agent.store import SourceStore

logger = logging.getLogger(__name__)
BATCH = 50  # ids per arXiv API request
_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)


def read_ids(text: str, path: Path) -> tuple[list[str], list[str]]:
    """(arXiv ids, other DOIs) in file order; a line that is neither names the file and line."""
    arxiv: list[str] = []
    dois: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        doi = _DOI.match(line)
        if doi:
            inner = _ARXIV_DOI.match(doi.group(1))
            found = find_arxiv_id(inner.group(1)) if inner else None
            if found:
                arxiv.append(found[0])
            else:
                dois.append(doi.group(1))
            continue
        found = find_arxiv_id(line)
        if found is None:
            raise ConfigError(
                f"library {path}: line {number} is neither an arXiv id nor a DOI: {line[:60]!r}"
            )
        arxiv.append(found[0])
    return list(dict.fromkeys(arxiv)), list(dict.fromkeys(dois))


async def look_up(
    path: Path,
    text: str,
    sources: SourcesSettings,
    store: SourceStore | None,
    *,
    fetcher: HttpFetcher | None = None,
) -> list[LibraryEntry]:
    """Titles and abstracts of the listed arXiv papers, from the arXiv API."""
    from agent.sources.arxiv_api import ArxivApiSource
    from agent.sources.base import FetchContext
    from agent.sources.http import HttpFetcher

    ids, dois = read_ids(text, path)
    if dois:
        logger.warning(
            "library %s: %d DOI(s) that are not arXiv DOIs were skipped (only arXiv papers can be "
            "looked up)",
            path,
            len(dois),
        )
    entries: list[LibraryEntry] = []
    ctx = FetchContext(date=dt.date.today(), sources=sources, store=store)
    with HttpFetcher.borrow(sources, fetcher) as shared:
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            query = " OR ".join(f"id:{arxiv_id}" for arxiv_id in batch)
            try:
                papers = await ArxivApiSource(query, fetcher=shared).fetch(ctx)
            except SourceError as exc:
                raise ConfigError(f"library {path}: looking up arXiv ids failed: {exc}") from None
            by_id = {p.id: p for p in papers}
            for arxiv_id in batch:
                paper = by_id.get(arxiv_id)
                if paper is None:
                    logger.warning("library %s: arXiv id %s was not found", path, arxiv_id)
                    continue
                entries.append(
                    LibraryEntry(
                        key=arxiv_id,
                        title=paper.title,
                        abstract=paper.abstract,
                        authors=paper.authors,
                        categories=paper.categories,
                    )
                )
    return entries
