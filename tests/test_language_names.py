"""Human languages as one subject in the ranking: the shipped names list, what counts as a
mention, the term the analyzer adds, and a reader of two language papers getting a third."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from agent.core.resources import language_names_path
from agent.models import Paper
from agent.select import Interests, LibraryEntry, ReaderProfile, select_papers
from agent.select.languages import LANGUAGE, SHOWN_AS, is_mention, names
from agent.select.terms import Analyzer

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location(
        "language_names", ROOT / "tools/language_names.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["language_names"] = module
    spec.loader.exec_module(module)
    return module


def test_the_shipped_list_is_what_the_tool_makes_from_iso_639() -> None:
    tool = _tool()
    assert language_names_path().read_text(encoding="utf-8") == tool.text()
    assert tool.main(["--check"]) == 0
    listed = names()
    assert {"greek", "arabic", "polish", "norwegian", "nynorsk", "bangla", "english"} <= listed
    assert "bokmål" not in listed  # the ranker's words are ASCII
    assert "yi" not in listed and "modern" not in listed  # "Sichuan Yi", "Modern Greek"
    assert len(listed) > 150


def test_a_mention_is_a_capitalised_name_or_a_lingual_word() -> None:
    assert all(map(is_mention, ["Greek", "Arabic", "Nynorsk", "Bangla", "English"]))
    assert all(map(is_mention, ["multilingual", "Cross-lingual", "bilingual", "multilinguality"]))
    assert not any(map(is_mention, ["polish", "greek", "Yi", "GreekBART", "lingual", "Modern"]))


def _mentions(text: str) -> int:
    return Analyzer()(text).count(LANGUAGE)


def test_the_analyzer_adds_one_language_term_per_mention_and_names_it_for_a_reader() -> None:
    analyzer = Analyzer()
    terms = analyzer("A Greek model, trained on Greek text; multilingual too.")
    assert terms.count(LANGUAGE) == 3 and "greek" in terms
    assert LANGUAGE not in analyzer("A model of text, trained on the web.")
    assert _mentions("GreekBART: the first pretrained Greek model, for Greek and Arabic.") == 3
    assert _mentions("We polish the outputs of the Yi model and of GreekBART.") == 0
    assert _mentions("A multilingual, cross-lingual and bilingual encoder") == 3
    assert analyzer.word(LANGUAGE, ["Greek", "Arabic"]) == SHOWN_AS


def _paper(pid: str, title: str, abstract: str) -> Paper:
    return Paper(id=pid, title=title, abstract=abstract, source="test")


def test_a_reader_of_two_language_papers_gets_a_third_language_first(monkeypatch) -> None:
    """The Greek paper and the English one share as many words with the Polish and Arabic
    papers; the language names are what puts the Greek one first (and without them, it is not)."""
    library = (
        LibraryEntry(
            key="pl",
            title="Pre-trained transformers for Polish",
            abstract="We release pre-trained transformers for Polish and evaluate them on Polish "
            "benchmarks.",
        ),
        LibraryEntry(
            key="ar",
            title="A pre-trained transformer for Arabic",
            abstract="We train a transformer for Arabic text generation.",
        ),
    )
    greek = _paper(
        "el",
        "A pre-trained model for Greek",
        "The first pre-trained model for Greek, trained on Greek news.",
    )
    english = _paper(
        "en",
        "Scaling pre-trained transformers",
        "We study how pre-trained transformers scale with data and compute.",
    )
    others = [
        _paper(f"o{i}", f"{topic} for vision", f"A study of {topic} in image models.")
        for i, topic in enumerate(["Pruning", "Quantization", "Distillation", "Sparsity"])
    ]
    interests = Interests(profile=ReaderProfile(library=library), threshold="off")
    day = [english, *others, greek]
    selection = select_papers(day, max_papers=2, interests=interests)
    assert [p.id for p in selection.selected] == ["el", "en"]
    assert SHOWN_AS in selection.why["el"], selection.why
    monkeypatch.setattr("agent.select.languages.is_mention", lambda word: False)
    without = select_papers(day, max_papers=2, interests=interests)
    assert [p.id for p in without.selected] == ["en", "el"]
