"""The HTML part: templates rendered, CSS inlined, and kept under the size where Gmail clips."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import css_inline

from agent.models import Digest
from agent.render.env import html_env
from agent.render.message import subject_line
from agent.render.view import build_view, plural, shrink_order

MAX_HTML_BYTES = 100_000


@cache
def _inliner() -> css_inline.CSSInliner:
    """Inlines email.css into style attributes; the template's own <style> (the @media rules,
    marked data-css-inline="ignore") stays in <head>, after <meta charset>."""
    env = html_env()
    assert env.loader is not None
    css, _, _ = env.loader.get_source(env, "email.css")
    return css_inline.CSSInliner(
        extra_css=css,
        keep_style_tags=True,
        minify_css=True,
        load_remote_stylesheets=False,
    )


@dataclass(frozen=True)
class RenderedHtml:
    html: str
    shrunk: int = 0  # blurbs shortened to titles to stay under the size cap
    also_new_cut: int = 0  # "also new" titles left out (only when shortening blurbs was not enough)

    @property
    def size(self) -> int:
        return len(self.html.encode("utf-8"))


def shrink_notice(shrunk: int, also_new_cut: int = 0) -> str:
    parts = []
    if shrunk:
        parts.append(f"{plural(shrunk, 'blurb was', 'blurbs were')} shortened to titles")
    if also_new_cut:
        parts.append(f"{plural(also_new_cut, 'title')} of “also new” papers were left out")
    return (
        f"To keep this email short, {' and '.join(parts)}; see digest.json or the archive for all."
    )


def _render(digest: Digest, shrunk: int, also_new_cut: int, subject: str) -> str:
    order = shrink_order(digest)
    notices = [shrink_notice(shrunk, also_new_cut)] if (shrunk or also_new_cut) else []
    view = build_view(
        digest,
        shrunk=order[:shrunk],
        also_new_limit=len(digest.also_new) - also_new_cut if also_new_cut else None,
        extra_notices=notices,
    )
    raw = html_env().get_template("email.html").render(v=view, subject=subject)
    return _inliner().inline(raw).rstrip("\n") + "\n"


def _size(html: str) -> int:
    return len(html.encode("utf-8"))


def render_html(digest: Digest, *, max_bytes: int = MAX_HTML_BYTES) -> RenderedHtml:
    """The email's HTML, under `max_bytes` if at all possible.

    When too large, the blurbs of the lowest-ranked papers (last papers of the last themes
    first) are shortened to titles, the fewest that fit (binary search); only if every blurb is
    shortened and it is still too large are "also new" titles cut from the end. Either way the
    email says so.
    """
    subject = subject_line(digest)
    html = _render(digest, 0, 0, subject)
    if _size(html) <= max_bytes:
        return RenderedHtml(html)

    total = len(shrink_order(digest))
    best = _render(digest, total, 0, subject)
    if _size(best) > max_bytes:
        return _cut_also_new(digest, max_bytes, total, subject, best)
    lo, hi = 1, total  # invariant: `hi` blurbs shortened fits
    while lo < hi:
        mid = (lo + hi) // 2
        candidate = _render(digest, mid, 0, subject)
        if _size(candidate) <= max_bytes:
            hi, best = mid, candidate
        else:
            lo = mid + 1
    return RenderedHtml(best, shrunk=hi)


def _cut_also_new(
    digest: Digest, max_bytes: int, shrunk: int, subject: str, fallback: str
) -> RenderedHtml:
    n = len(digest.also_new)
    if n == 0:
        return RenderedHtml(fallback, shrunk=shrunk)  # nothing more to cut; best effort
    best = _render(digest, shrunk, n, subject)
    if _size(best) > max_bytes:
        return RenderedHtml(best, shrunk=shrunk, also_new_cut=n)  # best effort
    lo, hi = 1, n
    while lo < hi:
        mid = (lo + hi) // 2
        candidate = _render(digest, shrunk, mid, subject)
        if _size(candidate) <= max_bytes:
            hi, best = mid, candidate
        else:
            lo = mid + 1
    return RenderedHtml(best, shrunk=shrunk, also_new_cut=hi)
