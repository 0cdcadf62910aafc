"""The one link policy: every URL in any output (email, text, Markdown, Slack, Discord,
digest.json) is built here from parts that passed a pattern, never copied from a source or the
model as text.

The kinds of link there are: an arXiv paper (abstract page and PDF, from an arXiv id), a
Hugging Face paper page (from a paper id), a Semantic Scholar paper page (from its 40-hex id)
and a code repository on GitHub or GitLab (``https://github.com/OWNER/REPO``). `link_from`
takes a URL of unknown origin (a paper file, a stored paper) and returns the same link rebuilt
from its validated parts, or None: `javascript:`, `file:`, other sites, and ids carrying link
syntax (``x|Click>``, ``y)[Click](…)``, ``x"><script>``) never reach an output.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

ARXIV_ABS = "https://arxiv.org/abs/"
ARXIV_PDF = "https://arxiv.org/pdf/"
HF_PAPERS = "https://huggingface.co/papers/"
S2_PAPER = "https://www.semanticscholar.org/paper/"

# New style (since 2007-04): YYMM.NNNN (to 2014) or YYMM.NNNNN (from 2015); old style
# archive[.SUBJ]/YYMMNNN (astro-ph/0601001, math.GT/0309136). The archive and subject names
# are short: bounded, a search over a long run of letters stays linear.
ARXIV_ID = r"\d{4}\.\d{4,5}|[a-z][a-z\-]{0,15}(?:\.[A-Za-z\-]{2,8})?/\d{7}"
_ARXIV = re.compile(rf"(?P<id>{ARXIV_ID})(?:v(?P<version>\d{{1,3}}))?")
# A Hugging Face paper id: an arXiv id, or the site's own (letters, digits, dot, dash, _).
_HF_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?")
_S2_ID = re.compile(r"[0-9a-f]{40}")
_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,98}[A-Za-z0-9_])?")
_REPO = re.compile(r"[A-Za-z0-9_.-]{1,100}")
CODE_HOSTS = ("github.com", "gitlab.com")
# Paths under github.com that are not repositories.
_NOT_OWNERS = frozenset(
    {"about", "features", "orgs", "settings", "topics", "marketplace", "sponsors"}
)


def is_arxiv_id(text: str) -> bool:
    """True when `text` is exactly an arXiv id, without a version."""
    match = _ARXIV.fullmatch(text)
    return match is not None and match.group("version") is None


def arxiv_abs_url(arxiv_id: str) -> str | None:
    """The abstract page (unversioned: always the latest), or None for a malformed id."""
    return f"{ARXIV_ABS}{arxiv_id}" if is_arxiv_id(arxiv_id) else None


def arxiv_pdf_url(arxiv_id: str, version: int | None = None) -> str | None:
    """The PDF of one version (of the latest when version is None), or None."""
    if not is_arxiv_id(arxiv_id) or (version is not None and not 0 < version < 1000):
        return None
    return f"{ARXIV_PDF}{arxiv_id}" + (f"v{version}" if version else "")


def is_hf_paper_id(text: str) -> bool:
    return _HF_ID.fullmatch(text) is not None and ".." not in text


def hf_paper_url(paper_id: str) -> str | None:
    """The paper's page on Hugging Face (``https://huggingface.co/papers/2606.00467``)."""
    return f"{HF_PAPERS}{paper_id}" if is_hf_paper_id(paper_id) else None


def s2_paper_url(paper_id: str) -> str | None:
    """The paper's page on Semantic Scholar, from its 40-hex paperId."""
    return f"{S2_PAPER}{paper_id}" if _S2_ID.fullmatch(paper_id) else None


def repo_url(host: str, owner: str, repo: str) -> str | None:
    """``https://github.com/OWNER/REPO`` (or gitlab.com), or None when a part is not a name."""
    host = host.lower()
    repo = repo.rstrip(".-_")
    if repo.lower().endswith(".git"):
        repo = repo[:-4]
    if (
        host not in CODE_HOSTS
        or not _OWNER.fullmatch(owner)
        or not _REPO.fullmatch(repo)
        or repo in (".", "..")
        or owner.lower() in _NOT_OWNERS
    ):
        return None
    return f"https://{host}/{owner}/{repo}"


def link_from(url: object) -> str | None:
    """`url` rebuilt from its validated parts when it is a link of a known kind (see the module
    doc), else None (a non-string from a source's JSON too). Never raises."""
    if not isinstance(url, str) or not url or len(url) > 2_000 or not url.isascii():
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.scheme.lower() not in ("http", "https") or parts.username or parts.password:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if host in ("arxiv.org", "export.arxiv.org") and len(segments) >= 2:
        kind, rest = segments[0], "/".join(segments[1:]).removesuffix(".pdf")
        match = _ARXIV.fullmatch(rest)
        if match is None:
            return None
        version = int(match.group("version")) if match.group("version") else None
        if kind == "abs":
            return arxiv_abs_url(match.group("id"))
        return arxiv_pdf_url(match.group("id"), version) if kind == "pdf" else None
    if host == "huggingface.co" and len(segments) == 2 and segments[0] == "papers":
        return hf_paper_url(segments[1])
    if host == "semanticscholar.org" and len(segments) in (2, 3) and segments[0] == "paper":
        return s2_paper_url(segments[-1])
    if host in CODE_HOSTS and len(segments) >= 2:
        return repo_url(host, segments[0], segments[1])
    return None


__all__ = [
    "ARXIV_ID",
    "CODE_HOSTS",
    "arxiv_abs_url",
    "arxiv_pdf_url",
    "hf_paper_url",
    "is_arxiv_id",
    "is_hf_paper_id",
    "link_from",
    "repo_url",
    "s2_paper_url",
]
