"""`s2:QUERY`: a Semantic Scholar Graph API relevance search (/graph/v1/paper/search).

The answer is ``{total, offset, next, data}``; an empty search is ``{total: 0, offset: 0}`` with
no ``data`` key; errors are HTTP 400 with ``{"error": ...}``. Papers with an arXiv id
(``externalIds.ArXiv``) get it as their id, so they merge with the arXiv sources; others keep
the Semantic Scholar paperId. Semantic Scholar has no arXiv categories or versions. A free-text
topic in ctx.query is appended to QUERY; ctx.since restricts ``publicationDateOrYear``.
Unauthenticated clients share a small rate limit: one request per second through a shared gate.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from agent.core import links
from agent.core.one_line import one_line
from agent.errors import SourceError
from agent.models import Paper
from agent.sources.arxiv_ids import abs_url, find_arxiv_id, pdf_url
from agent.sources.base import FetchContext, Source
from agent.sources.clean import clean_text
from agent.sources.fields import as_list, make_paper
from agent.sources.http import HttpFetcher, parse_json

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.semanticscholar.org/graph/v1"
FIELDS = "paperId,externalIds,title,abstract,authors,year,publicationDate,url,openAccessPdf"
MIN_INTERVAL_SECONDS = 1.0
MAX_LIMIT = 100  # the search endpoint's page size limit


class SemanticScholarSource(Source):
    """One page (up to `limit`) of Semantic Scholar search results for QUERY."""

    searches = True

    def __init__(
        self,
        query: str | None,
        *,
        fetcher: HttpFetcher | None = None,
        base_url: str = DEFAULT_BASE_URL,
        limit: int = MAX_LIMIT,
    ) -> None:
        self.query = (query or "").strip()
        self.name = f"s2:{self.query}"
        self.base_url = base_url.rstrip("/")
        self.limit = max(1, min(limit, MAX_LIMIT))
        self._fetcher = fetcher

    async def fetch(self, ctx: FetchContext) -> list[Paper]:
        text = " ".join(part for part in (self.query, (ctx.query or "").strip()) if part)
        if not text:
            raise SourceError(f"{self.name}: empty query (give one, e.g. s2:speculative decoding)")
        params: dict[str, str | int] = {
            "query": text,
            "fields": FIELDS,
            "offset": 0,
            "limit": self.limit,
        }
        if ctx.since is not None:
            params["publicationDateOrYear"] = f"{ctx.since.isoformat()}:{ctx.date.isoformat()}"
        settings = ctx.sources
        with HttpFetcher.borrow(settings, self._fetcher) as fetcher:
            result = await fetcher.get(
                f"{self.base_url}/paper/search",
                source=self.name,
                params=params,
                store=ctx.store,
                gate=fetcher.gate("s2"),
                min_interval=MIN_INTERVAL_SECONDS,
                accept=frozenset({200, 400}),
            )
        papers = parse_search(result.text, source=self.name)
        if result.status != 200:  # a 400 without an "error" member
            raise SourceError(f"{self.name}: HTTP {result.status} from Semantic Scholar")
        return papers


def parse_search(text: str, *, source: str) -> list[Paper]:
    """The papers of one search answer, deduplicated by id; an error object is a SourceError."""
    data = parse_json(text, source)
    if not isinstance(data, dict):
        raise SourceError(f"{source}: expected a JSON object, got {type(data).__name__}")
    if "error" in data or "message" in data:
        message = one_line(data.get("error") or data.get("message"), 300)
        raise SourceError(f"{source}: Semantic Scholar error: {message}")
    items = data.get("data") or []  # an empty search has no "data" at all
    if not isinstance(items, list):
        raise SourceError(f"{source}: 'data' is not a list")
    papers: dict[str, Paper] = {}
    for index, item in enumerate(items, start=1):
        paper = _paper(item, source) if isinstance(item, dict) else None
        if paper is None:
            if item is not None:
                log.warning("%s: skipped result %d (no id or title)", source, index)
            continue
        papers.setdefault(paper.id, paper)
    return list(papers.values())


def _paper(item: dict[str, Any], source: str) -> Paper | None:
    title = clean_text(str(item.get("title") or ""))
    ids = item.get("externalIds")
    external: dict[str, Any] = ids if isinstance(ids, dict) else {}
    arxiv = find_arxiv_id(str(external.get("ArXiv") or ""))
    s2_id = str(item.get("paperId") or "").strip()
    if not title or not (arxiv or s2_id):
        return None
    access = item.get("openAccessPdf")
    open_pdf: dict[str, Any] = access if isinstance(access, dict) else {}
    pdf: str | None
    if arxiv:
        paper_id, version = arxiv
        url, pdf = abs_url(paper_id), pdf_url(paper_id, version)
    else:
        paper_id, version = s2_id, None
        url = links.s2_paper_url(s2_id) or links.link_from(item.get("url"))
        pdf = links.link_from(open_pdf.get("url"))
    authors = tuple(
        name
        for author in as_list(item.get("authors"))
        if isinstance(author, dict) and (name := clean_text(str(author.get("name") or "")))
    )
    return make_paper(
        source,
        f"paper {one_line(paper_id, 40)}",
        id=paper_id,
        version=version,
        title=title,
        abstract=clean_text(str(item.get("abstract") or "")),
        authors=authors,
        url=url,
        pdf_url=pdf,
        published=_date(item.get("publicationDate")),
        source=source,
    )


def _date(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        day = dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
