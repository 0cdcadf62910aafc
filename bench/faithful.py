"""Issue 24's figures: how the checks of what a model writes (right paper, figures, says
something) do on the bundled sample day (207 papers) and on the eval cases (evals/cases).

    .venv/bin/python bench/faithful.py [--cases DIR] [--no-engine]

1. False alarms of the checks alone, on blurbs written from each paper's own abstract: the
   offline engine's, and the fixed-rule paraphrase of tests/fakes/blurb_writers (the sentence
   that says what the authors did, in the third person, and one with a figure; why_it_matters
   from the abstract's last sentence). Checked as the engine checks them, in the calls it
   would make (the offline grouping's themes cut by BlurbWriter.plan), and over a whole day or
   case as the eval scorers do. Also: how many blurbs moved to the next paper (shift) or
   swapped with a neighbour the right-paper check catches.
2. End to end, LLMEngine against the fake OpenAI server (real HTTP) whose grouping answers put
   similar papers together (the offline grouping of what the prompt shows): a competent model
   (blurbs by the rule), one that shifts every call's blurbs by one, one that swaps
   neighbours, one that shifts them and writes about another paper even when asked for one
   paper alone, one that adds an invented figure to every third blurb. Per day or case: blurbs
   kept as the model's, model-written blurbs about another paper (which paper a fake blurb
   came from is known), a complete digest, calls and tokens, and what the checks added.

Prints numbers; asserts nothing. Targets (issue 24): a mixed-up model shows at most 1 in 10
papers with a wrong-paper blurb as model-written (target none); a competent model keeps at
least 95% of its blurbs. Timings depend on the machine (2 shared cores when measured).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import SecretStr

from agent.config import LLMSettings
from agent.evals.cases import load_cases
from agent.models import Paper, Summary
from agent.summarize import offline
from agent.summarize.checks.figures import ungrounded
from agent.summarize.checks.right_paper import Papers
from agent.summarize.llm import LLMEngine, PromptSet
from agent.summarize.llm.asking.ask import Asker
from agent.summarize.llm.asking.junk import JunkContext, blurb_problems
from agent.summarize.llm.steps.blurb_checks import Review
from agent.summarize.llm.steps.blurbs import BlurbWriter
from tests.fakes.blurb_writers import blurbs_answer, plain_blurb, plain_why
from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest, Reply, request_schema
from tests.llm_answers import answer_from_schema, sample_papers

REPO = Path(__file__).resolve().parents[1]
Writer = Callable[[Paper], tuple[str, str | None]]
WRITERS: dict[str, Writer] = {
    "offline engine": lambda p: (offline.write_blurb(p), None),
    "rule paraphrase": lambda p: (plain_blurb(p.title, p.abstract), plain_why(p.abstract)),
}


# -- 1. the checks alone -------------------------------------------------------------------------


def calls_of(papers: Sequence[Paper]) -> list[list[Paper]]:
    """The blurbs calls the engine would make for these papers, grouped as the offline engine
    groups them (each call's papers share a theme: the hard case for the right-paper check)."""
    by_id = {p.id: p for p in papers}
    writer = BlurbWriter(Asker(PromptSet.load(), LLMSettings()))
    themes = offline.group_papers(papers, max_themes=8)
    return [list(job.papers) for job in writer.plan(themes, by_id)]


def moved(texts: Sequence[tuple[str, str | None]], mix: str) -> list[tuple[str, str | None]]:
    n = len(texts)
    if mix == "shift":
        return [texts[(i + 1) % n] for i in range(n)]
    return [texts[i + 1 if i % 2 == 0 else i - 1] if (i ^ 1) < n else texts[i] for i in range(n)]


@dataclass
class Alarms:
    blurbs: int = 0
    right_paper: int = 0
    numbers: int = 0
    says_nothing: int = 0
    moved: int = 0
    caught: int = 0

    def line(self, label: str) -> str:
        caught = f"{self.caught}/{self.moved}" if self.moved else "-"
        return (
            f"  {label:<44}{self.blurbs:>7}{self.right_paper:>13}{self.numbers:>9}"
            f"{self.says_nothing:>14}{caught:>17}"
        )


def in_calls(papers: Sequence[Paper], write: Writer) -> Alarms:
    out = Alarms()
    for call in calls_of(papers):
        review = Review.of(call)
        texts = [write(p) for p in call]
        context = JunkContext(
            titles={f"P{i + 1}": p.title for i, p in enumerate(call)},
            texts={f"P{i + 1}": p.abstract for i, p in enumerate(call)},
        )
        junk = blurb_problems([(f"P{i + 1}", t[0]) for i, t in enumerate(texts)], context)
        out.says_nothing += len(junk)
        for paper, (blurb, why) in zip(call, texts, strict=True):
            out.blurbs += 1
            problem = review.check(paper.id, blurb, why)
            out.right_paper += bool(problem and problem.other)
            out.numbers += bool(problem and (problem.figures or problem.why_figures))
        if len(call) < 2:
            continue
        for mix in ("shift", "swap"):
            for paper, (blurb, why), own in zip(call, moved(texts, mix), texts, strict=True):
                if (blurb, why) == own:
                    continue
                out.moved += 1
                problem = review.check(paper.id, blurb, why)
                out.caught += bool(problem and problem.other)
    return out


def day_wide(papers: Sequence[Paper], write: Writer) -> Alarms:
    """As the eval scorers read a day or a case: every paper against all the others."""
    out = Alarms()
    index = Papers(papers)
    for paper in papers:
        blurb, why = write(paper)
        out.blurbs += 1
        out.right_paper += index.describes(f"{blurb} {why or ''}", paper.id) is not None
        out.numbers += bool(ungrounded(f"{blurb} {why or ''}", f"{paper.title}\n{paper.abstract}"))
    return out


def part_one(day: Sequence[Paper], cases: Sequence[Any]) -> None:
    print("1. False alarms on blurbs written from each paper's own abstract")
    print(
        f"  {'blurbs by / checked':<44}{'blurbs':>7}{'right_paper':>13}{'numbers':>9}"
        f"{'says nothing':>14}{'moved, caught':>17}"
    )
    for name, write in WRITERS.items():
        print(in_calls(day, write).line(f"{name}, sample day, in calls"))
        print(day_wide(day, write).line(f"{name}, sample day, day-wide"))
        total_calls, total_wide = Alarms(), Alarms()
        for case in cases:
            for total, found in (
                (total_calls, in_calls(case.papers, write)),
                (total_wide, day_wide(case.papers, write)),
            ):
                for key in vars(total):
                    setattr(total, key, getattr(total, key) + getattr(found, key))
        print(total_calls.line(f"{name}, {len(cases)} eval cases, in calls"))
        print(total_wide.line(f"{name}, {len(cases)} eval cases, case-wide"))


# -- 2. end to end against the fake server ------------------------------------------------------

_LINE = re.compile(r"^(P\d+): (.*)$", re.MULTILINE)


def grouped(prompt: str, ids: Sequence[str], schema: dict[str, Any]) -> dict[str, Any]:
    """A grouping answer that puts similar papers together: the offline grouping of the
    titles and key sentences the prompt shows."""
    lines = dict(_LINE.findall(prompt))
    shown = [Paper(id=sid, title=lines.get(sid, sid) or sid) for sid in ids]
    cap = schema["properties"]["themes"].get("maxItems", 8)
    drafts = offline.group_papers(shown, max_themes=cap)[:cap]
    themes = [
        {
            "title": f"Theme {n + 1}",
            "summary": "Papers on one subject.",
            "paper_ids": list(d.paper_ids),
        }
        for n, d in enumerate(drafts)
    ]
    return {"themes": themes}


def handler(mode: str) -> Callable[[dict[str, Any]], Reply]:
    """Answers of a model that is `competent`, or shifts (`shift`), swaps (`swap`) blurbs in
    calls of several papers, or shifts them and, asked for one paper alone, writes about the
    first paper of the call before (`stubborn`), or adds an invented figure to every third
    blurb (`invent`)."""
    earlier: list[str] = []

    def answer(body: dict[str, Any]) -> Reply:
        schema, as_tool = request_schema(body)
        assert schema is not None
        prompt = RecordedRequest.text_of(body)
        props = schema.get("properties", {})
        ids = re.findall(r'<paper id="(P\d+)">', prompt)
        if "blurbs" in props and ids:
            ids = list(dict.fromkeys(ids))
            if mode == "stubborn" and len(ids) == 1 and earlier:
                prompt = earlier[0]
            earlier.append(prompt)
            mix = "shift" if mode == "stubborn" else mode if mode in ("shift", "swap") else "none"
            invent = ids[::3] if mode == "invent" else ()
            return Reply(
                blurbs_answer(prompt, ids, mix=mix, invent=invent, why=True), tool_call=as_tool
            )
        if "themes" in props and "paper_ids" in str(schema):
            every = re.findall(r"^(P\d+):", prompt, re.MULTILINE)
            return Reply(grouped(prompt, every, schema), tool_call=as_tool)
        return Reply(answer_from_schema(schema, prompt=prompt), tool_call=as_tool)

    return answer


@dataclass
class Run:
    papers: int
    model_written: int
    wrong_shown: int
    complete: bool
    calls: int
    tokens: int


def wrong_paper_shown(summary: Summary, papers: Sequence[Paper]) -> tuple[int, int]:
    """(blurbs the model wrote, of those the ones written from another paper's abstract)."""
    origin = {plain_blurb(p.title, p.abstract): p.id for p in papers}
    written = wrong = 0
    for theme in summary.themes:
        for item in theme.papers:
            if item.engine != "llm":
                continue
            written += 1
            source = next(
                (pid for text, pid in origin.items() if item.blurb.startswith(text)), None
            )
            wrong += source is not None and source != item.paper_id
    return written, wrong


def run_engine(srv: FakeOpenAIServer, papers: Sequence[Paper]) -> Run:
    llm = LLMSettings(
        model="gpt-4o-mini",
        base_url=srv.base_url,
        api_key=SecretStr("sk-bench-not-a-real-key"),
        local_defaults=False,
        dialect="json_schema",
        timeout_seconds=120,
        run_budget_seconds=3_600,
    )
    before = len(srv.chat_requests)
    summary = asyncio.run(LLMEngine(llm, None, use_cache=False).summarize(papers))
    placed = sorted(b.paper_id for t in summary.themes for b in t.papers)
    written, wrong = wrong_paper_shown(summary, papers)
    usage = summary.usage
    return Run(
        len(papers),
        written,
        wrong,
        placed == sorted(p.id for p in papers),
        len(srv.chat_requests) - before,
        usage.input_tokens + usage.output_tokens,
    )


def part_two(day: Sequence[Paper], cases: Sequence[Any]) -> None:
    print()
    print("2. End to end (LLMEngine, fake server): blurbs kept and wrong-paper blurbs shown")
    print(
        f"  {'data':<18}{'model':<11}{'papers':>7}{'model-written':>15}{'wrong shown':>13}"
        f"{'complete':>10}{'calls':>7}{'tokens':>9}{'added calls':>13}{'added tokens':>14}"
    )
    sets = [("sample day", list(day))] + [(case.name, list(case.papers)) for case in cases]
    totals: dict[tuple[str, str], Counter[str]] = {}
    for mode in ("competent", "shift", "swap", "stubborn", "invent"):
        with FakeOpenAIServer(handler=handler(mode)) as srv:
            for name, papers in sets:
                run = run_engine(srv, papers)
                base = runs.get(name) if mode != "competent" else run
                if mode == "competent":
                    runs[name] = run
                assert base is not None
                added_calls, added_tokens = run.calls - base.calls, run.tokens - base.tokens
                group = "sample day" if name == "sample day" else f"{len(cases)} eval cases"
                row = totals.setdefault((mode, group), Counter())
                row.update(
                    papers=run.papers,
                    written=run.model_written,
                    wrong=run.wrong_shown,
                    complete=int(run.complete),
                    calls=run.calls,
                    tokens=run.tokens,
                    added_calls=added_calls,
                    added_tokens=added_tokens,
                    sets=1,
                )
                print(
                    f"  {name:<18}{mode:<11}{run.papers:>7}{run.model_written:>15}"
                    f"{run.wrong_shown:>13}{'yes' if run.complete else 'NO':>10}{run.calls:>7}"
                    f"{run.tokens:>9,}{added_calls:>+13}{added_tokens:>+14,}"
                )
    print()
    print("  the sample day, and the eval cases together (added: a day or case, on average):")
    for (mode, group), row in sorted(totals.items(), key=lambda item: item[0][1]):
        share = row["written"] / row["papers"]
        wrong = row["wrong"] / row["papers"]
        print(
            f"  {group:<15}{mode:<11}{row['papers']:>5} papers: {share:.1%} model-written, "
            f"{wrong:.1%} wrong-paper shown as model-written, "
            f"{row['complete']}/{row['sets']} complete; added {row['added_calls'] / row['sets']:+.1f} "
            f"calls and {row['added_tokens'] / row['sets']:+,.0f} tokens"
        )


runs: dict[str, Run] = {}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, default=REPO / "evals" / "cases")
    parser.add_argument("--no-engine", action="store_true", help="only part 1")
    args = parser.parse_args(argv)
    day = sample_papers()
    cases = load_cases(args.cases)
    part_one(day, cases)
    if not args.no_engine:
        part_two(day, cases)


if __name__ == "__main__":
    main()
