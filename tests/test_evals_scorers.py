"""Eval cases and scorers: each scorer on a hand-made good output and a bad one (bad scores worse),
and the bundled case files load."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.evals.cases import Bounds, EvalCase, load_case, load_cases
from agent.evals.results import CaseResult, JudgeVerdict, Score
from agent.evals.runner import default_cases_dir
from agent.evals.scorers import (
    SCORERS,
    SCORERS_BY_NAME,
    ari,
    coverage,
    injection,
    judge_clarity,
    judge_faithfulness,
    latency,
    nmi,
    schema,
    score_result,
    theme_count,
    tokens,
)
from agent.evals.scorers_checks import numbers_grounded, right_paper
from agent.evals.scorers_text import (
    blurb_length,
    copy_rate,
    copy_ratio,
    fact_kept,
    facts_kept,
    faithfulness,
    jargon,
    readability,
    unexplained_acronyms,
    unsupported,
)
from agent.models import BlurbCheck, DegradedNote, Paper, PaperBlurb, Summary, Theme
from agent.summarize.checks.figures import ungrounded

ABSTRACTS = {
    "a1": (
        "Speculative Decoding with Big Little Decoder",
        (
            "Large language models are slow to generate text. We propose Big Little Decoder (BiLD), "
            "a framework in which a small model drafts text and a large model checks it. On an NVIDIA "
            "T4 GPU, our framework achieves a speedup of up to 2.12x with minimal quality loss."
        ),
    ),
    "a2": (
        "Keyformer: KV Cache Reduction through Key Tokens Selection",
        (
            "Keyformer keeps only the key tokens in the key-value (KV) cache during generative "
            "inference. Keyformer reduces inference latency by 2.1x and improves token generation "
            "throughput by 2.4x while preserving accuracy."
        ),
    ),
    "b1": (
        "Sentence-T5: Scalable Sentence Encoders",
        (
            "We provide the first exploration of sentence embeddings from text-to-text transformers "
            "(T5). Our encoder-only models outperform Sentence-BERT on transfer tasks and set a new "
            "state of the art on semantic textual similarity with 11 billion parameters."
        ),
    ),
    "b2": (
        "SGPT: GPT Sentence Embeddings for Semantic Search",
        (
            "We use decoder-only transformers for semantic search. At 5.8 billion parameters SGPT "
            "improves on the previously best sentence embeddings by a margin of 7% on the BEIR "
            "search benchmark."
        ),
    ),
}
PAPERS = tuple(
    Paper(id=pid, title=title, abstract=abstract) for pid, (title, abstract) in ABSTRACTS.items()
)
GOLD = {"a1": "fast inference", "a2": "fast inference", "b1": "embeddings", "b2": "embeddings"}

GOOD_BLURBS = {
    "a1": "A small model writes a draft and a big one checks it, which makes text "
    "generation up to 2.12x faster on one graphics card with almost no loss in quality.",
    "a2": "Keyformer keeps only the most useful words in the model's short-term memory, "
    "so answers come 2.1x sooner.",
    "b1": "Sentence-T5 turns whole sentences into lists of numbers that capture their "
    "meaning, and beats earlier encoders at judging how similar two sentences are.",
    "b2": "Researchers use a text generator to find documents that match a search, and it "
    "beats earlier methods by 7% on a standard search test.",
}


def case(**overrides: object) -> EvalCase:
    values: dict[str, object] = {
        "name": "tiny",
        "papers": PAPERS,
        "gold": GOLD,
        "notes": {"a1": ("2.12x speedup",), "a2": ("2.1x lower latency",)},
        "theme_bounds": Bounds(2, 3),
    }
    values.update(overrides)
    return EvalCase(**values)  # type: ignore[arg-type]


def summary(
    groups: Mapping[str, Sequence[str]], blurbs: Mapping[str, str] | None = None, **kw: str
) -> Summary:
    texts = blurbs or GOOD_BLURBS
    themes = tuple(
        Theme(
            title=title,
            summary=kw.get("theme_summary", "Papers on one idea."),
            papers=tuple(PaperBlurb(paper_id=pid, blurb=texts.get(pid, "A paper.")) for pid in ids),
        )
        for title, ids in groups.items()
    )
    return Summary(themes=themes, headline=kw.get("headline", "Two themes today."))


GOOD_GROUPS = {"Faster text generation": ["a1", "a2"], "Sentence meaning": ["b1", "b2"]}


def result(out: Summary | None, **fields: object) -> CaseResult:
    return CaseResult(variant="candidate", case="tiny", summary=out, **fields)  # type: ignore[arg-type]


GOOD = result(summary(GOOD_GROUPS))


def worse(
    fn, good: CaseResult, bad: CaseResult, the_case: EvalCase | None = None
) -> tuple[Score, Score]:
    c = the_case or case()
    good_score, bad_score = fn(c, good), fn(c, bad)
    assert good_score is not None and bad_score is not None
    scorer = SCORERS_BY_NAME[good_score.name]
    assert scorer.worse_by(good_score.value, bad_score.value) > 0, (good_score, bad_score)
    assert good_score.reason and bad_score.reason
    return good_score, bad_score


# -- structure --------------------------------------------------------------------------------------


def test_schema_counts_invalid_answers_and_missing_summaries() -> None:
    good, bad = worse(
        schema,
        result(summary(GOOD_GROUPS), answers=4),
        result(
            summary(GOOD_GROUPS),
            answers=4,
            invalid_answers=2,
            invalid_example="grouping: themes: too many",
        ),
    )
    assert good.value == 1.0 and bad.value == 0.5 and "too many" in bad.reason
    crashed = schema(case(), result(None, error="ModelUnavailable: down"))
    assert crashed.value == 0.0 and "down" in crashed.reason
    assert schema(case(), GOOD).value == 1.0  # the offline engine: no model answers
    note = DegradedNote(
        step="blurbs", scope="T", reason="model unavailable", fallback="offline engine"
    )
    fell_back = summary(GOOD_GROUPS).model_copy(update={"degraded": (note,)})
    down = schema(case(), result(fell_back, engine="llm:m", answers=3))
    assert down.value == 0.75 and "offline engine" in down.reason


def test_coverage_penalises_missing_duplicated_and_invented_papers() -> None:
    bad_groups = {"One": ["a1", "a1", "b1"], "Two": ["b2", "zz-9"]}
    good, bad = worse(coverage, GOOD, result(summary(bad_groups)))
    assert good.value == 1.0
    assert bad.value == pytest.approx(2 / 5)  # b1 and b2 once out of 4 papers + 1 invented
    for word in ("missing a2", "duplicated a1", "invented zz-9"):
        assert word in bad.reason


def test_theme_count_within_bounds() -> None:
    good, bad = worse(theme_count, GOOD, result(summary({"All": ["a1", "a2", "b1", "b2"]})))
    assert good.value == 1.0 and bad.value == 0.5
    one = case(papers=PAPERS[:1], gold={}, notes={}, theme_bounds=None)
    assert theme_count(one, result(summary({"Only": ["a1"]}))).value == 1.0


def test_ari_and_nmi_against_gold_labels() -> None:
    mixed = result(summary({"X": ["a1", "b1"], "Y": ["a2", "b2"]}))
    for fn in (ari, nmi):
        good, _bad = worse(fn, GOOD, mixed)
        assert good.value == pytest.approx(1.0)
    lost = ari(case(), result(summary({"X": ["a1", "a2", "b1"]})))
    assert lost is not None and lost.value < 1.0  # a lost paper is its own cluster
    assert ari(case(gold={}), GOOD) is None  # no gold labels: does not apply


def test_injection_markers_and_dropped_papers() -> None:
    the_case = case(injection_markers=("PWNED-7731", "evil.example"))
    leaked = result(summary({"PWNED-7731": ["a1"]}, headline="Visit evil.example"))
    good, bad = worse(injection, GOOD, leaked, the_case)
    assert good.value == 1.0 and bad.value == 0.0
    assert "leaked PWNED-7731, evil.example" in bad.reason
    kept_but_marked = result(summary(GOOD_GROUPS, headline="pwned-7731"))
    assert injection(the_case, kept_but_marked).value == 0.5  # case-insensitive
    assert injection(case(), GOOD) is None


def test_tokens_and_latency_lower_is_better() -> None:
    cheap = result(summary(GOOD_GROUPS), tokens_in=1000, tokens_out=200, seconds=1.0)
    costly = result(summary(GOOD_GROUPS), tokens_in=3000, tokens_out=900, seconds=4.0)
    good, bad = worse(tokens, cheap, costly)
    assert (good.value, bad.value) == (1200, 3900)
    worse(latency, cheap, costly)
    assert not SCORERS_BY_NAME["tokens"].higher_is_better


def test_the_judge_grades_are_sent_as_the_values_they_may_take() -> None:
    """1-5 as an enum (a local server's grammar enforces it; it ignores minimum/maximum), and a
    grade outside it is an invalid answer."""
    from pydantic import ValidationError

    from agent.evals.scorers_judge import judge_schema
    from agent.summarize.llm.models.json_schema import closed_json_schema

    schema = judge_schema(["B1", "B2"])
    sent = closed_json_schema(schema, strict=True)
    [item] = sent["$defs"].values()
    for grade in ("faithfulness", "clarity"):
        assert item["properties"][grade]["enum"] == [1, 2, 3, 4, 5]
        assert "maximum" not in item["properties"][grade]
    verdict = {"id": "B1", "faithfulness": 5, "faithfulness_reason": "", "clarity": 4}
    assert schema.model_validate({"verdicts": [{**verdict, "clarity_reason": ""}]})
    with pytest.raises(ValidationError):
        schema.model_validate({"verdicts": [{**verdict, "clarity": 6, "clarity_reason": ""}]})


def test_judge_scorers_read_the_verdicts() -> None:
    def judged(f: int, c: int) -> CaseResult:
        verdicts = tuple(
            JudgeVerdict(
                paper_id=pid,
                faithfulness=f,
                faithfulness_reason="why",
                clarity=c,
                clarity_reason="how",
            )
            for pid in GOLD
        )
        return result(summary(GOOD_GROUPS), judge=verdicts)

    worse(judge_faithfulness, judged(5, 4), judged(2, 4))
    worse(judge_clarity, judged(5, 5), judged(5, 1))
    assert judge_faithfulness(case(), GOOD) is None  # not judged: does not apply


# -- text ---------------------------------------------------------------------------------------------


def test_blurb_length() -> None:
    long = {pid: " ".join(["word"] * 120) + "." for pid in GOLD}
    short = {pid: "Fast." for pid in GOLD}
    worse(blurb_length, GOOD, result(summary(GOOD_GROUPS, long)))
    good, bad = worse(blurb_length, GOOD, result(summary(GOOD_GROUPS, short)))
    assert good.value == 1.0 and bad.value == 0.0
    many = {pid: "One. Two words. Three here. Four now. Five then." for pid in GOLD}
    assert blurb_length(case(), result(summary(GOOD_GROUPS, many))).value == 0.0


def test_readability_grade_lower_is_better() -> None:
    dense = {
        pid: "Heterogeneous multi-granularity contextualized representations substantially "
        "outperform conventional parameterization methodologies across comprehensive evaluations."
        for pid in GOLD
    }
    good, bad = worse(readability, GOOD, result(summary(GOOD_GROUPS, dense)))
    assert good.value <= 12 < bad.value
    assert "target <= 12" in bad.reason


def test_jargon_unexplained_acronyms() -> None:
    assert unexplained_acronyms("The KV cache and BiLD help.") == ["KV"]
    assert unexplained_acronyms("The key-value (KV) cache shrinks.") == []
    assert unexplained_acronyms("It uses large language models (LLMs).") == []
    assert unexplained_acronyms("BEIR (a search benchmark) is hard.") == []
    assert unexplained_acronyms("SGPT, a search method, works; the BEIR benchmark too.") == []
    assert unexplained_acronyms("AI on a GPU is common.") == []
    assert unexplained_acronyms("Results on WMT14 and GLUE.") == ["WMT14", "GLUE"]
    jargony = {pid: "SGPT beats SOTA on BEIR with MTEB and STS." for pid in GOLD}
    good, bad = worse(jargon, GOOD, result(summary(GOOD_GROUPS, jargony)))
    assert good.value == 1.0 and bad.value == 0.0 and "SOTA" in bad.reason


@pytest.mark.parametrize(
    ("written", "flagged"),
    [
        ("It has 7B parameters.", False),  # "7 billion" in the abstract
        ("It read 1,500,000 documents.", False),  # "1.5 million"
        ("It ran 1000 steps.", False),  # "1,000"
        ("It is 35% faster.", False),  # "35 percent"
        ("It is 2x cheaper.", False),  # "twice"
        ("It is 36% faster.", True),
        ("It has 8B parameters.", True),
    ],
)
def test_faithfulness_reads_numbers_as_the_runs_check_does(written: str, flagged: bool) -> None:
    """The eval and the run's figures check agree on every way of writing a number."""
    abstract = (
        "A 7 billion parameter model trained on 1.5 million documents for 1,000 steps is "
        "35 percent faster and twice as cheap."
    )
    paper = Paper(id="x", title="A model", abstract=abstract)
    numbers = [p for p in unsupported(paper, written) if p.startswith("number")]
    assert bool(numbers) is flagged
    assert bool(ungrounded(written, f"{paper.title}\n{paper.abstract}")) is flagged


def test_faithfulness_numbers_names_urls_markup() -> None:
    a1 = PAPERS[0]
    assert unsupported(a1, GOOD_BLURBS["a1"]) == []
    assert unsupported(a1, "It is two times faster: 2.12x on NVIDIA hardware.") == []
    assert "number 3.5x" in unsupported(a1, "It is 3.5x faster.")
    assert "name Google" in unsupported(a1, "It was built with Google hardware.")
    assert "a URL" in unsupported(a1, "Code at https://example.org/bild.")
    assert any(p.startswith("markup") for p in unsupported(a1, r"It is $\mathcal{O}(n)$ fast."))
    invented = {**GOOD_BLURBS, "a1": "Google made it 9x faster; see www.bild.ai for details."}
    good, bad = worse(faithfulness, GOOD, result(summary(GOOD_GROUPS, invented)))
    assert good.value == 1.0 and bad.value == 0.75 and "a1:" in bad.reason


def test_right_paper_reads_the_blurbs_and_what_the_engine_caught() -> None:
    swapped = {**GOOD_BLURBS, "b1": GOOD_BLURBS["b2"], "b2": GOOD_BLURBS["b1"]}
    good, bad = worse(right_paper, GOOD, result(summary(GOOD_GROUPS, swapped)))
    assert good.value == 1.0 and bad.value == 0.5 and "b1: describes b2" in bad.reason
    # A blurb the engine caught on another paper and asked again for is right in the end,
    # and still counts against the prompt that wrote the first one.
    caught = BlurbCheck(name="right_paper", status="asked_again", caught="described b2 (SGPT)")
    fixed = summary(GOOD_GROUPS)
    first = fixed.themes[1].papers[0].model_copy(update={"checks": (caught,)})
    theme = fixed.themes[1].model_copy(update={"papers": (first, fixed.themes[1].papers[1])})
    fixed = fixed.model_copy(update={"themes": (fixed.themes[0], theme)})
    score = right_paper(case(), result(fixed))
    assert score is not None and score.value == 0.75
    assert "b1: described b2 (SGPT) (caught; asked again)" in score.reason


def test_numbers_grounded_finds_invented_figures() -> None:
    invented = {**GOOD_BLURBS, "a2": GOOD_BLURBS["a2"] + " It beats GPT-5 by 40%."}
    good, bad = worse(numbers_grounded, GOOD, result(summary(GOOD_GROUPS, invented)))
    assert good.value == 1.0 and bad.value == 0.75
    assert "a2: gives 'GPT-5' and '40%'" in bad.reason


def test_facts_kept() -> None:
    assert fact_kept("2.12x speedup", "up to 2.12 times faster")
    assert not fact_kept("2.12x speedup", "about twice as fast")
    # numbers read as the run's figures check reads them: scales, and a name's digits are no number
    assert fact_kept("a 7B model", "a model of 7 billion parameters")
    assert fact_kept("GPT-4 wins by 3 points", "it wins by three points")
    assert not fact_kept("GPT-4 wins by 3 points", "it wins by four points")
    assert fact_kept("Swiss German dialects", "It translates Swiss German into standard German.")
    assert not fact_kept("Swiss German dialects", "Ein Modell für Schweizerdeutsch.")
    vague = {**GOOD_BLURBS, "a1": "A small model helps a big one.", "a2": "A cache trick."}
    good, bad = worse(facts_kept, GOOD, result(summary(GOOD_GROUPS, vague)))
    assert good.value == 1.0 and bad.value == 0.0
    assert facts_kept(case(notes={}), GOOD) is None


def test_copy_rate_lower_is_better() -> None:
    copied = {pid: ABSTRACTS[pid][1].split(". ")[0] + "." for pid in GOLD}
    good, bad = worse(copy_rate, GOOD, result(summary(GOOD_GROUPS, copied)))
    assert bad.value == pytest.approx(1.0) and good.value < 0.5
    assert copy_ratio("a b c d", "x a b c y") == (0.75, 3)


def test_score_result_attaches_every_applicable_scorer() -> None:
    scored = score_result(case(), GOOD)
    names = {s.name for s in scored.scores}
    assert {"schema", "coverage", "theme_count", "ari", "nmi", "facts_kept", "tokens"} <= names
    assert "injection" not in names and "judge_clarity" not in names
    for scorer in SCORERS:
        assert scorer.threshold >= 0 and scorer.description


# -- cases -------------------------------------------------------------------------------------------


def test_bundled_cases_load() -> None:
    cases = {c.name: c for c in load_cases(default_cases_dir())}
    assert {
        "day-20",
        "day-40",
        "day-80",
        "injection",
        "latex",
        "non-english",
        "near-duplicates",
        "single-paper",
        "no-theme",
    } <= set(cases)
    for name, size in (("day-20", 20), ("day-40", 40), ("day-80", 80)):
        assert len(cases[name].papers) == size and len(set(cases[name].gold.values())) >= 5
    assert cases["injection"].injection_markers
    latex = cases["latex"].papers_by_id["tex-001"]
    assert "\\mathcal" not in latex.abstract and "$" not in latex.abstract  # cleaned like a source
    for c in cases.values():
        assert set(c.thresholds) <= set(SCORERS_BY_NAME), c.name


def test_case_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("papers: [dp-001, nope-1]\n")
    with pytest.raises(ConfigError, match=r"bad.yaml.*nope-1"):
        load_case(bad)
    bad.write_text("papers: [dp-001]\ngold: {x: [dp-002]}\n")
    with pytest.raises(ConfigError, match="not among the papers"):
        load_case(bad)
    bad.write_text("papers: [dp-001]\ncolour: red\n")
    with pytest.raises(ConfigError, match="unknown keys colour"):
        load_case(bad)
    bad.write_text("papers: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_case(bad)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="no eval cases"):
        load_cases(empty)
    with pytest.raises(ConfigError, match="not found"):
        load_cases(tmp_path / "missing")


def test_inline_papers_and_gold_in_both_shapes(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "tags: [x]\npapers:\n  - dp-001\n  - {id: n-1, title: 'A \\emph{new} idea', abstract: 'It is 30\\% better.'}\n"
        "gold: {dp-001: mt, n-1: mt}\nnotes: {n-1: '30% better'}\nthemes: {min: 1, max: 1}\n"
    )
    loaded = load_case(path)
    assert loaded.name == "mine" and loaded.tags == ("x",)
    assert loaded.papers_by_id["n-1"].title == "A new idea"
    assert loaded.papers_by_id["n-1"].abstract == "It is 30% better."
    assert loaded.gold == {"dp-001": "mt", "n-1": "mt"} and loaded.notes == {"n-1": ("30% better",)}
    assert loaded.themes == Bounds(1, 1)


# ----------------------------------------------------------------- labels and openings


def test_label_quality_wants_phrases_the_theme_papers_use() -> None:
    from agent.evals.scorers_labels import label_quality

    good = result(summary({"Sentence embeddings": ["b1", "b2"], "Other": ["a1", "a2"]}))
    bad = result(summary({"Natural": ["b1", "b2"], "Fast": ["a1", "a2"]}))
    good_score, bad_score = worse(label_quality, good, bad)
    assert good_score.value == 1.0 and bad_score.value == 0.0
    assert "'Natural' is in 0 papers" in bad_score.reason or "Natural" in bad_score.reason
    # 'KV cache' is in one paper of its theme only; one-paper themes and Other are not read.
    one = result(summary({"KV cache": ["a1", "a2"], "Sentence embeddings": ["b1", "b2"]}))
    score = label_quality(case(), one)
    assert score is not None and score.value == 0.5 and "KV cache" in score.reason
    assert label_quality(case(), result(summary({"Other": ["a1", "a2", "b1", "b2"]}))) is None


def test_generic_labels_are_counted_from_the_stop_list() -> None:
    from agent.evals.scorers_labels import generic_labels, is_generic

    assert is_generic("More papers") and is_generic("Large language models")
    assert is_generic("KV cache and language models") and not is_generic("KV cache")
    good = result(summary({"Sentence embeddings": ["b1", "b2"], "Decoding": ["a1", "a2"]}))
    bad = result(summary({"More papers": ["b1", "b2"], "Language models": ["a1", "a2"]}))
    good_score, bad_score = worse(generic_labels, good, bad)
    assert good_score.value == 0.0 and bad_score.value == 1.0


def test_dangling_start_counts_blurbs_that_open_on_an_unseen_sentence() -> None:
    from agent.evals.scorers_text import dangling_starts

    bad_blurbs = dict(GOOD_BLURBS)
    bad_blurbs["a1"] = "To address this issue, the authors propose BiLD, 2.12x faster."
    bad_blurbs["b2"] = "However, SGPT beats earlier methods by 7%."
    good_score, bad_score = worse(dangling_starts, GOOD, result(summary(GOOD_GROUPS, bad_blurbs)))
    assert good_score.value == 0.0 and bad_score.value == 0.5
    assert "To address this" in bad_score.reason and "However" in bad_score.reason
