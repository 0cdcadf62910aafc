"""arXiv identifiers: find the id and version in any of the forms the feeds use, build URLs.

Forms seen in the feeds: ``2604.22002v1`` (RSS description, after ``arXiv:``),
``oai:arXiv.org:2604.22002v1`` (RSS guid), ``http://arxiv.org/abs/2202.12139v1`` (API entry id),
``https://arxiv.org/pdf/astro-ph/0601001v1`` (API pdf link), ``2606.00467`` (Hugging Face).
Old-style ids are ``archive[.SUBJ]/YYMMNNN`` (``astro-ph/0601001``, ``math.GT/0309136``).
"""

from __future__ import annotations

import re

from agent.core import links

# New style YYMM.NNNN(N), old style archive[.SUBJ]/YYMMNNN: the link policy's pattern.
_ID_RE = re.compile(rf"(?<![\w.])(?P<id>{links.ARXIV_ID})(?:v(?P<version>\d{{1,3}}))?(?![\w])")
_EXACT_RE = re.compile(links.ARXIV_ID)

ABS_BASE = links.ARXIV_ABS
PDF_BASE = links.ARXIV_PDF


def parse_arxiv_id(text: str) -> tuple[str, int | None]:
    """Return (id without version, version or None) from any arXiv id form; ValueError if none."""
    match = _ID_RE.search(text.strip())
    if match is None:
        raise ValueError(f"no arXiv id in {text!r}")
    version = match.group("version")
    return match.group("id"), int(version) if version else None


def find_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """Like parse_arxiv_id, but None when the text holds no arXiv id."""
    try:
        return parse_arxiv_id(text)
    except ValueError:
        return None


def is_arxiv_id(text: str) -> bool:
    """True when text is exactly an arXiv id (no version, no prefix)."""
    return _EXACT_RE.fullmatch(text.strip()) is not None


def abs_url(arxiv_id: str) -> str | None:
    """The abstract page, unversioned: always shows the latest version (the link policy,
    `agent.core.links`, builds it; None for a malformed id)."""
    return links.arxiv_abs_url(arxiv_id)


def pdf_url(arxiv_id: str, version: int | None = None) -> str | None:
    """The PDF of one version (or of the latest when version is None); None for a bad id."""
    return links.arxiv_pdf_url(arxiv_id, version)
