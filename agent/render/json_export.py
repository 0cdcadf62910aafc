"""digest.json: the whole digest as plain JSON data (schema_version 1), for archive and tools.

Links go through the same filter as the email (only http(s)); there is nothing secret in a
Digest, and nothing here adds any.
"""

from __future__ import annotations

from typing import Any

from agent.models import Digest, Paper
from agent.render.view import paper_links, safe_url

SCHEMA_VERSION = 1


def _paper_ref(paper_id: str, papers: dict[str, Paper]) -> dict[str, Any]:
    paper = papers.get(paper_id)
    if paper is None:
        return {"id": paper_id, "title": None, "url": None}
    return {
        "id": paper.id,
        "version": paper.version,
        "source": paper.source,
        "title": paper.title,
        "authors": list(paper.authors),
        "url": safe_url(paper.url),
        "pdf_url": safe_url(paper.pdf_url),
        **_links_and_facts(paper),
    }


def _links_and_facts(paper: Paper | None) -> dict[str, Any]:
    """`links` (abstract, pdf, code, huggingface: those known, http(s) only), upvotes, stars."""
    if paper is None:
        return {"links": {}, "upvotes": None, "stars": None}
    return {
        "links": paper_links(paper),
        "upvotes": paper.upvotes,
        "stars": paper.stars if paper.code_url else None,
    }


def digest_to_json(digest: Digest) -> dict[str, Any]:
    """A JSON-ready dict of the digest; `json.dumps` works on it as is."""
    themes = []
    for theme in digest.themes:
        entries = []
        for pb in theme.papers:
            paper = digest.papers.get(pb.paper_id)
            entry: dict[str, Any] = {
                "id": pb.paper_id,
                "version": paper.version if paper else None,
                "title": paper.title if paper else None,
                "authors": list(paper.authors) if paper else [],
                "blurb": pb.blurb,
                "why_it_matters": pb.why_it_matters,
                "url": safe_url(paper.url) if paper else None,
                "pdf_url": safe_url(paper.pdf_url) if paper else None,
                "categories": list(paper.categories) if paper else [],
                "published": paper.published.isoformat() if paper and paper.published else None,
                "source": paper.source if paper else None,
                "engine": pb.engine,
                "why": digest.why.get(pb.paper_id),
                **_links_and_facts(paper),
            }
            entries.append(entry)
        themes.append(
            {
                "title": theme.title,
                "summary": theme.summary,
                "engine": theme.engine,
                "title_engine": theme.title_engine,
                "degraded": theme.degraded,
                "papers": entries,
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": digest.kind,
        "date": digest.date.isoformat(),
        "topic": digest.topic,
        "engine": digest.engine,
        "headline": digest.headline,
        "overview": digest.overview,
        "paper_count": digest.paper_count,
        "themes": themes,
        "also_new": [_paper_ref(pid, digest.papers) for pid in digest.also_new],
        "updated": [_paper_ref(pid, digest.papers) for pid in digest.updated],
        "health": [h.model_dump(mode="json") for h in digest.health],
        "degraded": [n.model_dump(mode="json") for n in digest.degraded],
        "notices": list(digest.notices),
        "usage": digest.usage.model_dump(mode="json"),
        "prompt_versions": dict(digest.prompt_versions),
        "hint": digest.hint,
        "model": digest.model_run.model_dump(mode="json") if digest.model_run else None,
    }
