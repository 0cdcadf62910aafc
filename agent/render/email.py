"""Both parts of the email, shortened together until each fits its cap.

The HTML and the plain text stay under `max_part_bytes` (100 KB by default, where Gmail clips
HTML), and the whole message (.eml: both parts, quoted-printable, headers) under
`max_message_bytes`. What is shortened is the same in both parts: the lowest-ranked blurbs
become titles, then "also new" titles are cut, and the email says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.models import Digest
from agent.render.html import MAX_HTML_BYTES, fit, html_of, view_of
from agent.render.message import build_message, subject_line
from agent.render.text import render_text

HEADER_ROOM = 4_000  # sender, recipients, List-Unsubscribe: added after the fit


@dataclass(frozen=True)
class RenderedEmail:
    html: str
    text: str
    shrunk: int = 0
    also_new_cut: int = 0


def default_message_cap(max_part_bytes: int) -> int:
    """Room for both parts: quoted-printable can make non-ASCII text up to 3 times longer."""
    return 3 * max_part_bytes


def render_email(
    digest: Digest,
    *,
    max_part_bytes: int = MAX_HTML_BYTES,
    max_message_bytes: int | None = None,
) -> RenderedEmail:
    """HTML and text parts, both under `max_part_bytes`, the message under its cap."""
    message_cap = max_message_bytes or default_message_cap(max_part_bytes)
    subject = subject_line(digest)

    def render(shrunk: int, cut: int) -> tuple[str, str]:
        view = view_of(digest, shrunk, cut)
        return html_of(view, subject), render_text(digest, view)

    def fits(parts: tuple[str, str]) -> bool:
        html, text = parts
        if max(len(html.encode()), len(text.encode())) > max_part_bytes:
            return False
        size = len(build_message(digest, html, text).as_bytes())
        return size + HEADER_ROOM <= message_cap

    (html, text), shrunk, cut = fit(digest, render, fits)
    return RenderedEmail(html, text, shrunk=shrunk, also_new_cut=cut)
