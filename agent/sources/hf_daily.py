"""`hf-daily[:DATE]`: Hugging Face daily papers (huggingface.co/api/daily_papers?date=DATE).

A JSON array; each item holds ``paper`` with the arXiv id (no version), title, summary, authors
(``{name, hidden, ...}``), ``upvotes``, ``publishedAt`` (the arXiv date) and, when the authors
linked one, ``githubRepo`` with ``githubStars``. The listing day
defaults to the digest date (a run also asks for the days it missed: `agent.pipeline.catch_up`).
An object with ``error`` instead of the array is a SourceError.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from agent.core.one_line import one_line
from agent.errors import ConfigError, SourceError
from agent.models import Paper, clamp_count
from agent.sources.arxiv_ids import abs_url, find_arxiv_id, pdf_url
from agent.sources.base import FetchContext, Source
from agent.sources.clean import clean_text
from agent.sources.fields import as_list, iso_datetime, make_paper
from agent.sources.http import HttpFetcher, parse_json
from agent.sources.links import code_repo_url, hf_paper_url, is_hf_paper_id

log = logging.getLogger(__name__)


class HfDailySource(Source):
    """The papers listed on one day of Hugging Face's daily papers page, with upvotes."""

    def __init__(self, date: str | None = None, *, fetcher: HttpFetcher | None = None) -> None:
        self.date: dt.date | None = None
        if date and date.strip():
            try:
                self.date = dt.date.fromisoformat(date.strip())
            except ValueError:
                raise ConfigError(f"hf-daily: bad date {date!r}, expected YYYY-MM-DD") from None
        self.name = f"hf-daily:{self.date.isoformat()}" if self.date else "hf-daily"
        self.dated = self.date is None  # a fixed date is that day only; else any day it is asked
        self._fetcher = fetcher

    async def fetch(self, ctx: FetchContext) -> list[Paper]:
        settings = ctx.sources
        day = self.date or ctx.date
        with HttpFetcher.borrow(settings, self._fetcher) as fetcher:
            result = await fetcher.get(
                settings.hf_url, source=self.name, params={"date": day.isoformat()}, store=ctx.store
            )
        return parse_daily_papers(result.text, source=self.name)


def parse_daily_papers(text: str, *, source: str) -> list[Paper]:
    """Every paper of a daily-papers JSON body, in listing order, deduplicated by id."""
    data = parse_json(text, source)
    if isinstance(data, dict) and "error" in data:
        message = one_line(data["error"], 300)
        raise SourceError(f"{source}: Hugging Face error: {message}")
    if not isinstance(data, list):
        raise SourceError(f"{source}: expected a JSON array of papers, got {type(data).__name__}")
    papers: dict[str, Paper] = {}
    for index, item in enumerate(data, start=1):
        paper = _paper(item, source) if isinstance(item, dict) else None
        if paper is None:
            log.warning("%s: skipped item %d (no valid paper id, or no title)", source, index)
            continue
        papers.setdefault(paper.id, paper)
    return list(papers.values())


def _paper(item: dict[str, Any], source: str) -> Paper | None:
    paper = item.get("paper")
    raw: dict[str, Any] = paper if isinstance(paper, dict) else {}
    raw_id = str(raw.get("id") or "").strip()
    title = clean_text(str(raw.get("title") or item.get("title") or ""))
    if not raw_id or not title:
        return None
    found = find_arxiv_id(raw_id)
    if found and raw_id in (found[0], f"{found[0]}v{found[1]}"):
        paper_id, version = found
        url, pdf = abs_url(paper_id), pdf_url(paper_id, version)
    elif is_hf_paper_id(raw_id):
        paper_id, version, url, pdf = raw_id, None, hf_paper_url(raw_id), None
    else:  # an id with link syntax in it (`x|Click>`, `y)[a](b)`) is no paper id: skipped
        return None
    authors = tuple(
        name
        for author in as_list(raw.get("authors"))
        if isinstance(author, dict) and (name := clean_text(str(author.get("name") or "")))
    )
    upvotes = raw.get("upvotes")
    stars = raw.get("githubStars")
    abstract = clean_text(str(raw.get("summary") or item.get("summary") or ""))
    return make_paper(
        source,
        f"paper {one_line(raw_id, 40)}",
        id=paper_id,
        version=version,
        title=title,
        abstract=abstract,
        authors=authors,
        url=url,
        pdf_url=pdf,
        published=iso_datetime(raw.get("publishedAt") or item.get("publishedAt")),
        source=source,
        upvotes=_count(upvotes),
        code_url=code_repo_url(str(raw.get("githubRepo") or ""), abstract),
        stars=_count(stars) if raw.get("githubRepo") else None,
        hf_url=hf_paper_url(raw_id),
    )


def _count(value: Any) -> int | None:
    """A count as the API gives it: a number, not negative, clamped (`clamp_count`: the JSON
    reader turns an integer of more than 30 digits into infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return clamp_count(value)
