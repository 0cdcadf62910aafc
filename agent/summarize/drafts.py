"""Types both engines share: a theme as grouped, before its blurbs are written."""

from __future__ import annotations

from dataclasses import dataclass

from agent.models import OTHER_THEME

OTHER_TITLE = OTHER_THEME

__all__ = ["OTHER_TITLE", "ThemeDraft"]


@dataclass(frozen=True)
class ThemeDraft:
    title: str
    summary: str
    paper_ids: tuple[str, ...]
