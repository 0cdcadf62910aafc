"""A slow local server: its speed measured on the first answers, the time the rest will take at
that rate, and a day written shorter, then with fewer model blurbs, when the run's time budget
cannot cover it; end to end through `digest daily` against a fake that writes slowly."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agent.config import LLMSettings
from agent.models import Usage
from agent.summarize.drafts import ThemeDraft
from agent.summarize.llm.asking.ask import Asker
from agent.summarize.llm.asking.prompts import PromptSet
from agent.summarize.llm.chat import ChatAnswer
from agent.summarize.llm.errors import BudgetExceeded
from agent.summarize.llm.run.pace import FILL_DEFAULT, PROMPT_SPEEDUP, Pace
from agent.summarize.llm.run.progress import CallProgress
from agent.summarize.llm.steps.blurbs import SHORT_BLURB_WORDS, BlurbWriter
from agent.summarize.llm.steps.budget_plan import MARGIN, plan_time
from tests.fakes.openai_server import FakeOpenAIServer, Reply
from tests.fakes.small_local import SmallLocalModel
from tests.llm_answers import ScriptedModel, sample_papers
from tests.processes import clean_env, digest_process


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def answer(input_tokens: int, output_tokens: int, limit: int = 1000) -> ChatAnswer:
    usage = Usage(calls=1, input_tokens=input_tokens, output_tokens=output_tokens)
    return ChatAnswer("{}", "stop", "m", usage, output_limit=limit)


def timed(pace: Pace, clock: Clock, seconds: float, *sizes: int) -> None:
    started = clock.now
    clock.now += seconds
    pace.add(answer(*sizes), started)


def test_one_answer_gives_a_speed_two_of_different_shapes_give_both_rates() -> None:
    clock = Clock()
    pace = Pace(clock=clock)
    assert pace.rates() is None and pace.seconds_for(1000, 100) is None
    # prompt read at 100 tokens/s, answer written at 10 tokens/s: 1,000 in + 50 out = 15 s
    timed(pace, clock, 15.0, 1000, 50)
    one = pace.rates()
    assert one is not None
    assert one.write == pytest.approx((1000 / PROMPT_SPEEDUP + 50) / 15.0)
    assert one.prompt == pytest.approx(one.write * PROMPT_SPEEDUP)
    timed(pace, clock, 22.0, 200, 200)  # 2 s reading + 20 s writing
    both = pace.rates()
    assert both is not None
    assert both.prompt == pytest.approx(100.0) and both.write == pytest.approx(10.0)
    assert pace.tokens_per_second() == pytest.approx(10.0)
    # the share of the output limit used: 50/1000 and 200/1000
    assert pace.fill() == pytest.approx(0.125)
    assert pace.seconds_for(500, 800) == pytest.approx(5.0 + 800 * 0.125 / 10.0)


def test_a_queued_call_counts_from_the_previous_answer_not_from_its_start() -> None:
    """One slot: the second call waited for the first; the server worked on it 3 s, not 8."""
    clock = Clock()
    pace = Pace(clock=clock)
    both_started = clock.now
    clock.now += 5.0
    pace.add(answer(100, 40), both_started)
    clock.now += 3.0
    pace.add(answer(100, 40), both_started)
    rates = pace.rates()
    assert rates is not None  # two answers of one shape: the prompt speed-up is assumed
    assert rates.write == pytest.approx(2 * (100 / PROMPT_SPEEDUP + 40) / 8.0)
    assert pace.fill() == pytest.approx(0.04) and FILL_DEFAULT > 0.04


def test_the_progress_line_says_the_estimate_and_the_speed() -> None:
    clock, lines = Clock(), []
    progress = CallProgress(lines.append, clock=clock)
    progress.plan(5)
    clock.now += 40
    progress.tick()
    progress.expect(600.0, "7.4 tokens/s")
    assert lines[-1] == "model calls: 1 of 5 done, about 10 min left (7.4 tokens/s)"
    clock.now += 300
    progress.tick()
    assert lines[-1] == "model calls: 2 of 5 done, about 5 min left (7.4 tokens/s)"


# -- the plan ------------------------------------------------------------------------------------


def writer_and_jobs() -> tuple[BlurbWriter, list[Any], list[str]]:
    papers = sample_papers(24)
    settings = LLMSettings(model="m", concurrency=1, max_output_tokens=1024,
                           input_budget_tokens=3000, context_window=8192)  # fmt: skip
    writer = BlurbWriter(Asker(PromptSet.load(), settings))
    themes = [ThemeDraft(f"Theme {k}", "", tuple(p.id for p in papers[k::3])) for k in range(3)]
    jobs = writer.plan(themes, {p.id: p for p in papers})
    return writer, jobs, [p.id for p in papers]


def measured(write: float) -> Pace:
    """A pace of `write` tokens a second (and the prompt read ten times faster)."""
    clock = Clock()
    pace = Pace(clock=clock)
    timed(pace, clock, (1000 / PROMPT_SPEEDUP + 100) / write, 1000, 100, 1000)
    return pace


def needed(pace: Pace, writer: BlurbWriter, jobs: list[Any], texts: list[tuple[int, int]]) -> float:
    return sum(pace.seconds_for(*writer.size(job)) or 0 for job in jobs) + sum(
        pace.seconds_for(*t) or 0 for t in texts
    )


TEXTS = [(400, 120)]  # the headline


def test_a_day_that_fits_is_left_as_it_is() -> None:
    writer, jobs, ranked = writer_and_jobs()
    pace = measured(50.0)
    budget = needed(pace, writer, jobs, TEXTS) / MARGIN + 5
    plan = plan_time(pace, jobs, writer, lambda: TEXTS, ranked, seconds_left=budget, concurrency=1)
    assert plan.speed == "50.0 tokens/s" and not plan.notes and not plan.left_out
    assert plan.seconds == pytest.approx(needed(pace, writer, jobs, TEXTS))
    assert writer.words == 60
    assert "the local model writes 50.0 tokens/s" in plan.said[0]


def test_a_day_that_does_not_fit_is_asked_shorter() -> None:
    writer, jobs, ranked = writer_and_jobs()
    pace = measured(8.0)
    full = needed(pace, writer, jobs, TEXTS)
    writer.words = SHORT_BLURB_WORDS
    short = needed(pace, writer, jobs, TEXTS)
    writer.words = 60
    assert short < full
    budget = (short + full) / 2 / MARGIN  # room for the short day, not for the full one
    plan = plan_time(pace, jobs, writer, lambda: TEXTS, ranked, seconds_left=budget, concurrency=1)
    assert writer.words == SHORT_BLURB_WORDS and not plan.left_out
    [note] = plan.notes
    assert note.step == "pace" and "At 8.0 tokens/s" in note.reason
    assert f"blurbs of at most {SHORT_BLURB_WORDS} words" in note.reason
    question = writer._question(jobs[0], jobs[0].papers)
    assert f"at most {SHORT_BLURB_WORDS} words" in question.user


def test_a_day_far_over_keeps_the_best_ranked_parts_for_the_model() -> None:
    writer, jobs, ranked = writer_and_jobs()
    pace = measured(2.0)
    writer.words = SHORT_BLURB_WORDS
    costs = [pace.seconds_for(*writer.size(job)) or 0 for job in jobs]
    texts = sum(pace.seconds_for(*t) or 0 for t in TEXTS)
    writer.words = 60
    best = min(range(len(jobs)), key=lambda k: min(ranked.index(p.id) for p in jobs[k].papers))
    budget = (texts + costs[best] + 0.5) / MARGIN  # room for the headline and one part
    plan = plan_time(pace, jobs, writer, lambda: TEXTS, ranked, seconds_left=budget, concurrency=1)
    kept = [(j.theme, j.part) for j in jobs if (j.theme, j.part) not in plan.left_out]
    assert kept == [(jobs[best].theme, jobs[best].part)]  # the part with the best-ranked paper
    [note] = plan.notes
    left = sum(len(j.papers) for j in jobs if (j.theme, j.part) in plan.left_out)
    assert f"the offline engine wrote those of the {left} lowest-ranked papers" in note.reason

    calls: list[str] = []

    async def write(model: Any, job: Any) -> Any:
        calls.append(job.title)
        return "written"

    guarded = plan.guard(write)
    model = ScriptedModel("m")
    left_job = next(j for j in jobs if (j.theme, j.part) in plan.left_out)
    with pytest.raises(BudgetExceeded, match="too slow for the run's time budget"):
        asyncio.run(guarded(model, left_job))
    assert asyncio.run(guarded(model, jobs[best])) == "written" and len(calls) == 1


def test_a_hosted_model_or_no_answer_yet_plans_nothing() -> None:
    writer, jobs, ranked = writer_and_jobs()
    for pace in (None, Pace()):
        plan = plan_time(pace, jobs, writer, lambda: TEXTS, ranked, seconds_left=1.0,
                         concurrency=1)  # fmt: skip
        assert plan.seconds is None and not plan.notes and not plan.left_out


# -- through the command line -----------------------------------------------------------------------


def test_a_slow_local_server_gets_a_day_it_can_write_in_time(tmp_path: Path) -> None:
    """A server that takes a second an answer and says it wrote five tokens in it (5 tokens/s)
    and a run budget of 20 s: the blurbs would take minutes, so the offline engine writes them,
    each part said to be too slow, and the digest is complete within the budget."""
    model = SmallLocalModel(rejects_json_schema=False, raw_newlines=False)

    def slow(body: dict[str, Any]) -> Reply:
        reply = model(body)
        assert isinstance(reply, Reply)
        return Reply(reply.content, usage={"prompt_tokens": 50, "completion_tokens": 5})

    out = tmp_path / "out"
    with FakeOpenAIServer(handler=slow, single_slot=True, latency_per_call=1.0) as srv:
        env = clean_env(DIGEST_HOME=str(tmp_path / "home"), DIGEST_LLM__BASE_URL=srv.base_url,
                        DIGEST_LLM__RUN_BUDGET_SECONDS="20", COLUMNS="200")  # fmt: skip
        result = digest_process(
            "daily", "--engine", "llm", "--source", "sample", "--max-papers", "8",
            "--date", "2026-11-26", "--out", str(out), cwd=tmp_path, env=env,
        )  # fmt: skip
        steps = [json.dumps(r.body.get("response_format")) for r in srv.chat_requests]
    assert result.returncode == 0, result.stderr
    data = json.loads((out / "2026-11-26" / "digest.json").read_text(encoding="utf-8"))
    text = (out / "2026-11-26" / "digest.txt").read_text(encoding="utf-8")
    run = data["model"]
    assert run["tokens_per_second"] and run["tokens_per_second"] < 20
    [pace] = [n for n in data["degraded"] if n["step"] == "pace"]
    assert "llm.run_budget_seconds" in pace["reason"]
    assert pace["reason"].endswith("the offline engine wrote every blurb.")
    blurbs = [p for t in data["themes"] for p in t["papers"]]
    assert len(blurbs) == 8 and all(p["engine"] == "offline" for p in blurbs)
    assert not any('"blurbs' in step for step in steps)  # no blurbs call was even started
    slow_notes = [n for n in data["degraded"] if n["step"] == "blurbs"]
    assert slow_notes and all("too slow" in n["reason"] for n in slow_notes)
    assert f"the local model wrote {run['tokens_per_second']:g} tokens/s" in result.stdout
    assert "WARNING" in result.stderr and "llm.run_budget_seconds" in result.stderr
    flat = " ".join(text.split())
    assert "the local model would have needed about" in flat
    assert "too slow to write it within the run's time budget" in flat


# -- re-asks a plan cannot foresee ------------------------------------------------------------------


def test_calls_per_planned_multiplies_the_estimate_and_can_tip_a_day_into_shorter_blurbs() -> None:
    writer, jobs, ranked = writer_and_jobs()
    pace = measured(8.0)
    once = needed(pace, writer, jobs, TEXTS)
    budget = once * 1.5 / MARGIN  # room for every call once, not for each asked twice
    fits = plan_time(pace, jobs, writer, lambda: TEXTS, ranked, seconds_left=budget,
                     concurrency=1)  # fmt: skip
    assert not fits.notes and fits.seconds == pytest.approx(once)
    twice = plan_time(pace, jobs, writer, lambda: TEXTS, ranked, seconds_left=budget,
                      concurrency=1, calls_per_planned=2.0)  # fmt: skip
    assert writer.words == SHORT_BLURB_WORDS and twice.notes  # asked shorter to fit
    calls = len(jobs) + len(TEXTS)
    assert f"(about {2 * calls} with re-asks, as on earlier runs)" in twice.said[0]


def test_calls_per_planned_is_remembered_per_server_as_a_running_mean(tmp_path: Path) -> None:
    from agent.store import Store
    from agent.summarize.llm.run.pace import CallsPerPlanned

    with Store(tmp_path / "state.sqlite3") as store:
        server = CallsPerPlanned(store, "http://127.0.0.1:8080/v1", "smol.gguf")
        other = CallsPerPlanned(store, "http://127.0.0.1:9090/v1", "smol.gguf")
        assert server.factor() == 1.0  # nothing known: the plan as it is
        server.record(planned=4, made=10)
        assert server.factor() == pytest.approx(2.5) and other.factor() == 1.0
        server.record(planned=4, made=4)  # the last run weighs half
        assert server.factor() == pytest.approx(1.75)
        server.record(planned=4, made=1)  # fewer calls than planned (cached): never below 1
        assert server.factor() == pytest.approx(1.0)
        server.record(planned=1, made=100)  # capped
        assert server.factor() <= CallsPerPlanned.MAX
        server.record(planned=0, made=3)  # no plan: nothing learnt
    assert CallsPerPlanned(None, "x", "y").factor() == 1.0


def test_a_server_that_needs_re_asks_gets_them_counted_on_its_next_run(tmp_path: Path) -> None:
    """Every blurbs call's first answer is junk and its re-ask is fine: the first run learns
    that the server needs about two calls per planned one, and the second run's estimate says
    so (the SmolLM2 run of issue 29 took three times its estimate for want of this)."""
    from agent.store import Store

    def daily(day: str, env: dict[str, str], *cache: str) -> subprocess.CompletedProcess[str]:
        return digest_process(
            "daily", "--verbose", "--engine", "llm", "--source", "sample", "--max-papers", "8",
            "--date", day, "--no-send", *cache, "--out", str(tmp_path / "out"),
            cwd=tmp_path, env=env,
        )  # fmt: skip

    model = SmallLocalModel(junk=frozenset({"instructions"}), rejects_json_schema=False,
                            raw_newlines=False)  # fmt: skip
    home = tmp_path / "home"
    with FakeOpenAIServer(handler=model, single_slot=True, latency_per_call=0.1) as srv:
        env = clean_env(DIGEST_HOME=str(home), DIGEST_LLM__BASE_URL=srv.base_url, COLUMNS="200")
        runs = [daily(day, env, "--no-cache") for day in ("2026-11-26", "2026-11-27")]
        endpoint, [served] = srv.base_url.rstrip("/"), srv.models
        with Store(home / "state.sqlite3") as store:
            learnt = store.remembered_calls_per_planned(endpoint, served)
        cached = daily("2026-11-27", env)  # every blurb from the cache: says nothing of the pace
    for run in [*runs, cached]:
        assert run.returncode == 0, run.stderr
    assert "(0 from cache)" not in cached.stdout
    with Store(home / "state.sqlite3") as store:
        assert store.remembered_calls_per_planned(endpoint, served) == learnt
    assert learnt is not None and learnt > 1.5
    assert "with re-asks, as on earlier runs" not in runs[0].stderr  # nothing known yet
    assert "with re-asks, as on earlier runs" in " ".join(runs[1].stderr.split())
