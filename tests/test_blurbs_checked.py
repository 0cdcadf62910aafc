"""The blurbs step's checks with an in-test fake model (no server): a mix-up is asked again
once naming it, then paper by paper, then written offline; an invented figure is asked for
again naming it, then its sentence is dropped; each blurb says what its checks did."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from agent.config import LLMSettings
from agent.models import PaperBlurb
from agent.summarize import offline
from agent.summarize.llm.asking.ask import Asker
from agent.summarize.llm.asking.prompts import PromptSet
from agent.summarize.llm.chat import ChatRequest
from agent.summarize.llm.errors import ModelUnavailable
from agent.summarize.llm.steps.blurbs import Blurbed, BlurbJob, BlurbWriter
from tests.fakes.blurb_writers import INVENTED, Mix, blurbs_answer, papers_in, plain_blurb
from tests.llm_answers import ScriptedModel, sample_papers, user_text

SAMPLE = {p.id: p for p in sample_papers()}
# One theme, as the grouping would make it: four papers on long context (the hard case).
CALL = tuple(SAMPLE[i] for i in ("dp-013", "dp-021", "dp-061", "dp-095"))
JOB = BlurbJob(0, 0, "Long context", None, CALL)


def shown_blurbs() -> dict[str, str]:
    """Each paper's blurb by the rule, from its abstract as the prompt shows it (trimmed)."""
    model = ScriptedModel()
    asyncio.run(BlurbWriter(Asker(PromptSet.load(), LLMSettings())).write(model, JOB))
    shown = papers_in(user_text(model.requests[0]))
    return {p.id: plain_blurb(title, text) for p, (_, title, text) in zip(CALL, shown, strict=True)}


OWN = shown_blurbs()


def write(script: Callable[[ChatRequest], Any]) -> tuple[Blurbed, ScriptedModel]:
    model = ScriptedModel(script=script)
    asker = Asker(PromptSet.load(), LLMSettings())
    return asyncio.run(BlurbWriter(asker).write(model, JOB)), model


def answering(mix: Mix = "none", *, alone_mix: bool = False) -> Callable[[ChatRequest], Any]:
    """Blurbs by the rule, mixed up in calls of several papers (and alone, with `alone_mix`:
    a paper asked for alone gets the blurb of the call's next paper)."""

    def script(request: ChatRequest) -> Any:
        prompt = user_text(request)
        ids = [sid for sid, _, _ in papers_in(prompt)]
        if alone_mix and len(ids) == 1:
            paper = next(p for p in CALL if p.title in prompt)
            other = CALL[(CALL.index(paper) + 1) % len(CALL)]
            return {
                "summary": "S.",
                "blurbs": [{"paper_id": "P1", "blurb": OWN[other.id], "why_it_matters": None}],
            }
        return blurbs_answer(prompt, ids, mix=mix if len(ids) > 1 else "none")

    return script


def checks(blurb: PaperBlurb) -> dict[str, tuple[str, str | None]]:
    return {c.name: (c.status, c.caught) for c in blurb.checks}


def test_a_competent_answer_passes_every_check_in_one_call() -> None:
    result, model = write(answering())
    assert len(model.requests) == 1 and result.notes == ()
    for paper, blurb in zip(CALL, result.blurbs, strict=True):
        assert (blurb.engine, blurb.blurb) == ("llm", OWN[paper.id])
        assert checks(blurb) == {"right_paper": ("passed", None), "numbers": ("passed", None)}


def test_shifted_blurbs_are_asked_again_naming_the_mismatch_then_paper_by_paper() -> None:
    result, model = write(answering("shift"))
    # the call, the call again after its answer (a re-ask), then each paper alone
    assert [len(papers_in(user_text(r))) for r in model.requests] == [4, 4, 1, 1, 1, 1]
    again = model.requests[1].messages
    assert (
        again[-2]["role"] == "assistant" and "the blurb for P1 describes P2" in again[-1]["content"]
    )
    assert "the blurb for P4 describes P1" in again[-1]["content"]
    alone = user_text(model.requests[2])
    assert "An earlier answer was not kept" in alone and "describes another paper" in alone
    for paper, blurb in zip(CALL, result.blurbs, strict=True):
        assert (blurb.engine, blurb.blurb) == ("llm", OWN[paper.id])  # each its own, in the end
        status, caught = checks(blurb)["right_paper"]
        assert status == "asked_again" and caught and caught.startswith("described dp-")
    (note,) = result.notes
    assert note.reason.startswith("4 blurbs described another paper (dp-013 described dp-021")
    assert note.fallback == "asked again, fixed: 4"


