"""The offline summarize engine (no model): `engine` groups and writes; the other modules are
its parts: `text` (term analysis), `vectors` (TF-IDF, LSA), `grouping` and `daygroups` (the
clustering), `phrases` (theme titles), `blurbs` (sentences), `background` (term frequencies)."""

from agent.summarize.drafts import OTHER_TITLE, ThemeDraft
from agent.summarize.offline.engine import (
    OfflineEngine,
    group_papers,
    nearest_themes,
    write_blurb,
    write_headline,
    write_overview,
    write_theme_summary,
    write_theme_title,
)

__all__ = [
    "OTHER_TITLE",
    "OfflineEngine",
    "ThemeDraft",
    "group_papers",
    "nearest_themes",
    "write_blurb",
    "write_headline",
    "write_overview",
    "write_theme_summary",
    "write_theme_title",
]
