"""`s2:QUERY`: a Semantic Scholar Graph API relevance search (/graph/v1/paper/search).

The answer is ``{total, offset, next, data}``; an empty search is ``{total: 0, offset: 0}`` with
no ``data`` key; errors are HTTP 400 with ``{"error": ...}``. Papers with an arXiv id
(``externalIds.ArXiv``) get it as their id, so they merge with the arXiv sources; others keep
the Semantic Scholar paperId, which must be one (40 hex digits: it is printed and linked
wherever the paper is); a result with neither, or without a title, is skipped, and one warning
counts the skipped results by reason. Semantic Scholar has no arXiv categories or versions. A free-text
topic in ctx.query is appended to QUERY; ctx.since restricts ``publicationDateOrYear``.
Unauthenticated clients share a small rate limit: one request per second through a shared gate.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
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
    skipped: Counter[str] = Counter()
    for item in items:
        if not isinstance(item, dict):
            if item is not None:
                skipped["that are not objects"] += 1
            continue
        reason = _unusable(item)
        paper = _paper(item, source) if reason is None else None
        if paper is None:  # `make_paper` has named the field it refused
            skipped[reason or "with a field no paper can have"] += 1
            continue
        papers.setdefault(paper.id, paper)
    if skipped:
        counts = "; ".join(f"{count} {reason}" for reason, count in skipped.most_common())
        log.warning("%s: skipped %d results (%s)", source, skipped.total(), counts)
    return list(papers.values())


def _unusable(item: dict[str, Any]) -> str | None:
    """Why a search result cannot be a paper (None when it can): no title, or neither an arXiv
    id nor a Semantic Scholar paperId (40 hex digits, lower case)."""
    if not clean_text(str(item.get("title") or "")):
        return "with no title"
    ids = item.get("externalIds")
    if isinstance(ids, dict) and find_arxiv_id(str(ids.get("ArXiv") or "")):
        return None
    s2_id = str(item.get("paperId") or "").strip()
    if not s2_id:
        return "with no id"
    if links.s2_paper_url(s2_id) is None:  # `x|Click>`, an ESC sequence: no paper id
        return "whose paperId is not a Semantic Scholar id (40 hex digits)"
    return None


def _paper(item: dict[str, Any], source: str) -> Paper | None:
    title = clean_text(str(item.get("title") or ""))
    ids = item.get("externalIds")
    external: dict[str, Any] = ids if isinstance(ids, dict) else {}
    arxiv = find_arxiv_id(str(external.get("ArXiv") or ""))
    s2_id = str(item.get("paperId") or "").strip()  # valid when `_unusable` found none
    access = item.get("openAccessPdf")
    open_pdf: dict[str, Any] = access if isinstance(access, dict) else {}
    pdf: str | None
    if arxiv:
        paper_id, version = arxiv
        url, pdf = abs_url(paper_id), pdf_url(paper_id, version)
    else:
        paper_id, version = s2_id, None
        url = links.s2_paper_url(s2_id)
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