def test_one_stray_blurb_is_no_reshuffle_and_is_asked_for_alone() -> None:
    stray = (  # about P3 (BABILong), with a word of P2's (CLEX) abstract: no junk, a stray
        "The BABILong benchmark tests transformer models on facts spread over long documents; "
        "fine-tuning GPT-2 with recurrent memory handles far longer inputs."
    )
    first = True

    def script(request: ChatRequest) -> Any:
        nonlocal first
        prompt = user_text(request)
        answer = blurbs_answer(prompt, [sid for sid, _, _ in papers_in(prompt)])
        if first:  # P2 (CLEX) gets a sentence of P3's (the recurrent memory paper)
            answer["blurbs"][1]["blurb"] = stray
            first = False
        return answer

    result, model = write(script)
    assert [len(papers_in(user_text(r))) for r in model.requests] == [4, 1]
    assert result.blurbs[1].blurb == OWN["dp-021"]
    assert checks(result.blurbs[1])["right_paper"][0] == "asked_again"
    assert checks(result.blurbs[0])["right_paper"] == ("passed", None)


def test_a_model_that_mixes_papers_up_even_alone_is_written_offline_and_marked() -> None:
    result, model = write(answering("swap", alone_mix=True))
    assert len(model.requests) == 2 + len(CALL)
    for paper, blurb in zip(CALL, result.blurbs, strict=True):
        assert (blurb.engine, blurb.blurb) == ("offline", offline.write_blurb(paper))
        assert checks(blurb)["right_paper"][0] == "offline"
        # only what the checks caught is listed: nothing passed in what the offline engine wrote
        assert {status for status, _ in checks(blurb).values()} == {"offline"}
    (note,) = result.notes
    assert note.fallback == "offline engine wrote 4"


def inventing(*, alone: bool) -> Callable[[ChatRequest], Any]:
    """Blurbs by the rule, P1's with an invented figure (`alone`: when asked alone too)."""

    def script(request: ChatRequest) -> Any:
        prompt = user_text(request)
        ids = [sid for sid, _, _ in papers_in(prompt)]
        return blurbs_answer(prompt, ids, invent=["P1"] if alone or len(ids) > 1 else [])

    return script


def test_an_invented_figure_is_asked_for_again_naming_it_then_its_sentence_dropped() -> None:
    result, model = write(inventing(alone=True))
    assert [len(papers_in(user_text(r))) for r in model.requests] == [4, 1]
    alone = user_text(model.requests[1])
    assert "gives '37%' and 'GPT-5', which P1's title and abstract do not give" in alone
    first = result.blurbs[0]
    assert (first.engine, first.blurb) == ("llm", OWN["dp-013"])  # without the sentence
    status, caught = checks(first)["numbers"]
    assert status == "sentence_dropped" and caught == "gave '37%' and 'GPT-5', not in the abstract"
    assert checks(first)["right_paper"] == ("passed", None)
    assert INVENTED not in " ".join(b.blurb for b in result.blurbs)
    (note,) = result.notes
    assert note.fallback == "dropped the sentence with the figure: 1"


def test_an_invented_figure_the_model_drops_when_told_is_its_own_blurb() -> None:
    result, _ = write(inventing(alone=False))
    assert result.blurbs[0].blurb == OWN["dp-013"]
    assert checks(result.blurbs[0])["numbers"][0] == "asked_again"


def test_a_failed_re_ask_leaves_the_papers_to_be_asked_for_alone() -> None:
    calls = 0

    def script(request: ChatRequest) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            return ModelUnavailable("the server went away")
        return answering("shift")(request)

    result, model = write(script)
    assert len(model.requests) == 2 + len(CALL)
    assert all(b.engine == "llm" for b in result.blurbs)
    (note,) = result.notes
    assert "asking again failed (fake-model: the server went away)" in note.reason
