"""`arxiv-rss:CATS`: arXiv's daily announcement feeds, in every format arXiv has served.

Parsed with feedparser, so RSS 0.9x, RSS 1.0 (RDF), RSS 2.0 and Atom all work:

- RSS 2.0 and Atom from rss.arxiv.org: the guid (or Atom id) holds ``oai:arXiv.org:IDvN`` or
  the versioned abstract URL; the description starts ``arXiv:IDvN Announce Type: TYPE
  \\nAbstract: ...``; ``arxiv:announce_type`` repeats the type; ``dc:creator`` is one
  comma-separated string; one ``<category>`` per category, the primary first.
- The old RSS 1.0 (RDF) feed of export.arxiv.org: the title ends ``(arXiv:ID vN [cat])``
  (``UPDATED`` for a replacement, ``CROSS LISTED`` for a cross-list), the description is HTML,
  and ``dc:creator`` is a list of HTML links.

Guarantees kept from the hand-written parser: the body is first parsed by defusedxml, so a
DTD with entities, an external entity or a malformed (truncated) document is refused with one
clear line before feedparser sees it; feedparser's ``bozo`` flag and our own checks (a feed
root, a channel, an arXiv id per item) catch the rest. A channel without items is an empty
day (weekends, holidays), not an error.
"""

from __future__ import annotations

import calendar
import datetime as dt
import email.utils
import re
from html.parser import HTMLParser
from typing import Any

from agent.core.one_line import one_line
from agent.errors import ConfigError, SourceError
from agent.models import Paper
from agent.sources.arxiv_ids import abs_url, find_arxiv_id, pdf_url
from agent.sources.base import FetchContext, Source
from agent.sources.clean import clean_text
from agent.sources.fields import iso_datetime, local_name, make_paper, unique
from agent.sources.http import HttpFetcher, parse_xml
from agent.sources.links import code_repo_url

ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross", "absonly")
_FEED_ROOTS = frozenset({"rss", "RDF", "feed", "channel"})

# The description's header line, before the abstract proper (a text field, not XML).
_HEADER_RE = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?",
    re.IGNORECASE,
)
# The old RDF title suffix: "Title. (arXiv:2310.11511v1 [cs.CL] UPDATED)".
# It starts at its literal "(arXiv:" (the dot and spaces before it are trimmed from the title
# separately): a leading "\s*" made every search over a title of spaces quadratic.
_OLD_TITLE_RE = re.compile(
    r"\(arXiv:(?P<id>[^\s\[\]()]+?)\s*(?:v(?P<version>\d{1,3}))?\s*"
    r"\[(?P<category>[^\]]+)\](?:\s*(?P<kind>UPDATED|CROSS LISTED))?\)\s*$",
    re.IGNORECASE,
)
_OLD_KINDS = {None: "new", "updated": "replace", "cross listed": "cross"}
_NAME_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


class ArxivRssSource(Source):
    """Today's announcements for one or more categories (``cs.CL+cs.LG``)."""

    latest_only = True  # the feed holds only the latest announcement

    def __init__(self, categories: str, *, fetcher: HttpFetcher | None = None) -> None:
        categories = categories.strip()
        if not categories:
            raise ConfigError("arxiv-rss needs categories, e.g. arxiv-rss:cs.CL+cs.LG")
        self.categories = categories
        self.name = f"arxiv-rss:{categories}"
        self._fetcher = fetcher

    async def fetch(self, ctx: FetchContext) -> list[Paper]:
        settings = ctx.sources
        with HttpFetcher.borrow(settings, self._fetcher) as fetcher:
            result = await fetcher.get(
                settings.arxiv_rss_url + self.categories,
                source=self.name,
                store=ctx.store,
                gate=fetcher.arxiv_gate,
            )
        papers = parse_rss(result.text, source=self.name)
        keep = set(settings.announce_types)
        return [p for p in papers if p.announce_type is None or p.announce_type in keep]


