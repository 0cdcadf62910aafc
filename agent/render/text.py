"""The plain-text part: the same content as the HTML, folded at 72 columns."""

from __future__ import annotations

import re

from agent.models import Digest
from agent.render.env import text_env
from agent.render.message import subject_line
from agent.render.view import DigestView, build_view

_BLANK_RUNS = re.compile(r"\n{3,}")


def render_text(digest: Digest, view: DigestView | None = None) -> str:
    """Plain text, every line at most 72 columns except a URL that cannot be broken.

    `view` (default: the whole digest) is how `render.email` shortens it to fit its cap."""
    view = view or build_view(digest)
    text = text_env().get_template("email.txt").render(v=view, subject=subject_line(digest))
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return _BLANK_RUNS.sub("\n\n", text).strip("\n") + "\n"
