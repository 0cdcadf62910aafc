"""Sources: turn a source spec such as `sample`, `file:PATH` or `arxiv-rss:cs.CL` into a Source."""

from __future__ import annotations

import difflib
import importlib
from typing import TYPE_CHECKING, Any

from agent.errors import ConfigError

if TYPE_CHECKING:
    from agent.sources.base import FetchContext, Source

# spec prefix -> (module, class); the argument after "prefix:" goes to the constructor.
_REGISTRY: dict[str, tuple[str, str]] = {
    "sample": ("agent.sources.local", "SampleSource"),
    "local": ("agent.sources.local", "StoredPapersSource"),
    "file": ("agent.sources.local", "FileSource"),
    "arxiv-rss": ("agent.sources.arxiv_rss", "ArxivRssSource"),
    "arxiv": ("agent.sources.arxiv_api", "ArxivApiSource"),
    "hf-daily": ("agent.sources.hf_daily", "HfDailySource"),
    "s2": ("agent.sources.semantic_scholar", "SemanticScholarSource"),
}
_NEEDS_ARGUMENT = {"file", "arxiv-rss", "arxiv", "s2"}
_TAKES_NO_ARGUMENT = {"sample", "local"}

SOURCE_HELP = (
    "sample (the bundled demo day), local (papers of earlier digests), file:PATH (.jsonl/.json), arxiv-rss:CATS (e.g. cs.CL+cs.LG), "
    "arxiv:QUERY (arXiv API search), hf-daily[:YYYY-MM-DD] (Hugging Face daily papers), "
    "s2:QUERY (Semantic Scholar search)"
)


def make_source(spec: str) -> Source:
    """Build the source a spec names; ConfigError for an unknown or incomplete spec."""
    prefix, has_argument, argument = spec.strip().partition(":")
    if prefix not in _REGISTRY:
        close = difflib.get_close_matches(prefix, list(_REGISTRY), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(f"unknown source {spec!r}; {hint}known: {SOURCE_HELP}")
    if prefix in _NEEDS_ARGUMENT and not argument.strip():
        raise ConfigError(f"source {prefix!r} needs an argument: {prefix}:…  ({SOURCE_HELP})")
    if prefix in _TAKES_NO_ARGUMENT and has_argument:
        raise ConfigError(f"source {prefix!r} takes no argument")
    module_name, class_name = _REGISTRY[prefix]
    try:
        source_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise ConfigError(f"source {prefix!r} is not available in this version") from None
    if prefix in _TAKES_NO_ARGUMENT:
        return source_class()
    source: Source = source_class(argument.strip() or None)
    return source


def __getattr__(name: str) -> Any:
    """FetchContext and Source load the models only when asked for (keeps `digest --help` fast)."""
    if name in ("FetchContext", "Source"):
        from agent.sources import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SOURCE_HELP", "FetchContext", "Source", "make_source"]
