"""Links a paper carries besides its own pages: its code repository and its Hugging Face page.

A code repository is a GitHub or GitLab project URL (``https://github.com/OWNER/REPO``), taken
from the source's own field (Hugging Face's ``githubRepo``) or found in the abstract or the
arXiv comments ("Code is available at https://github.com/..."). Only the project root is kept,
so trailing punctuation and deep links (``/tree/main``) do not leak into the email.
"""

from __future__ import annotations

import re

_REPO_RE = re.compile(
    r"(?:https?://)?(?:www\.)?(?P<host>github\.com|gitlab\.com)/"
    r"(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9_.\-]{0,99}))/(?P<repo>[A-Za-z0-9_.\-]{1,100})",
    re.IGNORECASE,
)
# Paths under github.com that are not repositories.
_NOT_OWNERS = frozenset(
    {"about", "features", "orgs", "settings", "topics", "marketplace", "sponsors"}
)

HF_PAPERS = "https://huggingface.co/papers/"


def code_repo_url(*texts: str | None) -> str | None:
    """The first GitHub/GitLab project URL in the texts, as ``https://host/owner/repo``."""
    for text in texts:
        for match in _REPO_RE.finditer(text or ""):
            owner = match.group("owner")
            repo = match.group("repo").rstrip(".-_")
            if repo.lower().endswith(".git"):
                repo = repo[:-4]
            if not repo or owner.lower() in _NOT_OWNERS:
                continue
            host = match.group("host").lower()
            return f"https://{host}/{owner}/{repo}"
    return None


def hf_paper_url(paper_id: str) -> str:
    """The paper's page on Hugging Face (``https://huggingface.co/papers/2606.00467``)."""
    return HF_PAPERS + paper_id
