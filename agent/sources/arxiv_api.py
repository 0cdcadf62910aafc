"""`arxiv:QUERY`: the arXiv API (Atom 1.0 from export.arxiv.org/api/query), paged.

QUERY is arXiv's own `search_query` syntax (``cat:cs.CL AND abs:retrieval``), used verbatim.
Shorthand without any ``field:`` prefix is expanded: category names become ``cat:`` terms (OR-ed),
other words ``all:`` terms (AND-ed), so ``arxiv:cs.CL+cs.LG`` and ``arxiv:"speculative decoding"``
both work. A free-text topic in ctx.query is AND-ed on, and when the query has no date range and
ctx.since is set, ``submittedDate:[since 0000 TO date 2359]`` is added.

Both server formats parse: the current one (namespaces on <feed>) and the legacy one (namespaces
declared inline on each element); ElementTree resolves both to the same qualified names. An HTTP
400 carries an error feed whose one entry holds arXiv's message; that message is the SourceError.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.core.parsing import bounded_int
from agent.errors import SourceError
from agent.models import Paper
from agent.sources.arxiv_ids import abs_url, find_arxiv_id, pdf_url
from agent.sources.base import FetchContext, Source
from agent.sources.clean import clean_text
from agent.sources.fields import iso_datetime, local_name, make_paper, unique
from agent.sources.http import HttpFetcher, parse_xml
from agent.sources.links import code_repo_url

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
PAGE_SIZE = 100

_FIELD_RE = re.compile(r"\b(?:ti|au|abs|co|jr|cat|rn|id|all|submittedDate|lastUpdatedDate):")
_DATE_RANGE_RE = re.compile(r"\b(?:submittedDate|lastUpdatedDate):", re.IGNORECASE)
_CATEGORY_RE = re.compile(r"^[a-z]+(?:-[a-z]+)?\.[A-Za-z]+(?:-[A-Za-z]+)?$")
_ARCHIVES = frozenset(  # archive names that are also valid categories on their own
    {
        "astro-ph",
        "cond-mat",
        "gr-qc",
        "hep-ex",
        "hep-lat",
        "hep-ph",
        "hep-th",
        "math-ph",
        "nlin",
        "nucl-ex",
        "nucl-th",
        "physics",
        "quant-ph",
        "cs",
        "math",
        "stat",
        "econ",
        "eess",
        "q-bio",
        "q-fin",
    }
)
_TERM_RE = re.compile(r'"([^"]+)"|([^\s+,]+)')


class ArxivApiSource(Source):
    """A search of the arXiv API, newest submissions first, up to arxiv_api_max_results."""

    searches = True

    def __init__(self, query: str | None, *, fetcher: HttpFetcher | None = None) -> None:
        self.query = (query or "").strip()
        self.name = f"arxiv:{self.query}"
        self._fetcher = fetcher

    async def fetch(self, ctx: FetchContext) -> list[Paper]:
        settings = ctx.sources
        search_query = build_search_query(
            self.query, topic=ctx.query, since=ctx.since, until=ctx.date
        )
        if not search_query:
            raise SourceError(f"{self.name}: empty query (give one, e.g. arxiv:cat:cs.CL)")
        limit = settings.arxiv_api_max_results
        papers: dict[str, Paper] = {}
        start = 0
        matched: int | None = None  # the search's totalResults
        with HttpFetcher.borrow(settings, self._fetcher) as fetcher:
            while start < limit:
                size = min(PAGE_SIZE, limit - start)
                result = await fetcher.get(
                    settings.arxiv_api_url,
                    source=self.name,
                    params={
                        "search_query": search_query,
                        "sortBy": "submittedDate",
                        "sortOrder": "descending",
                        "start": start,
                        "max_results": size,
                    },
                    store=ctx.store,
                    gate=fetcher.arxiv_gate,
                    accept=frozenset({200, 400}),  # a 400 still carries the error feed
                )
                page = parse_atom(result.text, source=self.name)
                # 304 Not Modified: nothing new since the stored answer, whose papers it holds
                if result.status not in (200, 304):
                    raise SourceError(f"{self.name}: HTTP {result.status} from the arXiv API")
                for paper in page.papers:
                    papers.setdefault(paper.id, paper)  # pages can overlap as new papers land
                start += size
                matched = page.total
                total = page.total if page.total is not None else start
                # An empty page before the end is a known arXiv glitch: stop, keep what we have.
                if not page.papers or start >= total:
                    break
        if start >= limit and matched is not None and matched > limit:
            self.note = unread_note(len(papers), matched)
        return list(papers.values())


def unread_note(read: int, total: int) -> str:
    """What a search cut at the paging limit left unread, and the setting that reads more."""
    return (
        f"{read} of {total} matching papers read: {total - read} older ones not read; "
        "raise sources.arxiv_api_max_results to read them"
    )


def build_search_query(
    query: str, *, topic: str | None = None, since: dt.date | None = None, until: dt.date
) -> str:
    """The `search_query` for the API: QUERY (shorthand expanded), topic, date range."""
    clauses = [c for c in (_expand(query), _keywords(topic or "")) if c]
    has_range = any(_DATE_RANGE_RE.search(c) for c in clauses)
    if since is not None and not has_range:
        clauses.append(f"submittedDate:[{since:%Y%m%d}0000 TO {until:%Y%m%d}2359]")
    if len(clauses) == 1:
        return clauses[0]
    return " AND ".join(f"({c})" if " OR " in c or " ANDNOT " in c else c for c in clauses)


def _expand(query: str) -> str:
    query = query.strip()
    if not query or _FIELD_RE.search(query):
        return query
    categories: list[str] = []
    words: list[str] = []
    for phrase, word in _TERM_RE.findall(query):
        if word in {"AND", "OR", "ANDNOT"}:  # shorthand terms are combined by fixed rules
            continue
        if word and (_CATEGORY_RE.match(word) or word in _ARCHIVES):
            categories.append(f"cat:{word}")
        else:
            words.append(_all_term(phrase or word))
    parts = []
    if categories:
        joined = " OR ".join(categories)
        parts.append(f"({joined})" if len(categories) > 1 and words else joined)
    parts.extend(w for w in words if w)
    return " AND ".join(parts)


def _keywords(text: str) -> str:
    return " AND ".join(t for t in (_all_term(p or w) for p, w in _TERM_RE.findall(text)) if t)


def _all_term(text: str) -> str:
    cleaned = " ".join(re.sub(r"[^\w\-.' ]", " ", text).split())
    if not cleaned:
        return ""
    return f'all:"{cleaned}"' if " " in cleaned else f"all:{cleaned}"


@dataclass(frozen=True)
class AtomPage:
    total: int | None
    papers: list[Paper]


def parse_atom(text: str, *, source: str) -> AtomPage:
    """One page of API results. The error feed raises SourceError with arXiv's message."""
    root = parse_xml(text, source)
    if root.tag != f"{ATOM}feed":
        raise SourceError(f"{source}: not an Atom feed (root element <{local_name(root.tag)}>)")
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        entry_id = entry.findtext(f"{ATOM}id") or ""
        if "/api/errors" in entry_id or (entry.findtext(f"{ATOM}title") or "").strip() == "Error":
            message = clean_text(entry.findtext(f"{ATOM}summary") or "") or entry_id
            raise SourceError(f"{source}: arXiv API error: {message}")
    total_text = (root.findtext(f"{OPENSEARCH}totalResults") or "").strip()
    total = bounded_int(total_text)
    found = (_paper(entry, source, i) for i, entry in enumerate(entries, 1))
    return AtomPage(total, [paper for paper in found if paper is not None])


