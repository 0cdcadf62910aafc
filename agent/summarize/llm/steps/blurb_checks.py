"""The blurbs step's own checks, after an answer validates: is each blurb about its own paper,
and does it state only figures its paper's title and abstract state (`agent.summarize.checks`)?

`Review` keeps what was caught per paper and turns it into what the step asks next and what
the digest says: the re-ask message naming the mismatches ("the blurb for P3 describes P4"),
the lines a one-paper call is told, each kept blurb's `checks`, and the theme's note.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from agent.core.one_line import one_line
from agent.core.wording import plural
from agent.models import CAUGHT_WORDS, BlurbCheck, CheckName, CheckStatus, DegradedNote, Paper
from agent.summarize.checks.figures import (
    Figure,
    shown,
    source_of,
    ungrounded,
    without_sentences,
)
from agent.summarize.checks.right_paper import Papers, is_permutation
from agent.summarize.llm.asking.repair import word_count

_SHORT_ID = re.compile(r"\bthe blurbs? for P\d+(?: and P\d+)?")
MIN_KEPT_WORDS = 8  # a blurb left shorter than this by dropping a sentence is written offline
TITLE_SHOWN = 60


@dataclass(frozen=True)
class Problem:
    """What one answer got wrong for one paper: another paper described, figures not given."""

    other: Paper | None = None
    figures: tuple[Figure, ...] = ()
    why_figures: tuple[Figure, ...] = ()
    junk: str | None = None  # why the salvage emptied the blurb (`junk.blurb_problems`)

    @property
    def names(self) -> tuple[CheckName, ...]:
        found: tuple[CheckName, ...] = ("right_paper",) if self.other is not None else ()
        found += ("numbers",) if self.figures or self.why_figures else ()
        return found + (("says_something",) if self.junk else ())

    def caught(self, name: CheckName) -> str:
        """What the check `name` caught, in a few words (for digest.json and the notes)."""
        if name == "right_paper" and self.other is not None:
            return f"described {self.other.id} ({_title(self.other)})"
        if name == "says_something":  # the re-ask's words, without the call's short ids
            return one_line(_SHORT_ID.sub("the blurb", self.junk or ""), 120)
        return f"gave {shown(self.figures + self.why_figures)}, not in the abstract"

    def for_model(self, sid: str, sids: Mapping[str, str]) -> list[str]:
        """What to tell the model of the blurb for short id `sid` (`sids`: paper id -> short id
        of the call; another paper outside it is named by its title)."""
        lines = []
        if self.other is not None:
            other = sids.get(self.other.id)
            named = other or f'another paper ("{_title(self.other)}")'
            lines.append(
                f"the blurb for {sid} describes {named}, not {sid}: write each blurb about the "
                "paper with its id"
            )
        if self.junk:
            lines.append(
                f"the blurb for {sid} said nothing about {sid}'s paper: write what this paper "
                "did and found, in plain words"
            )
        if self.figures or self.why_figures:
            lines.append(
                f"the blurb for {sid} gives {shown(self.figures + self.why_figures)}, which "
                f"{sid}'s title and abstract do not give: state only the figures and names they give"
            )
        return lines


@dataclass
class Review:
    """The checks of one job's blurbs, and what they caught, paper by paper. A blurb is
    compared with the papers of its call; one asked for alone, with the papers of the whole
    digest (`day`), as a call of one paper has no other to compare with."""

    papers: Papers
    day: Callable[[], Papers] | None = None
    caught: dict[str, dict[CheckName, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, papers: Sequence[Paper], day: Callable[[], Papers] | None = None) -> Review:
        return cls(Papers(papers), day)

    def check(
        self, pid: str, blurb: str, why: str | None, *, alone: bool = False
    ) -> Problem | None:
        """What is wrong with this blurb of paper `pid` (None when nothing is); `alone`: it
        was written in a call of its own."""
        paper = self.papers.papers[self.papers.position[pid]]
        source = source_of(paper)
        among = self.day() if alone and self.day is not None else self.papers
        other = among.describes(f"{blurb} {why or ''}", pid)
        problem = Problem(
            other, tuple(ungrounded(blurb, source)), tuple(ungrounded(why or "", source))
        )
        return problem if problem.names else None

    def record(self, pid: str, problem: Problem) -> None:
        """Note what a check caught in an answer for paper `pid` (the first catch is kept)."""
        for name in problem.names:
            self.caught.setdefault(pid, {}).setdefault(name, problem.caught(name))

    @staticmethod
    def mixed_up(problems: Mapping[str, Problem]) -> bool:
        """Blurbs moved between the papers of the call (shifted, swapped): worth asking the
        whole call again once, naming the mismatches."""
        return is_permutation({pid: p.other for pid, p in problems.items() if p.other})

    @staticmethod
    def reask_message(problems: Mapping[str, Problem], sids: Mapping[str, str]) -> str:
        lines = [
            f"- {line}" for pid, p in problems.items() for line in p.for_model(sids[pid], sids)
        ]
        return "\n".join(lines)

    def statuses(self, pid: str, outcome: CheckStatus | None) -> tuple[BlurbCheck, ...]:
        """The checks of the blurb kept for `pid`, given how it was kept (`outcome`: `passed`
        or `asked_again` for a model's blurb that passed, `sentence_dropped`, `offline`; None
        for an offline blurb no check was involved in: no checks). A check that caught nothing
        `passed`; one that caught an answer says what became of the paper."""
        if outcome is None:
            return ()
        caught = self.caught.get(pid, {})
        names: list[CheckName] = ["right_paper", "numbers"]
        if "says_something" in caught:
            names.append("says_something")
        out = []
        for name in names:
            if name not in caught:
                if outcome != "offline":
                    out.append(BlurbCheck(name=name, status="passed"))
                continue
            status: CheckStatus = outcome
            if outcome == "sentence_dropped" and name != "numbers" or outcome == "passed":
                status = "asked_again"
            out.append(BlurbCheck(name=name, status=status, caught=caught[name]))
        return tuple(out)

    def note(
        self,
        scope: str,
        outcomes: Mapping[str, CheckStatus | None],
        failed: Sequence[str] = (),
    ) -> DegradedNote | None:
        """One note of what the checks caught in this job and what became of it (and why
        asking again failed, when it did)."""
        if not self.caught:
            return None
        reasons = []
        for name, words in CAUGHT_WORDS.items():
            ids = [pid for pid, caught in self.caught.items() if name in caught]
            if ids:
                examples = ", ".join(f"{pid} {self.caught[pid][name]}" for pid in ids[:2])
                reasons.append(f"{plural(len(ids), 'blurb')} {words} ({examples})")
        counted: dict[str, int] = {}
        for pid in self.caught:
            status = outcomes.get(pid)
            label = _OUTCOME_WORDS.get(status or "offline", "offline engine wrote")
            counted[label] = counted.get(label, 0) + 1
        fallback = "; ".join(f"{label} {n}" for label, n in counted.items())
        if failed:
            reasons.append(f"asking again failed ({failed[0]})")
        return DegradedNote(
            step="blurbs", scope=scope, reason="; ".join(reasons), fallback=fallback
        )


_OUTCOME_WORDS: dict[str, str] = {
    "asked_again": "asked again, fixed:",
    "sentence_dropped": "dropped the sentence with the figure:",
    "offline": "offline engine wrote",
}


def repaired(blurb: str, why: str | None, problem: Problem) -> tuple[str, str | None] | None:
    """A blurb whose only fault is figures, without the sentences that give them (and its
    why_it_matters likewise); None when too little is left of the blurb."""
    if problem.other is not None or problem.junk:
        return None
    kept = without_sentences(blurb, problem.figures) if problem.figures else blurb
    if word_count(kept) < MIN_KEPT_WORDS:
        return None
    kept_why = without_sentences(why, problem.why_figures) if why and problem.why_figures else why
    return kept, kept_why or None


def _title(paper: Paper) -> str:
    return one_line(paper.title, TITLE_SHOWN)


__all__ = ["MIN_KEPT_WORDS", "Problem", "Review", "repaired"]