def parse_rss(text: str, *, source: str) -> list[Paper]:
    """Every item of an arXiv feed (RSS 0.9x/1.0/2.0 or Atom), in feed order, unfiltered."""
    import feedparser  # imported here: only runs that read a feed pay for it

    root = parse_xml(text, source)  # defusedxml: no entities, no DTD tricks, well-formed
    if local_name(root.tag) not in _FEED_ROOTS:
        raise SourceError(
            f"{source}: not an RSS or Atom feed (root element <{local_name(root.tag)}>)"
        )
    if local_name(root.tag) == "rss" and not any(local_name(c.tag) == "channel" for c in root):
        raise SourceError(f"{source}: RSS feed without a <channel>")
    parsed = feedparser.parse(
        text.encode("utf-8"),
        response_headers={"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if parsed.get("bozo") and not isinstance(
        parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride
    ):
        reason = one_line(parsed.get("bozo_exception") or "unknown error", 300)
        raise SourceError(f"{source}: malformed feed ({reason}); feed truncated or not a feed")
    if not parsed.get("version"):
        raise SourceError(f"{source}: not an RSS or Atom feed (feedparser found no feed format)")
    papers: list[Paper] = []
    seen: set[str] = set()
    for index, entry in enumerate(parsed.entries, start=1):
        paper = _paper(entry, source, index)
        if paper is not None and paper.id not in seen:  # a paper listed under two of the categories
            seen.add(paper.id)
            papers.append(paper)
    return papers


def _paper(entry: Any, source: str, index: int) -> Paper | None:
    description = html_text(entry.get("summary") or "")
    header = _HEADER_RE.match(description)
    abstract = clean_text(description[header.end() :] if header else description)
    raw_title = html_text(entry.get("title") or "")
    old = _OLD_TITLE_RE.search(raw_title)
    title = clean_text(raw_title[: old.start()].rstrip().removesuffix(".") if old else raw_title)
    arxiv_id, version = _arxiv_id(entry, header, old, source, index)
    if not title:
        raise SourceError(f"{source}: item {index} ({arxiv_id}) has no title")
    categories = _categories(entry, old)
    return make_paper(
        source,
        f"item {index} ({arxiv_id})",
        id=arxiv_id,
        version=version,
        title=title,
        abstract=abstract,
        authors=_authors(entry),
        categories=categories,
        primary_category=categories[0] if categories else None,
        url=abs_url(arxiv_id),
        pdf_url=pdf_url(arxiv_id, version),
        published=_when(entry, "published") or _when(entry, "updated"),
        updated=_when(entry, "updated") if dict.get(entry, "published") else None,
        source=source,
        announce_type=_announce_type(entry, header, old) or None,
        code_url=code_repo_url(abstract),
    )


def _arxiv_id(
    entry: Any, header: re.Match[str] | None, old: re.Match[str] | None, source: str, index: int
) -> tuple[str, int | None]:
    """The id and version: from the entry's id, the description's header, the old-style title
    or the link, the first that has one; SourceError when none has."""
    found = None
    for candidate in (
        entry.get("id"),
        header.group("id") if header else None,
        f"{old.group('id')}v{old.group('version') or ''}".rstrip("v") if old else None,
        entry.get("link"),
    ):
        if candidate and (found := find_arxiv_id(candidate)):
            break
    if not found:
        raise SourceError(f"{source}: item {index} has no arXiv id")
    arxiv_id, version = found
    if version is None:
        version = _version(header.group("id") if header else None, old)
    return arxiv_id, version


def _announce_type(entry: Any, header: re.Match[str] | None, old: re.Match[str] | None) -> str:
    """ "new", "cross", "replace", ...: the arXiv field, else the header's, else the old title's."""
    announce = str(entry.get("arxiv_announce_type") or "").strip().lower()
    if not announce and header:
        announce = header.group("type").lower()
    if not announce and old:
        announce = _OLD_KINDS.get((old.group("kind") or "").lower() or None, "new")
    return announce


def _categories(entry: Any, old: re.Match[str] | None) -> tuple[str, ...]:
    """The feed's category tags, else the category of an old-style title."""
    categories = unique(
        term for tag in entry.get("tags") or () if (term := str(tag.get("term") or "").strip())
    )
    if old and not categories:
        categories = (old.group("category").strip(),)
    return categories


def _version(header_id: str | None, old: re.Match[str] | None) -> int | None:
    if header_id and (from_header := find_arxiv_id(header_id)) and from_header[1]:
        return from_header[1]
    if old and old.group("version"):
        return int(old.group("version"))
    return None


def _authors(entry: Any) -> tuple[str, ...]:
    """Authors from dc:creator (one comma-separated string, maybe HTML links) or Atom authors."""
    names = [str(a.get("name") or "") for a in entry.get("authors") or () if isinstance(a, dict)]
    if len(names) > 1:
        return tuple(n for n in (clean_text(html_text(n)) for n in names) if n)
    return split_creators(html_text(names[0] if names else str(entry.get("author") or "")))


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


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "br", "div", "li"):
            self.parts.append(" ")


def html_text(value: str) -> str:
    """The text of an HTML fragment (the old RDF feed's descriptions and creators)."""
    if "<" not in value:
        return value
    parser = _TextOnly()
    parser.feed(value)
    parser.close()
    return "".join(parser.parts)


def _when(entry: Any, field: str) -> dt.datetime | None:
    """A feed date: RFC 822 (RSS), ISO 8601 (Atom, dc:date), else feedparser's UTC reading."""
    # dict.get: feedparser's own get() maps a missing `updated` to `published`, with a warning.
    raw = str(dict.get(entry, field) or "").strip()
    if not raw:
        return None
    when = iso_datetime(raw.replace("Z", "+00:00"))
    if when is None:
        try:
            when = email.utils.parsedate_to_datetime(raw)
            when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        except (TypeError, ValueError):
            when = None
    parsed = dict.get(entry, f"{field}_parsed")
    if when is None and parsed:
        when = dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.UTC)
    return when
