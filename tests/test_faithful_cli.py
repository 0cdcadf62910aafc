"""What the model writes is about the right paper and says only what it says, through the CLI
(`digest daily --source file:DAY`) on a real day of Hugging Face papers, against the fake
OpenAI server playing a fluent model that swaps blurbs, shifts them by one, invents a figure,
or echoes the prompt into theme titles; and one that mixes papers up even when asked alone.
The digest stays complete, digest.json says what was caught, the email marks what the model
did not write."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agent.core.resources import demo_day_path
from agent.evals.scorers_text import copy_ratio
from agent.models import Paper
from agent.sources.local import record_to_paper
from tests.fakes.blurb_writers import INVENTED, Mix, blurbs_answer, papers_in
from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest, Reply, request_schema
from tests.llm_answers import answer_from_schema
from tests.processes import clean_env, digest_process

DATE = "2026-06-12"
PAPERS = 12  # of the day's 30: three themes of four
_SENTENCE = re.compile(r"^(.*?\.)\s", re.DOTALL)


class FluentModel:
    """A fake model that writes each blurb well, from an abstract of its call, but maybe about
    the wrong paper (`mix`, in calls of several papers; `liar`: alone too, from a paper seen
    before), with an invented figure in P1 of every call (`invent`), or with the grouping
    prompt's first sentence and a paper id and title as theme titles (`echo`)."""

    def __init__(
        self, mix: Mix = "none", *, invent: bool = False, echo: bool = False, liar: bool = False
    ) -> None:
        self.mix, self.invent, self.echo, self.liar = mix, invent, echo, liar
        self.seen: list[str] = []  # prompts of earlier blurbs calls

    def __call__(self, body: dict[str, Any]) -> Reply:
        schema, as_tool = request_schema(body)
        assert schema is not None
        prompt = RecordedRequest.text_of(body)
        answer = answer_from_schema(schema, themes=3, prompt=prompt)
        if "blurbs" in answer:
            ids = [sid for sid, _, _ in papers_in(prompt)]
            if self.liar and len(ids) == 1 and self.seen:
                prompt = self.seen[0]  # a blurb of another call's first paper
            mix: Mix = self.mix if len(ids) > 1 else "none"
            answer = blurbs_answer(prompt, ids, mix=mix, invent=["P1"] if self.invent else [])
            self.seen.append(prompt)
        if "themes" in answer and self.echo:
            first = _SENTENCE.match(prompt.split("\n\n", 1)[-1])
            line = re.search(r"^P1: (.*?)\. ", prompt, re.MULTILINE)
            assert first and line
            answer["themes"][0]["title"] = first.group(1)
            answer["themes"][-1]["title"] = f"P1: {line.group(1)}"[:79] + "."  # fits
        return Reply(answer, tool_call=as_tool)


def daily(tmp_path: Path, model: FluentModel) -> tuple[dict[str, Any], str, list[RecordedRequest]]:
    day = tmp_path / "day.jsonl"
    shutil.copy(demo_day_path(), day)
    with FakeOpenAIServer(handler=model) as srv:
        env = clean_env(
            DIGEST_HOME=str(tmp_path / "home"),
            DIGEST_LLM__BASE_URL=srv.base_url,
            DIGEST_LLM__API_KEY="sk-test",
            DIGEST_LLM__MODEL="gpt-4o-mini",
            DIGEST_LLM__LOCAL_DEFAULTS="false",
            DIGEST_LLM__DIALECT="json_schema",
            COLUMNS="200",
        )
        out = tmp_path / "out"
        args = ("daily", "--engine", "llm", "--source", f"file:{day}", "--no-send")
        result: subprocess.CompletedProcess[str] = digest_process(
            *args, "--max-papers", str(PAPERS), "--date", DATE, "--out", str(out),
            cwd=tmp_path, env=env,
        )  # fmt: skip
        requests = srv.chat_requests
    assert result.returncode == 0, result.stderr
    data = json.loads((out / DATE / "digest.json").read_text(encoding="utf-8"))
    text = next((out / DATE).glob("*.txt")).read_text(encoding="utf-8")
    return data, text, requests


def entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [paper for theme in data["themes"] for paper in theme["papers"]]


def day_papers() -> dict[str, Paper]:
    lines = demo_day_path().read_text(encoding="utf-8").splitlines()
    papers = [record_to_paper(json.loads(line), "file") for line in lines if line.strip()]
    return {p.id: p for p in papers}


