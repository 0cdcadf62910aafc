"""digest.json: the whole digest as plain JSON data (schema_version 1), for archive and tools.

Links go through the same link policy as the email (`agent.core.links`: rebuilt from
validated ids), and prose the engines wrote has its addresses made inert as in the email;
there is nothing secret in a Digest, and nothing here adds any.
"""

from __future__ import annotations

from typing import Any

from agent.core.defang import defang
from agent.core.links import link_from
from agent.models import Digest, Paper
from agent.render.view import paper_links

SCHEMA_VERSION = 1


def _inert(text: str | None) -> str | None:
    """Written prose with its addresses made inert (`agent.core.defang`), as in the email."""
    return defang(text) if text else text


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
        "url": link_from(paper.url),
        "pdf_url": link_from(paper.pdf_url),
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
                "blurb": defang(pb.blurb),
                "why_it_matters": _inert(pb.why_it_matters),
                "url": link_from(paper.url) if paper else None,
                "pdf_url": link_from(paper.pdf_url) if paper else None,
                "categories": list(paper.categories) if paper else [],
                "published": paper.published.isoformat() if paper and paper.published else None,
                "source": paper.source if paper else None,
                "engine": pb.engine,
                "checks": {c.name: {"status": c.status, "caught": c.caught} for c in pb.checks},
                "why": digest.why.get(pb.paper_id),
                **_links_and_facts(paper),
            }
            entries.append(entry)
        themes.append(
            {
                "title": defang(theme.title),
                "summary": defang(theme.summary),
                "engine": theme.engine,
                "title_engine": theme.title_engine,
                "degraded": theme.degraded,
                "papers": entries,
            }
        )
    yours = set(digest.yours)
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": digest.kind,
        "date": digest.date.isoformat(),
        "topic": digest.topic,
        "engine": digest.engine,
        "headline": defang(digest.headline),
        "overview": _inert(digest.overview),
        "paper_count": digest.paper_count,
        "themes": themes,
        "also_new": [
            {**_paper_ref(pid, digest.papers), "in_your_library": pid in yours}
            for pid in digest.also_new
        ],
        "updated": [_paper_ref(pid, digest.papers) for pid in digest.updated],
        "health": [h.model_dump(mode="json") for h in digest.health],
        "degraded": [n.model_dump(mode="json") for n in digest.degraded],
        "notices": list(digest.notices),
        "usage": digest.usage.model_dump(mode="json"),
        "prompt_versions": dict(digest.prompt_versions),
        "hint": digest.hint,
        "model": digest.model_run.model_dump(mode="json") if digest.model_run else None,
    }
