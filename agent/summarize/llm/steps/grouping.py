"""The grouping step: papers into at most 12 themes, map-reduce when one call cannot hold them.

One call sees each paper as a short id (P1..Pn), its title and a gist: the abstract's first
sentence that says what the authors did ("we propose ...", "this paper ..."), else its first
sentence, trimmed to GIST_TOKENS (opening sentences are often generic background). When the papers do not fit one call (input budget, or more
than MAX_PAPERS_PER_CALL ids), they are grouped in balanced batches, each its own call (run
concurrently), and a merge call joins the batch themes (short ids T1..Tm, title and summary
each) into at most 12 themes that the code maps back to papers. A merge too big for one call is
itself done in rounds.

An answer that still breaks "each paper exactly once" after the re-asks is repaired
(`repair.clean_groups` + `repair.place_leftovers`) and noted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent.core.tasks import gather_or_cancel
from agent.models import DegradedNote, Paper
from agent.summarize import offline
from agent.summarize.drafts import ThemeDraft
from agent.summarize.llm.asking.ask import Asker, Question, Reply
from agent.summarize.llm.asking.prompts import PromptPaper, untrusted
from agent.summarize.llm.asking.repair import Fixes, Group, clean_groups, clip, place_leftovers
from agent.summarize.llm.asking.schemas import (
    MAX_THEMES,
    SUMMARY_CHARS,
    TITLE_CHARS,
    LenientGrouping,
    grouping_schema,
    max_themes_for,
    short_ids,
)
from agent.summarize.llm.asking.sizing import ID_TOKENS, plan_calls
from agent.summarize.llm.chat import ChatModel
from agent.summarize.offline.blurbs import split_sentences

GIST_TOKENS = 12
_CONTRIBUTION_MARKERS = ("we ", "this paper", "this work", "here ", "our ")
_LEAD_INS = tuple(
    f"{where} {what}"
    for where in ("in this", "within this", "through this")
    for what in ("paper", "work", "study", "report", "article", "technical report")
) + ("here",)
MAX_PAPERS_PER_CALL = 200  # ids in one enum (OpenAI strict mode caps enum sizes)
MIN_PAPERS_PER_CALL = 20
ID_OUTPUT_TOKENS = 6  # an id in the answer: "P123",
MAX_MERGE_ROUNDS = 3
UNTITLED = "More papers"


def grouping_output_tokens(ids: int) -> int:
    """Output estimate: every theme at its bounds, plus a few tokens per id."""
    per_theme = (TITLE_CHARS + SUMMARY_CHARS) // 3 + 12
    return 64 + MAX_THEMES * per_theme + ID_OUTPUT_TOKENS * ids


@dataclass(frozen=True)
class Grouping:
    """Themes over real paper ids (each input paper exactly once), and the repairs made."""

    themes: tuple[ThemeDraft, ...]
    notes: tuple[DegradedNote, ...] = ()


@dataclass(frozen=True)
class _Answered:
    """An answer's groups over short ids, and what each short id stands for."""

    groups: list[Group]
    sids: Sequence[str]
    members: Mapping[str, tuple[str, ...]]  # short id -> the paper ids it stands for
    what: str  # "paper" (a grouping call) or "theme" (a merge call)


@dataclass(frozen=True)
class _ThemeItem:
    sid: str
    title: str
    summary: str
    count: int