def about_its_own_paper(entry: dict[str, Any], papers: dict[str, Paper]) -> bool:
    """Ground truth, not the engine's check: the fake writes a blurb from one abstract's
    sentences, so the blurb shares a long run of words with that abstract."""
    return copy_ratio(entry["blurb"], papers[entry["id"]].abstract)[1] >= 8


def check_of(entry: dict[str, Any], name: str) -> tuple[str, str | None]:
    found = entry["checks"][name]
    return found["status"], found["caught"]


def assert_complete(data: dict[str, Any]) -> None:
    placed = [e["id"] for e in entries(data)] + [p["id"] for p in data["also_new"]]
    assert len(placed) == len(set(placed)) == data["paper_count"] == 30
    assert len(entries(data)) == PAPERS


@pytest.mark.parametrize("mix", ["shift", pytest.param("swap", marks=pytest.mark.slow)])
def test_blurbs_mixed_up_between_papers_are_caught_and_each_paper_gets_its_own(
    tmp_path: Path, mix: Mix
) -> None:
    data, text, requests = daily(tmp_path, FluentModel(mix))
    assert_complete(data)
    papers = day_papers()
    for entry in entries(data):
        assert entry["engine"] == "llm" and about_its_own_paper(entry, papers), entry
        # each was caught (on another paper, or saying nothing of its own) and asked again
        assert "asked_again" in {c["status"] for c in entry["checks"].values()}, entry
    caught = [check_of(e, "right_paper") for e in entries(data)]
    assert sum(status == "asked_again" for status, _ in caught) >= PAPERS // 2
    assert all(c.startswith("described ") for status, c in caught if c)
    reasks = [r.messages[-1]["content"] for r in requests if len(r.messages) > 2]
    assert any("the blurb for P1 describes P2" in m for m in reasks)
    notes = [n for n in data["degraded"] if "described another paper" in n["reason"]]
    assert notes and all(n["fallback"].startswith("asked again, fixed:") for n in notes)
    assert data["model"]["offline_blurbs"] == 0 and "offline" not in text


@pytest.mark.slow
def test_a_model_that_mixes_papers_up_even_alone_is_replaced_and_marked_offline(
    tmp_path: Path,
) -> None:
    data, text, _ = daily(tmp_path, FluentModel("shift", liar=True))
    assert_complete(data)
    papers = day_papers()
    shown = [e for e in entries(data) if e["engine"] == "llm"]
    assert all(about_its_own_paper(e, papers) for e in shown)  # no wrong blurb as the model's
    for entry in entries(data):
        if entry["engine"] == "offline":
            assert check_of(entry, "right_paper")[0] == "offline"
    offline = data["model"]["offline_blurbs"]
    said = " ".join(text.split())
    assert offline >= PAPERS - 3 and f"the offline engine wrote {offline} of the" in said
    assert "described the wrong papers" in said  # the section's reason, in plain words


def test_an_invented_figure_is_asked_for_again_then_its_sentence_dropped(tmp_path: Path) -> None:
    data, text, requests = daily(tmp_path, FluentModel(invent=True))
    assert_complete(data)
    dropped = [e for e in entries(data) if e["checks"]["numbers"]["status"] != "passed"]
    assert dropped and all(e["engine"] == "llm" for e in entries(data))
    for entry in dropped:
        status, caught = check_of(entry, "numbers")
        assert (
            status == "sentence_dropped" and caught == "gave '37%' and 'GPT-5', not in the abstract"
        )
    assert not any("37%" in e["blurb"] or "GPT-5" in e["blurb"] for e in entries(data))
    told = [r.prompt_text for r in requests if "An earlier answer was not kept" in r.prompt_text]
    assert told and all("gives '37%' and 'GPT-5'" in t for t in told)
    said = " ".join(text.split())
    assert "repaired automatically because the model's summaries gave figures" in said
    assert INVENTED not in said


def test_the_prompt_echoed_into_theme_titles_is_replaced_by_titles_from_the_papers(
    tmp_path: Path,
) -> None:
    data, text, requests = daily(tmp_path, FluentModel(echo=True))
    assert_complete(data)
    titles = [theme["title"] for theme in data["themes"]]
    assert not any(t.startswith("Group these") or re.match(r"P\d+\b", t) for t in titles), titles
    reasks = [r.messages[-1]["content"] for r in requests if len(r.messages) > 2]
    assert any("repeats the instructions" in m for m in reasks)
    assert any("starts with a paper id" in m for m in reasks)
    (note,) = [n for n in data["degraded"] if n["step"] == "grouping"]
    assert "titled 2 themes from its papers" in note["fallback"]
    assert "was repaired automatically" in text
