"""The short-text steps: the headline ("today at a glance") and the topic overview. Each is one
call over the themes (not the abstracts). A topic's search queries are in `query_expansion`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent.models import Paper
from agent.summarize import offline
from agent.summarize.drafts import ThemeDraft
from agent.summarize.llm.asking.ask import Asker, Question, Reply
from agent.summarize.llm.asking.prompts import untrusted
from agent.summarize.llm.asking.repair import clip, whole_sentences
from agent.summarize.llm.asking.schemas import (
    HEADLINE_CHARS,
    OVERVIEW_CHARS,
    Headline,
    LenientHeadline,
    LenientOverview,
    Overview,
)
from agent.summarize.llm.chat import ChatModel

HEADLINE_OUTPUT_TOKENS = HEADLINE_CHARS // 3 + 40
OVERVIEW_OUTPUT_TOKENS = OVERVIEW_CHARS // 3 + 40
OVERVIEW_TITLES_PER_THEME = (8, 3, 0)  # tried in turn until the prompt fits the budget


@dataclass(frozen=True)
class _ThemeView:
    title: str
    summary: str
    count: int
    titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeadlineInput:
    themes: tuple[ThemeDraft, ...]
    papers_by_id: Mapping[str, Paper]
    topic: str | None = None  # a topic digest is not "today's" news
    chosen_from: int | None = None  # the new papers (topic matches) the themes are some of


@dataclass(frozen=True)
class OverviewInput:
    topic: str
    themes: tuple[ThemeDraft, ...]
    papers_by_id: Mapping[str, Paper]
    chosen_from: int | None = None  # the topic's matches, when the themes hold only some


def _whole(data: HeadlineInput | OverviewInput) -> int | None:
    """How many papers the themes were chosen from, when that is more than they hold."""
    held = sum(len(t.paper_ids) for t in data.themes)
    return data.chosen_from if data.chosen_from is not None and data.chosen_from > held else None


def _views(
    themes: Sequence[ThemeDraft], by_id: Mapping[str, Paper], titles: int = 0
) -> list[_ThemeView]:
    return [
        _ThemeView(
            untrusted(t.title),
            untrusted(t.summary),
            len(t.paper_ids),
            tuple(untrusted(by_id[i].title) for i in t.paper_ids[:titles] if i in by_id),
        )
        for t in themes
    ]


def _facts(data: HeadlineInput | OverviewInput) -> str:
    """What a headline or overview may name: the digest's themes and papers, its counts and its
    topic."""
    parts = [data.topic or "", str(sum(len(t.paper_ids) for t in data.themes))]
    parts.append(str(len(data.themes)))
    if _whole(data) is not None:
        parts.append(str(_whole(data)))
    for theme in data.themes:
        parts += [theme.title, theme.summary, str(len(theme.paper_ids))]
        for pid in theme.paper_ids:
            paper = data.papers_by_id.get(pid)
            if paper is not None:
                parts += [paper.title, paper.abstract]
    return "\n".join(parts)


def _text(reply: Reply, text: str, limit: int, step: str) -> str:
    text = clip(text, limit)
    if not text:
        raise reply.unusable(f"{step}: empty answer")
    return text


class HeadlineWriter:
    """Headline and overview with a model; the offline counterparts beside them."""

    def __init__(self, asker: Asker) -> None:
        self.asker = asker

    def headline_question(self, data: HeadlineInput) -> Question:
        user = self.asker.prompts.render(
            "headline",
            themes=_views(data.themes, data.papers_by_id),
            paper_count=sum(len(t.paper_ids) for t in data.themes),
            chosen_from=_whole(data),
            topic=untrusted(data.topic) if data.topic else None,
        )
        return Question(
            step="headline",
            prompt="headline",
            user=user,
            schema=Headline,
            lenient=LenientHeadline,
            max_output_tokens=self.asker.output_tokens(HEADLINE_OUTPUT_TOKENS),
            facts=_facts(data),
        )

    async def headline(self, model: ChatModel, data: HeadlineInput) -> str:
        reply = await self.asker.ask(model, self.headline_question(data))
        return _text(reply, reply.value.headline, HEADLINE_CHARS, "headline")

    @staticmethod
    def offline_headline(data: HeadlineInput) -> str:
        return offline.write_headline(
            data.themes, data.papers_by_id, topic=data.topic, chosen_from=data.chosen_from
        )

    def overview_question(self, data: OverviewInput) -> Question:
        out = self.asker.output_tokens(OVERVIEW_OUTPUT_TOKENS)
        for titles in OVERVIEW_TITLES_PER_THEME:
            user = self.asker.prompts.render(
                "overview",
                topic=untrusted(data.topic),
                themes=_views(data.themes, data.papers_by_id, titles),
                paper_count=sum(len(t.paper_ids) for t in data.themes),
                chosen_from=_whole(data),
            )
            if self.asker.fits(user, out):
                break
        return Question(
            step="overview",
            prompt="overview",
            facts=_facts(data),
            user=user,
            schema=Overview,
            lenient=LenientOverview,
            max_output_tokens=out,
        )

    async def overview(self, model: ChatModel, data: OverviewInput) -> str:
        reply = await self.asker.ask(model, self.overview_question(data))
        # Never shown cut: an answer cut off by its output limit was asked again with more room
        # (`Asker.answer`), then fell back; one cut by a length bound (a server's grammar stops
        # the string at maxLength) or clipped here keeps its whole sentences, each said once.
        text = whole_sentences(clip(reply.value.overview, OVERVIEW_CHARS))  # clipped, then whole
        if not text:
            raise reply.unusable("overview: no whole sentence in the answer")
        return _text(reply, text, OVERVIEW_CHARS, "overview")

    @staticmethod
    def offline_overview(data: OverviewInput) -> str:
        return offline.write_overview(
            data.topic, data.themes, data.papers_by_id, chosen_from=data.chosen_from
        )


__all__ = ["HeadlineInput", "HeadlineWriter", "OverviewInput"]
