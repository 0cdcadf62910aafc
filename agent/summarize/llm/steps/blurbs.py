"""The blurbs step: per theme, one plain-language blurb per paper and the theme's summary.

A theme is one job, or several when its papers do not fit one call (output tokens, input
budget); jobs run in parallel through the chain's ``abatch`` and fall back one by one. Each
call sees the theme and the full abstracts (trimmed at sentence boundaries to ABSTRACT_TOKENS)
fenced as ``<paper id="Pk">``. Papers the answer leaves out are asked for once more on their own,
then written by the offline engine; blurbs over 60 words are trimmed at a sentence boundary.

Every blurb that validates is then checked against its paper (`blurb_checks`): one that
describes another paper of the call, or gives a figure its abstract does not, is not kept.
When the blurbs were moved between papers (shifted, swapped), the call is asked again once,
naming the mismatches; each paper still without a good blurb is then asked for alone, told
what was wrong; what is left is written by the offline engine, except a blurb whose only fault
is a figure, which loses the sentence that gives it. Each blurb's `checks` say what happened.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from agent.core.tasks import gather_or_cancel
from agent.errors import ModelError
from agent.models import CheckStatus, DegradedNote, Paper, PaperBlurb
from agent.summarize import offline
from agent.summarize.checks.right_paper import Papers
from agent.summarize.drafts import ThemeDraft
from agent.summarize.llm.asking.ask import Asker, Question, Reply
from agent.summarize.llm.asking.prompts import PromptPaper, untrusted
from agent.summarize.llm.asking.repair import clip, trim_words, word_count
from agent.summarize.llm.asking.schemas import (
    BLURB_CHARS,
    BLURB_WORDS,
    SUMMARY_CHARS,
    WHY_CHARS,
    LenientBlurbs,
    blurbs_schema,
    short_ids,
)
from agent.summarize.llm.asking.sizing import ID_TOKENS, plan_calls
from agent.summarize.llm.chat import ChatModel
from agent.summarize.llm.fallback import failure_reason
from agent.summarize.llm.run.blurb_cache import BlurbCache, blurb_key, summary_key
from agent.summarize.llm.steps.blurb_checks import Problem, Review, repaired

ABSTRACT_TOKENS = 300  # a 60-word blurb needs no more; longer abstracts lose their last sentences
MIN_PER_CALL = 4
# A small day is cut into at most this many calls, however many may run at once: more, smaller
# calls would each pay the fixed prompt again for a few seconds less (measured on 200 papers at
# concurrency 16: 16 calls cost 6% more input tokens for 35% less wall time, over the token
# target), while a big day's many calls still use every slot.
SMALL_DAY_PARTS = 8
OUTPUT_BASE_TOKENS = SUMMARY_CHARS // 4 + 40
# A blurb as asked (60 words, ~4/3 tokens a word), a why_it_matters at its bound, and JSON.
# Sized for the answer the prompt asks for rather than the schema's character bounds: a call
# of that size (27 papers at 4,096 tokens) cuts the per-call overhead by a fifth, and the rare
# answer that runs longer is retried once by the transport with twice the output tokens.
OUTPUT_PER_BLURB_TOKENS = BLURB_WORDS * 4 // 3 + WHY_CHARS // 4 + 15
SHORT_BLURB_WORDS = 35  # what a slow local server is asked for when the day would not fit


@dataclass(frozen=True)
class BlurbJob:
    """One blurbs call's worth of a theme: part `part` of theme number `theme`."""

    theme: int
    part: int
    title: str
    summary: str | None  # the grouping's summary (the theme's, if no blurbs call writes one)
    papers: tuple[Paper, ...]


@dataclass(frozen=True)
class Blurbed:
    """A job's blurbs (in the job's paper order), the theme summary it wrote, its notes."""

    job: BlurbJob
    blurbs: tuple[PaperBlurb, ...]
    summary: str | None = None
    notes: tuple[DegradedNote, ...] = ()