class Grouper:
    """Groups papers with a model (`group`) or without one (`offline`)."""

    def __init__(self, asker: Asker) -> None:
        self.asker = asker
        self._gists: dict[str, tuple[str, str, int]] = {}

    # -- planning ---------------------------------------------------------------------------------

    def _gist(self, paper: Paper) -> tuple[str, str, int]:
        """(title, gist, tokens of the whole fenced item), memoised per paper id."""
        found = self._gists.get(paper.id)
        if found is None:
            title = untrusted(paper.title)
            gist = untrusted(self.asker.trim(_key_sentence(paper.abstract), GIST_TOKENS))
            cost = self.asker.count(f"P000: {title}. {gist}\n") + ID_TOKENS
            found = self._gists[paper.id] = (title, gist, cost)
        return found

    def per_call(self) -> int:
        """Most papers one grouping call may take: the enum bound, and the output bound."""
        spare = self.asker.max_output() - grouping_output_tokens(0)
        return min(MAX_PAPERS_PER_CALL, max(MIN_PAPERS_PER_CALL, spare // ID_OUTPUT_TOKENS))

    def batches(self, papers: Sequence[Paper]) -> list[list[Paper]]:
        """Balanced contiguous batches, each fitting one call."""
        per_call = self.per_call()
        out_tokens = self.asker.output_tokens(grouping_output_tokens(per_call))
        room = self.asker.room(self._user([]), out_tokens)
        costs = [self._gist(p)[2] for p in papers]
        return [[papers[i] for i in r] for r in plan_calls(costs, room, per_call)]

    def _user(self, items: Sequence[PromptPaper]) -> str:
        ids = [i.sid for i in items] or ["P1"]
        return self.asker.prompts.render(
            "grouping",
            papers=items,
            max_themes=max_themes_for(len(items)) if items else MAX_THEMES,
            first_id=ids[0],
            last_id=ids[-1],
        )

    # -- with a model -----------------------------------------------------------------------------

    async def group(self, model: ChatModel, papers: Sequence[Paper]) -> Grouping:
        """Group `papers` with `model`; raises ModelError (the chain falls back) on failure."""
        by_id = {p.id: p for p in papers}
        batches = self.batches(papers)
        notes: list[DegradedNote] = []
        results = await gather_or_cancel(self._group_batch(model, b, by_id) for b in batches)
        for _, batch_notes in results:
            notes.extend(batch_notes)
        themes = [t for batch_themes, _ in results for t in batch_themes]
        if len(batches) > 1:
            themes, merge_notes = await self._merge(model, themes, by_id, len(papers))
            notes.extend(merge_notes)
        return Grouping(tuple(themes), tuple(notes))

    async def _group_batch(
        self, model: ChatModel, papers: Sequence[Paper], by_id: Mapping[str, Paper]
    ) -> tuple[list[ThemeDraft], list[DegradedNote]]:
        sids = short_ids("P", len(papers))
        items = [PromptPaper(sid, *self._gist(p)[:2]) for sid, p in zip(sids, papers, strict=True)]
        question = Question(
            step="grouping",
            prompt="grouping",
            user=self._user(items),
            schema=grouping_schema(sids, max_themes=max_themes_for(len(sids))),
            lenient=LenientGrouping,
            max_output_tokens=self.asker.output_tokens(grouping_output_tokens(len(sids))),
            titles={item.sid: item.title for item in items},
            # whole abstracts: whether a name in a theme title is shared by two of its papers
            texts={sid: p.abstract for sid, p in zip(sids, papers, strict=True)},
        )
        reply = await self.asker.ask(model, question)
        groups = [Group(t.title, t.summary, tuple(t.paper_ids)) for t in reply.value.themes]
        by_sid = dict(zip(sids, (p.id for p in papers), strict=True))
        members = {sid: (by_sid[sid],) for sid in sids}
        return self._settle(reply, _Answered(groups, sids, members, "paper"), papers, by_id)

    def _settle(
        self,
        reply: Reply,
        answered: _Answered,
        papers: Sequence[Paper],
        by_id: Mapping[str, Paper],
    ) -> tuple[list[ThemeDraft], list[DegradedNote]]:
        """Short-id groups to themes over real ids; repaired and noted if the answer was not
        valid."""
        groups, fixes = answered.groups, Fixes()
        if not reply.valid:
            limit = max_themes_for(len(papers)) if answered.what == "paper" else MAX_THEMES
            groups, fixes = clean_groups(groups, answered.sids, max_groups=limit)
        if not groups:
            raise reply.unusable(
                f"grouping: no usable theme in the answer ({reply.error or 'empty'})"
            )
        themes = [_titled(_draft(g, answered.members), by_id, fixes) for g in groups]
        placed = {pid for t in themes for pid in t.paper_ids}
        leftovers = [p for p in papers if p.id not in placed]
        themes = place_leftovers(themes, leftovers, by_id, fixes)
        if reply.valid:
            return themes, []
        return themes, [_repaired(reply, answered.what, fixes)]

    async def _merge(
        self,
        model: ChatModel,
        themes: list[ThemeDraft],
        by_id: Mapping[str, Paper],
        paper_count: int,
        rounds: int = 0,
    ) -> tuple[list[ThemeDraft], list[DegradedNote]]:
        """Merge batch themes into at most MAX_THEMES, in rounds when they do not fit one call."""
        out_tokens = self.asker.output_tokens(grouping_output_tokens(len(themes)))
        room = self.asker.room(self._merge_user([], paper_count), out_tokens)
        costs = [self.asker.count(_theme_line(t)) + ID_TOKENS for t in themes]
        if sum(costs) <= room or rounds >= MAX_MERGE_ROUNDS:
            return await self._merge_call(model, themes, by_id, paper_count)
        parts = await gather_or_cancel(
            self._merge_call(model, chunk, by_id, paper_count)
            for chunk in _chunks(themes, costs, room)
        )
        merged = [t for part, _ in parts for t in part]
        notes = [n for _, part_notes in parts for n in part_notes]
        more, more_notes = await self._merge(model, merged, by_id, paper_count, rounds + 1)
        return more, notes + more_notes

    def _merge_user(self, items: Sequence[_ThemeItem], paper_count: int) -> str:
        ids = [i.sid for i in items] or ["T1"]
        return self.asker.prompts.render(
            "merge",
            themes=items,
            paper_count=paper_count,
            max_themes=MAX_THEMES,
            first_id=ids[0],
            last_id=ids[-1],
        )

    async def _merge_call(
        self,
        model: ChatModel,
        themes: list[ThemeDraft],
        by_id: Mapping[str, Paper],
        paper_count: int,
    ) -> tuple[list[ThemeDraft], list[DegradedNote]]:
        tids = short_ids("T", len(themes))
        items = [
            _ThemeItem(tid, untrusted(t.title), untrusted(t.summary), len(t.paper_ids))
            for tid, t in zip(tids, themes, strict=True)
        ]
        question = Question(
            step="merge",
            prompt="merge",
            user=self._merge_user(items, paper_count),
            schema=grouping_schema(tids, member="theme_ids"),
            lenient=LenientGrouping,
            max_output_tokens=self.asker.output_tokens(grouping_output_tokens(len(tids))),
        )
        reply = await self.asker.ask(model, question)
        groups = [Group(t.title, t.summary, tuple(t.theme_ids)) for t in reply.value.themes]
        members = {tid: t.paper_ids for tid, t in zip(tids, themes, strict=True)}
        papers = [by_id[pid] for t in themes for pid in t.paper_ids]
        return self._settle(reply, _Answered(groups, tids, members, "theme"), papers, by_id)

    # -- without a model --------------------------------------------------------------------------

    @staticmethod
    def offline(papers: Sequence[Paper]) -> Grouping:
        return Grouping(tuple(offline.group_papers(papers, max_themes=MAX_THEMES)))


def _draft(group: Group, members: Mapping[str, tuple[str, ...]]) -> ThemeDraft:
    """A group of short ids as a theme draft over the paper ids they stand for."""
    return ThemeDraft(
        clip(group.title, TITLE_CHARS),
        clip(group.summary, SUMMARY_CHARS),
        tuple(pid for sid in group.members for pid in members[sid]),
    )


def _titled(draft: ThemeDraft, by_id: Mapping[str, Paper], fixes: Fixes) -> ThemeDraft:
    """A draft whose title the answer left empty (or salvage emptied: an id, a prompt echo, a
    paper's title) titled from its papers as the offline engine titles a theme."""
    if draft.title:
        return draft
    members = [by_id[pid] for pid in draft.paper_ids]
    title = offline.write_theme_title(members, list(by_id.values())) or UNTITLED
    fixes.titled += 1
    return ThemeDraft(clip(title, TITLE_CHARS), draft.summary, draft.paper_ids)


def _chunks(
    themes: Sequence[ThemeDraft], costs: Sequence[int], room: int
) -> list[list[ThemeDraft]]:
    """Themes cut, in order, into merge calls that each fit `room` (and the id bound)."""
    chunks: list[list[ThemeDraft]] = [[]]
    used = 0
    for theme, cost in zip(themes, costs, strict=True):
        if chunks[-1] and (used + cost > room or len(chunks[-1]) >= MAX_PAPERS_PER_CALL):
            chunks.append([])
            used = 0
        chunks[-1].append(theme)
        used += cost
    return chunks


def _repaired(reply: Reply, what: str, fixes: Fixes) -> DegradedNote:
    """The note of an assignment still invalid after the re-asks, and what repaired it."""
    first = (reply.error or "invalid").splitlines()[0].removeprefix("- ")
    return DegradedNote(
        step="grouping",
        scope="digest",
        reason=f"{reply.model}: {what} assignment still invalid after "
        f"{reply.reasks} re-ask(s) ({first})",
        fallback=fixes.describe(what),
    )


def _key_sentence(abstract: str) -> str:
    """The abstract's first sentence saying what the authors did (its lead-in such as "In this
    paper," dropped), else its first sentence."""
    sentences = split_sentences(abstract)
    for sentence in sentences:
        lowered = f" {sentence.lower()}"
        if any(f" {marker}" in lowered for marker in _CONTRIBUTION_MARKERS):
            for lead_in in _LEAD_INS:
                if sentence.lower().startswith(lead_in):
                    rest = sentence[len(lead_in) :].lstrip(" ,")
                    return rest[:1].upper() + rest[1:]
            return sentence
    return sentences[0] if sentences else ""


def _theme_line(theme: ThemeDraft) -> str:
    return (
        f'<theme id="T00" papers="{len(theme.paper_ids)}">{theme.title}: {theme.summary}</theme>\n'
    )


__all__ = ["GIST_TOKENS", "MAX_PAPERS_PER_CALL", "Grouper", "Grouping", "grouping_output_tokens"]
