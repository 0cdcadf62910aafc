"""The HTML part: templates rendered, CSS inlined, and kept under the size where Gmail clips."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

import css_inline

from agent.models import Digest
from agent.render.env import html_env
from agent.render.message import subject_line
from agent.render.view import DigestView, build_view, plural, shrink_order

MAX_HTML_BYTES = 100_000
T = TypeVar("T")


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


def view_of(digest: Digest, shrunk: int, also_new_cut: int) -> DigestView:
    """The view with the `shrunk` lowest-ranked blurbs cut to titles and `also_new_cut` "also
    new" titles left out, saying so."""
    order = shrink_order(digest)
    notices = [shrink_notice(shrunk, also_new_cut)] if (shrunk or also_new_cut) else []
    return build_view(
        digest,
        shrunk=order[:shrunk],
        also_new_limit=len(digest.also_new) - also_new_cut if also_new_cut else None,
        extra_notices=notices,
    )


def html_of(view: DigestView, subject: str) -> str:
    raw = html_env().get_template("email.html").render(v=view, subject=subject)
    return _inliner().inline(raw).rstrip("\n") + "\n"


def _size(html: str) -> int:
    return len(html.encode("utf-8"))


Render = Callable[[int, int], T]
Fits = Callable[[T], bool]


def fit(digest: Digest, render: Render[T], fits: Fits[T]) -> tuple[T, int, int]:
    """Render with the fewest blurbs shortened (then "also new" titles cut) that `fits`.

    Blurbs of the lowest-ranked papers (last papers of the last themes first) are shortened to
    titles, the fewest that fit (binary search); only if every blurb is shortened and it still
    does not fit are "also new" titles cut from the end. Returns (result, shrunk, cut); the
    best effort when nothing fits.
    """
    best = render(0, 0)
    if fits(best):
        return best, 0, 0
    total = len(shrink_order(digest))
    best = render(total, 0)
    if not fits(best):
        return _cut_also_new(digest, render, fits, total, best)
    lo, hi = 1, total  # invariant: `hi` blurbs shortened fits
    while lo < hi:
        mid = (lo + hi) // 2
        candidate = render(mid, 0)
        if fits(candidate):
            hi, best = mid, candidate
        else:
            lo = mid + 1
    return best, hi, 0


def _cut_also_new(
    digest: Digest, render: Render[T], fits: Fits[T], shrunk: int, fallback: T
) -> tuple[T, int, int]:
    n = len(digest.also_new)
    if n == 0:
        return fallback, shrunk, 0  # nothing more to cut; best effort
    best = render(shrunk, n)
    if not fits(best):
        return best, shrunk, n  # best effort
    lo, hi = 1, n
    while lo < hi:
        mid = (lo + hi) // 2
        candidate = render(shrunk, mid)
        if fits(candidate):
            hi, best = mid, candidate
        else:
            lo = mid + 1
    return best, shrunk, hi


def render_html(digest: Digest, *, max_bytes: int = MAX_HTML_BYTES) -> RenderedHtml:
    """The email's HTML, under `max_bytes` if at all possible (see `fit`); the email says
    what was shortened."""
    subject = subject_line(digest)
    html, shrunk, cut = fit(
        digest,
        lambda s, c: html_of(view_of(digest, s, c), subject),
        lambda html: _size(html) <= max_bytes,
    )
    return RenderedHtml(html, shrunk=shrunk, also_new_cut=cut)
