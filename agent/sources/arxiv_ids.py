"""arXiv identifiers: find the id and version in any of the forms the feeds use, build URLs.

Forms seen in the feeds: ``2604.22002v1`` (RSS description, after ``arXiv:``),
``oai:arXiv.org:2604.22002v1`` (RSS guid), ``http://arxiv.org/abs/2202.12139v1`` (API entry id),
``https://arxiv.org/pdf/astro-ph/0601001v1`` (API pdf link), ``2606.00467`` (Hugging Face).
Old-style ids are ``archive[.SUBJ]/YYMMNNN`` (``astro-ph/0601001``, ``math.GT/0309136``).
"""

from __future__ import annotations

import re

# New style (since 2007-04): YYMM.NNNN (to 2014) or YYMM.NNNNN (from 2015).
_NEW = r"\d{4}\.\d{4,5}"
# Old style: archive name, optional subject class, slash, YYMMNNN.
_OLD = r"[a-z][a-z\-]*(?:\.[A-Za-z\-]{2,})?/\d{7}"
_ID_RE = re.compile(rf"(?<![\w.])(?P<id>{_NEW}|{_OLD})(?:v(?P<version>\d+))?(?![\w])")
_EXACT_RE = re.compile(rf"(?:{_NEW}|{_OLD})")

ABS_BASE = "https://arxiv.org/abs/"
PDF_BASE = "https://arxiv.org/pdf/"


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


def abs_url(arxiv_id: str) -> str:
    """The abstract page, unversioned: always shows the latest version."""
    return f"{ABS_BASE}{arxiv_id}"


def pdf_url(arxiv_id: str, version: int | None = None) -> str:
    """The PDF of one version (or of the latest when version is None)."""
    return f"{PDF_BASE}{arxiv_id}" + (f"v{version}" if version else "")