def _paper(entry: Element, source: str, index: int) -> Paper | None:
    found = None
    for candidate in (entry.findtext(f"{ATOM}id"), *_links(entry, "alternate")):
        if candidate and (found := find_arxiv_id(candidate)):
            break
    if not found:
        raise SourceError(f"{source}: entry {index} has no arXiv id")
    arxiv_id, version = found
    title = clean_text(entry.findtext(f"{ATOM}title") or "")
    if not title:
        raise SourceError(f"{source}: entry {index} ({arxiv_id}) has no title")
    categories = unique(
        c.get("term", "").strip() for c in entry.findall(f"{ATOM}category") if c.get("term")
    )
    primary_el = entry.find(f"{ARXIV}primary_category")
    primary = (primary_el.get("term") or "").strip() if primary_el is not None else ""
    if primary and primary not in categories:
        categories = (primary, *categories)
    abstract = clean_text(entry.findtext(f"{ATOM}summary") or "")
    comment = entry.findtext(f"{ARXIV}comment") or ""
    authors = tuple(
        name
        for author in entry.findall(f"{ATOM}author")
        if (name := clean_text(author.findtext(f"{ATOM}name") or ""))
    )
    return make_paper(
        source,
        f"entry {index} ({arxiv_id})",
        id=arxiv_id,
        version=version,
        title=title,
        abstract=abstract,
        authors=authors,
        categories=categories,
        primary_category=primary or (categories[0] if categories else None),
        url=abs_url(arxiv_id),
        pdf_url=pdf_url(arxiv_id, version),
        published=iso_datetime(entry.findtext(f"{ATOM}published")),
        updated=iso_datetime(entry.findtext(f"{ATOM}updated")),
        source=source,
        code_url=code_repo_url(abstract, comment),
    )


def _links(entry: Element, rel: str) -> list[str]:
    return [
        link.get("href", "")
        for link in entry.findall(f"{ATOM}link")
        if link.get("rel", "alternate") == rel
    ]
