"""A Markdown rendering of a digest (for `digest topic --format md` and notes apps)."""

from __future__ import annotations

import re
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from agent.models import Digest
from agent.render.message import subject_line
from agent.render.view import PaperView, build_view

_SPECIAL = re.compile(r"([\\`*_\[\]{}<>#|!])")


def md_escape(text: str | None) -> str:
    """Untrusted text as literal Markdown: no links, emphasis, HTML or headings of its own."""
    return _SPECIAL.sub(r"\\\1", " ".join((text or "").split()))


def md_links(paper: PaperView) -> str:
    """The paper's links (built from validated ids by the view) and its facts, on one line."""
    links = [f"[{link.label}](<{link.url}>)" for link in paper.links]
    return " · ".join(links + ([md_escape(paper.facts)] if paper.facts else []))


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("agent.render", "templates"),
        autoescape=False,  # Markdown: untrusted text goes through the `md` filter
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md_escape
    env.filters["md_links"] = md_links
    return env


def render_markdown(digest: Digest) -> str:
    view = build_view(digest)
    text = _env().get_template("digest.md").render(v=view, subject=subject_line(digest))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
