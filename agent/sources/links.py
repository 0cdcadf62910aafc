"""Links a paper carries besides its own pages: its code repository and its Hugging Face page.

A code repository is a GitHub or GitLab project URL (``https://github.com/OWNER/REPO``), taken
from the source's own field (Hugging Face's ``githubRepo``) or found in the abstract or the
arXiv comments ("Code is available at https://github.com/..."). Only the project root is kept,
so trailing punctuation and deep links (``/tree/main``) do not leak into the email.
"""

from __future__ import annotations

import re

from agent.core import links

_REPO_RE = re.compile(
    r"(?:https?://)?(?:www\.)?(?P<host>github\.com|gitlab\.com)/"
    r"(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9_.\-]{0,99}))/(?P<repo>[A-Za-z0-9_.\-]{1,100})",
    re.IGNORECASE,
)


def code_repo_url(*texts: str | None) -> str | None:
    """The first GitHub/GitLab project URL in the texts, as ``https://host/owner/repo`` (built
    by the link policy, `agent.core.links.repo_url`, from the validated parts)."""
    for text in texts:
        for match in _REPO_RE.finditer(text or ""):
            url = links.repo_url(match.group("host"), match.group("owner"), match.group("repo"))
            if url is not None:
                return url
    return None


hf_paper_url = links.hf_paper_url
is_hf_paper_id = links.is_hf_paper_id
