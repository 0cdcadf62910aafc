"""The checks of what a model writes against its paper (`agent.summarize.checks`) and the
junk checks that say a blurb or a title says nothing (`asking.junk`), on real sample papers:
what they catch, and that they stay quiet on blurbs written from each paper's own abstract
(the sample day and every eval case)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.evals.cases import load_cases
from agent.models import Paper
from agent.summarize import offline
from agent.summarize.checks.figures import figures, ungrounded, without_sentences
from agent.summarize.checks.right_paper import Papers, is_permutation
from agent.summarize.llm.asking import junk
from agent.summarize.llm.asking.schemas import (
    Headline,
    LenientBlurbs,
    LenientGrouping,
    LenientHeadline,
    blurbs_schema,
    grouping_schema,
)
from tests.fakes.blurb_writers import plain_blurb, plain_why
from tests.llm_answers import sample_papers

REPO = Path(__file__).resolve().parents[1]
SAMPLE = {p.id: p for p in sample_papers()}
LONG_CONTEXT = [SAMPLE[i] for i in ("dp-013", "dp-021", "dp-061", "dp-095")]  # one theme


def texts(text: str) -> list[str]:
    return [f.text for f in ungrounded(text, SOURCE)]


SOURCE = (
    "We train models with 7 billion parameters on 1,000 tasks in three languages and reach "
    "24.7% higher accuracy, a 3.25x speedup over BERT on natural language processing (NLP) "
    "benchmarks such as GLUE, with GPT 4 as the judge and Llama-2-7B as the base."
)


@pytest.mark.parametrize(
    "text",
    [
        "It reaches 25% more and is over 3x faster.",  # rounded figures
        "The 7B model learns 1000 tasks; 24.7 percent better; 3.25× faster.",  # spelled units
        "It uses 7,000,000,000 parameters and 3 languages.",  # a scale written out, a word
        "An NLP model beats BERT on GLUE, judged by GPT-4, built on Llama-2-7B.",  # names
        "The AI runs on a GPU in the US.",  # acronyms every reader knows
    ],
)
def test_figures_the_abstract_states_are_found_however_written(text: str) -> None:
    assert texts(text) == []


def test_figures_the_abstract_does_not_state_are_named() -> None:
    text = "It is 35% better than GPT-5 and ten times faster on ImageNet, with 2.1x less memory."
    assert texts(text) == ["35%", "GPT-5", "ten times", "ImageNet", "2.1x"]
    assert [f.kind for f in figures("BERT gains 2 points")] == ["name", "number"]
    assert texts("该方法在GLUE上提高了25%，超过GPT-5。") == ["GPT-5"]  # glued to Chinese words
    # The version inside a name is the name's; a missing space after a full stop is no name.
    assert [f.text for f in figures("GPT-3.5-Turbo and SQuAD2.0 models.They")] == [
        "GPT-3.5-Turbo",
        "SQuAD2.0",
    ]


def test_the_sentence_with_an_invented_figure_is_dropped() -> None:
    text = "The authors train a model on many tasks. It is 35% better than GPT-5. It is open."
    assert without_sentences(text, ungrounded(text, SOURCE)) == (
        "The authors train a model on many tasks. It is open."
    )


def test_a_blurb_moved_to_another_paper_of_its_call_is_caught_and_named() -> None:
    call = Papers(LONG_CONTEXT)
    blurbs = [plain_blurb(p.title, p.abstract) for p in LONG_CONTEXT]
    for i, paper in enumerate(LONG_CONTEXT):
        assert call.describes(blurbs[i], paper.id) is None  # its own: quiet
        shifted = blurbs[(i + 1) % len(blurbs)]
        assert call.describes(shifted, paper.id) == LONG_CONTEXT[(i + 1) % len(blurbs)]
    found = call.mismatches({p.id: blurbs[(i + 1) % 4] for i, p in enumerate(LONG_CONTEXT)})
    assert is_permutation(found) and len(found) == 4
    one = call.mismatches({LONG_CONTEXT[0].id: blurbs[1], LONG_CONTEXT[1].id: blurbs[1]})
    assert not is_permutation(one)  # one blurb twice is no reshuffle


def test_generic_prose_and_twin_papers_are_never_a_mismatch() -> None:
    twin = LONG_CONTEXT[0].model_copy(update={"id": "copy"})
    call = Papers([*LONG_CONTEXT, twin])
    assert call.describes("The authors study a problem and report results.", "dp-013") is None
    own = plain_blurb(twin.title, twin.abstract)
    assert call.describes(own, "copy") is None and call.describes(own, "dp-013") is None


def all_case_papers() -> list[list[Paper]]:
    return [list(SAMPLE.values())] + [
        list(case.papers) for case in load_cases(REPO / "evals" / "cases")
    ]


@pytest.mark.parametrize("writer", ["offline engine", "rule paraphrase"])
def test_no_check_fires_on_blurbs_written_from_their_own_abstract(writer: str) -> None:
    """The sample day and every eval case, each as one call (the hardest: every other paper
    of the day is a candidate) and through the junk checks: no false alarm."""
    for papers in all_case_papers():
        call = Papers(papers)
        sids = {p.id: f"P{i + 1}" for i, p in enumerate(papers)}
        context = junk.JunkContext(
            titles={sids[p.id]: p.title for p in papers},
            texts={sids[p.id]: p.abstract for p in papers},
        )
        written = {}
        for p in papers:
            if writer == "offline engine":
                blurb, why = offline.write_blurb(p), None
            else:
                blurb, why = plain_blurb(p.title, p.abstract), plain_why(p.abstract)
            written[p.id] = blurb
            text = f"{blurb} {why or ''}"
            assert call.describes(text, p.id) is None, (p.id, text)
            assert ungrounded(text, f"{p.title}\n{p.abstract}") == [], (p.id, text)
        assert junk.blurb_problems([(sids[i], b) for i, b in written.items()], context) == {}


def context_of(papers: list[Paper]) -> junk.JunkContext:
    return junk.JunkContext(
        instructions=junk.shingles(
            "Group these new papers into at most themes a reader can scan. Each theme: a plain "
            "title, a one-sentence summary of what its papers share."
        ),
        titles={f"P{i + 1}": p.title for i, p in enumerate(papers)},
        texts={f"P{i + 1}": p.abstract for i, p in enumerate(papers)},
    )


@pytest.mark.parametrize(
    ("blurb", "needle"),
    [
        ("MGVNlEjI", "is no sentence"),  # a random token string (SmolLM2)
        (
            (
                "Megatron-LM: Training Multi-Billion Parameter Language Models Using Model "
                "Parallelism, a."
            ),
            "is the title of P2",
        ),  # another paper's title, with a suffix
        (
            "Recurrent Graph Syntax Encoder for Neural Machine Translation (RGNEMT)",
            "is its title with a few words added",
        ),  # its own title and an acronym
        ("Recurrent Graph Syntax Encoder for Neural Machine", "is its title"),  # cut
        ("Cats sleep most of the afternoon in warm sunny windows.", "says nothing its paper"),
    ],
)
def test_blurbs_that_say_nothing_about_their_paper_are_caught(blurb: str, needle: str) -> None:
    papers = [SAMPLE["dp-001"], SAMPLE["dp-002"]]
    problems = junk.blurb_problems([("P1", blurb)], context_of(papers))
    assert needle in problems["P1"]


def test_one_blurb_for_two_papers_is_caught_but_a_blurb_that_starts_with_the_title_is_not() -> None:
    papers = [SAMPLE["dp-001"], SAMPLE["dp-002"]]
    context = context_of(papers)
    shared = "The authors train models (GPT-2 and GPT-4) on many machines at once."
    problems = junk.blurb_problems([("P1", shared), ("P2", shared)], context)
    assert problems["P1"] == problems["P2"] and "are the same" in problems["P1"]
    told = (
        "Recurrent Graph Syntax Encoder for Neural Machine Translation adds the grammar of a "
        "sentence to a translation model as a graph, and translates better."
    )
    assert junk.blurb_problems([("P1", told)], context) == {}
    schema = blurbs_schema(["P1", "P2"])
    answer = {
        "summary": "Ways to train and translate.",
        "blurbs": [
            {"paper_id": "P1", "blurb": "MGVNlEjI", "why_it_matters": None},
            {"paper_id": "P2", "blurb": told.replace("Recurrent", "A"), "why_it_matters": None},
        ],
    }
    with pytest.raises(ValidationError, match="is no sentence"):
        schema.model_validate(answer, context=context)
    salvaged = LenientBlurbs.model_validate(answer, context=context)
    assert salvaged.blurbs[0].blurb == "" and "no sentence" in salvaged.junk["P1"]


@pytest.mark.parametrize(
    ("title", "needle"),
    [
        ("Group these 20 new papers into at most 5 themes a reader can scan.", "instructions"),
        (
            "P13: LM-Infinite: Simple On-the-Fly Length Generalization for Large Language.",
            "starts with a paper id",
        ),
        ("[P1] Recurrent Graph Syntax Encoder for N…", "starts with a paper id"),
        ("Recurrent Graph Syntax Encoder for N…", "is the title of P1"),  # cut, over two papers
        ("Megatron-LM: Training Multi-Billion Parameter", "is the title of P2"),  # not its paper
    ],
)
def test_junk_theme_titles_are_rejected_strictly_and_emptied_in_salvage(
    title: str, needle: str
) -> None:
    papers = [SAMPLE["dp-001"], SAMPLE["dp-002"], SAMPLE["dp-003"]]
    context = context_of(papers)
    answer = {
        "themes": [
            {"title": title, "summary": "Machine translation.", "paper_ids": ["P1", "P3"]},
            {"title": "Training big models", "summary": "Many GPUs.", "paper_ids": ["P2"]},
        ]
    }
    with pytest.raises(ValidationError, match=needle):
        grouping_schema(["P1", "P2", "P3"]).model_validate(answer, context=context)
    salvaged = LenientGrouping.model_validate(answer, context=context)
    assert salvaged.themes[0].title == "" and salvaged.themes[1].title == "Training big models"
    summary = {"themes": [{**answer["themes"][0], "title": "Translation", "summary": title}]}
    assert LenientGrouping.model_validate(summary, context=context).themes[0].summary == ""


def test_a_theme_of_one_paper_may_carry_that_papers_title_and_t5_is_no_id() -> None:
    papers = [SAMPLE["dp-001"], SAMPLE["dp-002"]]
    answer = {
        "themes": [
            {"title": papers[0].title, "summary": "Syntax for translation.", "paper_ids": ["P1"]},
            {"title": "T5: a text-to-text model", "summary": "Big models.", "paper_ids": ["P2"]},
        ]
    }
    assert grouping_schema(["P1", "P2"]).model_validate(answer, context=context_of(papers))


def test_the_headline_names_only_what_the_digest_has() -> None:
    context = junk.JunkContext(facts="Long context\nLM-Infinite extends context to 200M tokens.")
    good = {"headline": "Today: LM-Infinite reads 200M tokens. More on long context."}
    assert Headline.model_validate(good, context=context)
    bad = {"headline": "Today: GPT-5 reads 200M tokens. More on long context ahead."}
    with pytest.raises(ValidationError, match="names 'GPT-5', which no theme or paper"):
        Headline.model_validate(bad, context=context)
    salvaged = LenientHeadline.model_validate(bad, context=context)
    assert salvaged.headline == "More on long context ahead."
