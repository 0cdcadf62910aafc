"""The Jinja2 environments: HTML (autoescape on) and plain text (no escaping, wrap filter).

Templates are package data (`agent/render/templates`), loaded with PackageLoader, so they are
found the same way in a checkout and in an installed wheel. Each environment keeps its compiled
templates in the user's cache directory (`agent.render.template_cache`).
"""

from __future__ import annotations

import textwrap
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from agent.render.template_cache import template_cache

TEXT_WIDTH = 72


class _UrlKeepingWrapper(textwrap.TextWrapper):
    """A TextWrapper that breaks long words, except URLs, which go whole onto their own line."""

    def _handle_long_word(self, reversed_chunks, cur_line, cur_len, width):  # type: ignore[no-untyped-def]
        chunk = reversed_chunks[-1]
        if chunk.startswith(("http://", "https://")):
            if not cur_line:
                cur_line.append(reversed_chunks.pop())
            return
        super()._handle_long_word(reversed_chunks, cur_line, cur_len, width)


def wrap(
    text: str | None, indent: str = "", first: str | None = None, width: int = TEXT_WIDTH
) -> str:
    """Fold text to `width` columns; `first` replaces the indent on the first line (bullets)."""
    text = " ".join((text or "").split())
    if not text:
        return ""
    wrapper = _UrlKeepingWrapper(
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_on_hyphens=False,  # never split a URL or an id at a hyphen
        break_long_words=True,
    )
    return "\n".join(wrapper.wrap(text))


def url_line(url: str | None, indent: str = "") -> str:
    """A URL on its own line, never cut."""
    return f"{indent}{url}" if url else ""


@cache
def html_env() -> Environment:
    env = Environment(
        loader=PackageLoader("agent.render", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=template_cache("html"),
    )
    return env


@cache
def text_env() -> Environment:
    env = Environment(
        loader=PackageLoader("agent.render", "templates"),
        autoescape=False,  # plain text: nothing is HTML here
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=template_cache("text"),
    )
    env.filters["wrap"] = wrap
    env.filters["url_line"] = url_line
    return env
