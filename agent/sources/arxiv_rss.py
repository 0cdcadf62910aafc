"""`arxiv-rss:CATS`: the daily arXiv announcement feed (RSS 2.0 from rss.arxiv.org).

One item per announced paper. The guid is ``oai:arXiv.org:IDvN``; the description starts
``arXiv:IDvN Announce Type: TYPE \\nAbstract: ...``; ``dc:creator`` is one comma-separated
string; each ``<category>`` is one element, the first being the primary. A channel without
items is an empty day (weekends, holidays), not an error.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from typing import TYPE_CHECKING

from agent.errors import ConfigError, SourceError
from agent.models import Paper
from agent.sources.arxiv_ids import abs_url, find_arxiv_id, pdf_url
from agent.sources.base import FetchContext, Source
from agent.sources.clean import clean_text
from agent.sources.fields import local_name, unique
from agent.sources.http import HttpFetcher, parse_xml

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

ARXIV_NS = "{http://arxiv.org/schemas/atom}"
DC_NS = "{http://purl.org/dc/elements/1.1/}"
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross", "absonly")

# The description's header line, before the abstract proper (a text field, not XML).
_HEADER_RE = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?",
    re.IGNORECASE,
)
_NAME_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


class ArxivRssSource(Source):
    """Today's announcements for one or more categories (``cs.CL+cs.LG``)."""

    def __init__(self, categories: str, *, fetcher: HttpFetcher | None = None) -> None:
        categories = categories.strip()
        if not categories:
            raise ConfigError("arxiv-rss needs categories, e.g. arxiv-rss:cs.CL+cs.LG")
        self.categories = categories
        self.name = f"arxiv-rss:{categories}"
        self._fetcher = fetcher

    def fetch(self, ctx: FetchContext) -> list[Paper]:
        settings = ctx.settings.sources
        with HttpFetcher.borrow(settings, self._fetcher) as fetcher:
            result = fetcher.get(
                settings.arxiv_rss_url + self.categories,
                source=self.name,
                store=ctx.store,
                gate=fetcher.arxiv_gate,
            )
        papers = parse_rss(result.text, source=self.name)
        keep = set(settings.announce_types)
        return [p for p in papers if p.announce_type is None or p.announce_type in keep]


def parse_rss(text: str, *, source: str) -> list[Paper]:
    """Every item of an arXiv RSS 2.0 feed, in feed order (no announce-type filtering)."""
    root = parse_xml(text, source)
    if root.tag != "rss":
        raise SourceError(f"{source}: not an RSS feed (root element <{local_name(root.tag)}>)")
    channel = root.find("channel")
    if channel is None:
        raise SourceError(f"{source}: RSS feed without a <channel>")
    papers: list[Paper] = []
    seen: set[str] = set()
    for index, item in enumerate(channel.findall("item"), start=1):
        paper = _paper(item, source, index)
        if paper.id not in seen:  # a paper listed under two of the categories
            seen.add(paper.id)
            papers.append(paper)
    return papers


def _paper(item: Element, source: str, index: int) -> Paper:
    description = item.findtext("description") or ""
    header = _HEADER_RE.match(description)
    abstract = description[header.end() :] if header else description

    found = None
    for candidate in (
        item.findtext("guid"),
        header.group("id") if header else None,
        item.findtext("link"),
    ):
        if candidate and (found := find_arxiv_id(candidate)):
            break
    if not found:
        raise SourceError(f"{source}: item {index} has no arXiv id")
    arxiv_id, version = found
    if version is None and header and (from_header := find_arxiv_id(header.group("id"))):
        version = from_header[1]

    title = clean_text(item.findtext("title") or "")
    if not title:
        raise SourceError(f"{source}: item {index} ({arxiv_id}) has no title")

    announce = (item.findtext(f"{ARXIV_NS}announce_type") or "").strip().lower()
    if not announce and header:
        announce = header.group("type").lower()

    categories = unique(c.text.strip() for c in item.findall("category") if c.text)
    return Paper(
        id=arxiv_id,
        version=version,
        title=title,
        abstract=clean_text(abstract),
        authors=split_creators(item.findtext(f"{DC_NS}creator") or ""),
        categories=categories,
        primary_category=categories[0] if categories else None,
        url=abs_url(arxiv_id),
        pdf_url=pdf_url(arxiv_id, version),
        published=_rfc822(item.findtext("pubDate")),
        source=source,
        announce_type=announce or None,
    )


def split_creators(creators: str) -> tuple[str, ...]:
    """``"A. Khan, R. Kandala,  Deepti"`` -> ("A. Khan", "R. Kandala", "Deepti").

    Whitespace is folded; a lone "Jr." (or similar) stays with the name before it.
    """
    names: list[str] = []
    for part in creators.split(","):
        name = clean_text(part)
        if not name:
            continue
        if names and name.lower() in _NAME_SUFFIXES:
            names[-1] = f"{names[-1]} {name}"
        else:
            names.append(name)
    return tuple(names)


def _rfc822(value: str | None) -> dt.datetime | None:
    if not value or not value.strip():
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