@dataclass
class _Got:
    """A job's blurbs so far: those kept (and how), and those held back by a check."""

    review: Review
    blurbs: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    outcome: dict[str, CheckStatus] = field(default_factory=dict)  # of the kept blurbs
    held: dict[str, tuple[str, str | None, Problem]] = field(default_factory=dict)
    trimmed: int = 0
    dropped: int = 0
    failed: list[str] = field(default_factory=list)  # why asking again failed, when it did

    def keep(self, pid: str, blurb: str, why: str | None, outcome: CheckStatus) -> None:
        self.blurbs[pid] = (blurb, why)
        self.outcome[pid] = outcome
        self.held.pop(pid, None)

    def hold(self, pid: str, blurb: str, why: str | None, problem: Problem) -> None:
        """Hold a blurb back; one that dropping a sentence can repair is not replaced by one
        it cannot."""
        self.review.record(pid, problem)
        held = self.held.get(pid)
        if held is None or repaired(*held) is None or repaired(blurb, why, problem) is not None:
            self.held[pid] = (blurb, why, problem)

    def problems(self, papers: Sequence[Paper]) -> dict[str, Problem]:
        return {p.id: self.held[p.id][2] for p in papers if p.id in self.held}


class BlurbWriter:
    """Writes a job's blurbs with a model (`write`) or without one (`offline`)."""

    def __init__(self, asker: Asker, cache: BlurbCache | None = None) -> None:
        self.asker = asker
        self.cache = cache
        self.words = BLURB_WORDS  # asked for; SHORT_BLURB_WORDS when the run's time is short
        self._texts: dict[str, tuple[str, str, int]] = {}
        self._day: tuple[Paper, ...] = ()  # every paper of the digest (`plan`)
        self._day_index: Papers | None = None

    def _day_papers(self) -> Papers:
        """The digest's papers, indexed once, for blurbs written in a call of their own."""
        if self._day_index is None:
            self._day_index = Papers(self._day)
        return self._day_index

    # -- planning ---------------------------------------------------------------------------------

    def _text(self, paper: Paper) -> tuple[str, str, int]:
        """(title, trimmed abstract, tokens of the fenced item), memoised per paper id."""
        found = self._texts.get(paper.id)
        if found is None:
            title = untrusted(paper.title)
            text = untrusted(self.asker.trim(paper.abstract, ABSTRACT_TOKENS))
            cost = self.asker.count(f'<paper id="P00">{title}\n{text}</paper>\n') + ID_TOKENS
            found = self._texts[paper.id] = (title, text, cost)
        return found

    def per_call(self) -> int:
        """Most papers one call may take by its output bound."""
        room = self.asker.max_output() - OUTPUT_BASE_TOKENS
        return max(1, room // OUTPUT_PER_BLURB_TOKENS)

    def plan(self, themes: Sequence[ThemeDraft], by_id: Mapping[str, Paper]) -> list[BlurbJob]:
        """Jobs for every theme: balanced contiguous parts that each fit one call. A small day
        is cut finer (down to MIN_PER_CALL papers a call, into up to SMALL_DAY_PARTS calls) so
        that the calls fill the concurrency slots instead of one long call running alone."""
        self._day, self._day_index = tuple(by_id.values()), None
        total = sum(len(t.paper_ids) for t in themes)
        fill = math.ceil(total / min(self.asker.settings.concurrency, SMALL_DAY_PARTS))
        cap = min(self.per_call(), max(MIN_PER_CALL, fill))
        jobs: list[BlurbJob] = []
        for index, theme in enumerate(themes):
            papers = [by_id[i] for i in theme.paper_ids]
            for part, chunk in enumerate(self._cut(theme.title, papers, cap)):
                jobs.append(BlurbJob(index, part, theme.title, theme.summary or None, chunk))
        return jobs

    def _cut(self, title: str, papers: Sequence[Paper], cap: int) -> list[tuple[Paper, ...]]:
        """`papers` in balanced contiguous calls of at most `cap`, each within the room the
        context window leaves (the window a server showed, once it showed one)."""
        out = self.asker.output_tokens(self._output(self.per_call()))
        room = self.asker.room(self._user(title, []), out)
        costs = [self._text(p)[2] for p in papers]
        return [tuple(papers[i] for i in span) for span in plan_calls(costs, room, cap)]

    def _output(self, papers: int) -> int:
        per_blurb = OUTPUT_PER_BLURB_TOKENS - (BLURB_WORDS - self.words) * 4 // 3
        return OUTPUT_BASE_TOKENS + per_blurb * papers

    def _user(self, title: str, items: Sequence[PromptPaper], problems: Sequence[str] = ()) -> str:
        ids = [i.sid for i in items] or ["P1"]
        return self.asker.prompts.render(
            "blurbs",
            title=untrusted(title),
            papers=items,
            max_words=self.words,
            first_id=ids[0],
            last_id=ids[-1],
            problems=list(problems),
        )

    def size(self, job: BlurbJob) -> tuple[int, int]:
        """(input tokens, output limit) of the job's call, as `write` would ask it."""
        return self.asker.size(self._question(job, job.papers))

    # -- with a model -----------------------------------------------------------------------------

    # -- kept per paper ---------------------------------------------------------------------------

    def _keys(self, model: ChatModel, papers: Sequence[Paper]) -> dict[str, str]:
        """{paper id: its blurb cache key} for blurbs `model` writes."""
        version = self.asker.prompt_version("blurbs")
        language = self.asker.prompts.language
        return {p.id: blurb_key(model.name, version, language, *self._text(p)[:2]) for p in papers}

    def kept(self, model: ChatModel, papers: Sequence[Paper]) -> dict[str, tuple[str, str | None]]:
        """The blurbs `model` already wrote for some of `papers` (any reader, any run)."""
        if self.cache is None:
            return {}
        keys = self._keys(model, papers)
        found = self.cache.lookup(list(keys.values()))
        return {pid: found[key] for pid, key in keys.items() if key in found}

    def _kept_passed(self, model: ChatModel, job: BlurbJob, got: _Got) -> None:
        """The kept blurbs of the job's papers: each passed the checks when it was written
        (only those are kept, see `_keep`)."""
        for pid, (blurb, why) in self.kept(model, job.papers).items():
            got.keep(pid, blurb, why, "passed")

    def _summary_key(self, model: ChatModel, job: BlurbJob) -> str:
        return summary_key(job.title, list(self._keys(model, job.papers).values()))

    def _keep(self, model: ChatModel, got: _Got, papers: Sequence[Paper]) -> None:
        """Keep the blurbs the model wrote whole (not those that lost a sentence)."""
        if self.cache is None:
            return
        whole = [p for p in papers if got.outcome.get(p.id) in ("passed", "asked_again")]
        keys = self._keys(model, whole)
        self.cache.keep({key: (pid, *got.blurbs[pid]) for pid, key in keys.items()})

    # -- with a model -----------------------------------------------------------------------------

    async def write(self, model: ChatModel, job: BlurbJob) -> Blurbed:
        """Blurbs for a job; raises ModelError when the first call fails (the chain falls back).
        Blurbs kept from earlier calls (another reader, a re-run) are used, not asked for. A
        job planned for a larger context window than a server since showed is written in
        smaller calls, as `plan` cuts it now."""
        if not self.asker.window.smaller:
            return await self._write(model, job)
        chunks = self._cut(job.title, job.papers, self.per_call())
        if len(chunks) == 1:
            return await self._write(model, job)
        parts = [dataclasses.replace(job, papers=chunk) for chunk in chunks]
        written = await gather_or_cancel(self._write(model, part) for part in parts)
        summary = next((w.summary for w in written if w.summary), None)
        blurbs = tuple(b for w in written for b in w.blurbs)
        return Blurbed(job, blurbs, summary, tuple(n for w in written for n in w.notes))

    async def _write(self, model: ChatModel, job: BlurbJob) -> Blurbed:
        got = _Got(Review.of(job.papers, self._day_papers if self._day else None))
        self._kept_passed(model, job, got)
        todo = tuple(p for p in job.papers if p.id not in got.blurbs)
        if not todo:
            return self._all_kept(model, job, got)
        reply = await self._ask(model, job, todo)
        self._collect(reply, todo, got)
        notes = [_repaired(job, reply)] if not reply.valid else []
        if Review.mixed_up(got.problems(todo)):
            await self._ask_again(model, job, todo, reply, got)
        missing = [p for p in todo if p.id not in got.blurbs and p.id not in got.held]
        if missing:
            notes += await self._ask_for_missing(model, job, missing, got)
        flagged = [p for p in todo if p.id in got.held]
        if flagged:
            await asyncio.gather(*(self._ask_alone(model, job, p, got) for p in flagged))
        self._settle_held(got)
        outcomes = {p.id: got.outcome.get(p.id) for p in todo}
        note = got.review.note(job.title, outcomes, got.failed)
        if note is not None:
            notes.append(note)
        if got.trimmed:
            notes.append(_trimmed(job, got.trimmed))
        self._keep(model, got, todo)
        summary = self._keep_summary(model, job, reply.value.summary)
        return Blurbed(job, self._blurbs(job, got), summary, tuple(notes))

    async def _ask_again(
        self, model: ChatModel, job: BlurbJob, todo: Sequence[Paper], reply: Reply, got: _Got
    ) -> None:
        """The call asked once more after its answer, with the mismatches named ("the blurb
        for P3 describes P4"); its failure leaves the papers to be asked for alone."""
        sids = dict(zip((p.id for p in todo), short_ids("P", len(todo)), strict=True))
        message = got.review.reask_message(got.problems(todo), sids)
        try:
            again = await self._ask(model, job, todo, after=(reply.raw, message))
        except ModelError as exc:
            got.failed.append(failure_reason(model.name, exc))
            return
        self._collect(again, todo, got, only=set(got.held))

    async def _ask_alone(self, model: ChatModel, job: BlurbJob, paper: Paper, got: _Got) -> None:
        """One paper asked for on its own, told what its last blurb got wrong; a failure
        leaves it held (for `_settle_held`)."""
        problem = got.held[paper.id][2]
        lines = problem.for_model("P1", {paper.id: "P1"})
        try:
            reply = await self._ask(model, job, [paper], problems=lines)
        except ModelError as exc:
            got.failed.append(failure_reason(model.name, exc))
            return
        self._collect(reply, [paper], got, only={paper.id})

    @staticmethod
    def _settle_held(got: _Got) -> None:
        """What the checks still hold back: a blurb whose only fault is figures loses the
        sentences that give them; the others are left to the offline engine."""
        for pid, (blurb, why, problem) in list(got.held.items()):
            fixed = repaired(blurb, why, problem)
            if fixed is not None:
                got.keep(pid, *fixed, "sentence_dropped")
            else:
                got.outcome[pid] = "offline"

    def _keep_summary(self, model: ChatModel, job: BlurbJob, written: str | None) -> str | None:
        """The theme summary the call wrote (clipped), kept for a re-run of the same theme."""
        summary = clip(written, SUMMARY_CHARS) or None
        if summary and self.cache is not None and job.title:
            self.cache.keep_summary(self._summary_key(model, job), summary)
        return summary

    def _all_kept(self, model: ChatModel, job: BlurbJob, got: _Got) -> Blurbed:
        """A job whose blurbs were all kept (and its theme summary, when there is one)."""
        assert self.cache is not None
        self.cache.served(model.name)
        kept_summary = self.cache.summary(self._summary_key(model, job))
        return Blurbed(job, self._blurbs(job, got), kept_summary)

    async def _ask_for_missing(
        self, model: ChatModel, job: BlurbJob, missing: Sequence[Paper], got: _Got
    ) -> list[DegradedNote]:
        """The step's repair of an answer that left papers out: one more question for those
        papers alone (its failure is no failure of the job); what is still missing is written
        by the offline engine, and noted."""
        reason = f"no blurb for {_count(len(missing), 'paper')} in the answer"
        try:
            self._collect(await self._ask(model, job, missing), missing, got)
        except ModelError as exc:
            reason += f"; asking again for them failed ({failure_reason(model.name, exc)})"
        still = [p for p in missing if p.id not in got.blurbs and p.id not in got.held]
        if not still:
            return []
        if len(still) < len(missing):
            reason += f"; asking again got {len(missing) - len(still)}"
        written = f"offline engine wrote {_count(len(still), 'blurb')}"
        return [DegradedNote(step="blurbs", scope=job.title, reason=reason, fallback=written)]

    def _question(
        self, job: BlurbJob, papers: Sequence[Paper], problems: Sequence[str] = ()
    ) -> Question:
        sids = short_ids("P", len(papers))
        items = [PromptPaper(sid, *self._text(p)[:2]) for sid, p in zip(sids, papers, strict=True)]
        return Question(
            step="blurbs",
            prompt="blurbs",
            user=self._user(job.title, items, problems),
            schema=blurbs_schema(sids),
            lenient=LenientBlurbs,
            max_output_tokens=self.asker.output_tokens(self._output(len(papers))),
            titles={item.sid: item.title for item in items},
            texts={item.sid: item.text for item in items},
            follow_up=bool(problems),
        )

    async def _ask(
        self,
        model: ChatModel,
        job: BlurbJob,
        papers: Sequence[Paper],
        *,
        problems: Sequence[str] = (),
        after: tuple[str, str] | None = None,
    ) -> Reply:
        return await self.asker.ask(model, self._question(job, papers, problems), after=after)

    @staticmethod
    def _collect(
        reply: Reply, papers: Sequence[Paper], got: _Got, only: set[str] | None = None
    ) -> None:
        """Take the answer's usable blurbs (known ids, the first of duplicates, not empty,
        trimmed to BLURB_WORDS words; of the papers in `only`, when given): those the checks
        pass are kept, the others held back with their problem."""
        by_sid = dict(zip(short_ids("P", len(papers)), (p.id for p in papers), strict=True))
        asked = {pid for pid in by_sid.values() if only is None or pid in only}
        seen: set[str] = set()
        for entry in reply.value.blurbs:
            paper_id = by_sid.get(entry.paper_id, "")
            text = clip(entry.blurb, BLURB_CHARS)
            if paper_id not in asked or paper_id in seen or paper_id in got.blurbs or not text:
                got.dropped += 1
                continue
            seen.add(paper_id)
            if word_count(text) > BLURB_WORDS:
                text = trim_words(text, BLURB_WORDS)
                got.trimmed += 1
            why = clip(entry.why_it_matters, WHY_CHARS) or None
            problem = got.review.check(paper_id, text, why, alone=len(papers) == 1)
            if problem is None:
                outcome: CheckStatus = "asked_again" if paper_id in got.review.caught else "passed"
                got.keep(paper_id, text, why, outcome)
            else:
                got.hold(paper_id, text, why, problem)
        for sid, reason in getattr(reply.value, "junk", {}).items():
            paper_id = by_sid.get(sid, "")
            if paper_id in asked and paper_id not in got.blurbs and paper_id not in seen:
                got.hold(paper_id, "", None, Problem(junk=reason))  # emptied: asked for alone

    @staticmethod
    def _blurbs(job: BlurbJob, got: _Got) -> tuple[PaperBlurb, ...]:
        out = []
        for paper in job.papers:
            found = got.blurbs.get(paper.id)
            checks = got.review.statuses(paper.id, got.outcome.get(paper.id))
            if found is None:
                out.append(_offline_blurb(paper).model_copy(update={"checks": checks}))
            else:
                blurb, why = found
                out.append(
                    PaperBlurb(
                        paper_id=paper.id,
                        blurb=blurb,
                        why_it_matters=why,
                        engine="llm",
                        checks=checks,
                    )
                )
        return tuple(out)

    # -- without a model --------------------------------------------------------------------------

    @staticmethod
    def offline(job: BlurbJob) -> Blurbed:
        return Blurbed(job, tuple(_offline_blurb(p) for p in job.papers))


def _trimmed(job: BlurbJob, count: int) -> DegradedNote:
    return DegradedNote(
        step="blurbs",
        scope=job.title,
        reason=f"{_count(count, 'blurb')} over {BLURB_WORDS} words",
        fallback="trimmed at a sentence boundary",
    )


def _repaired(job: BlurbJob, reply: Reply) -> DegradedNote:
    """The note of an answer still invalid after the re-asks, whose valid blurbs were kept."""
    first = (reply.error or "invalid").splitlines()[0].removeprefix("- ")
    return DegradedNote(
        step="blurbs",
        scope=job.title,
        reason=f"{reply.model}: answer still invalid after {reply.reasks} re-ask(s) ({first})",
        fallback="repaired: kept the valid blurbs",
    )


def _offline_blurb(paper: Paper) -> PaperBlurb:
    return PaperBlurb(paper_id=paper.id, blurb=offline.write_blurb(paper), engine="offline")


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


__all__ = ["ABSTRACT_TOKENS", "SHORT_BLURB_WORDS", "BlurbJob", "BlurbWriter", "Blurbed"]
