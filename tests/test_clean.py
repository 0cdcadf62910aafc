"""Cleaning of the sample's real LaTeX residue and of HTML entities."""

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from agent.resources import sample_corpus_path
from agent.sources import clean
from agent.sources.clean import clean_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (r"by 87\%, 131\% and 55\%", "by 87%, 131% and 55%"),
        (r"we propose Nystr\"{o}mformer", "we propose Nyströmformer"),
        (r"a mechanism we call {\em Transient Global} (TGlobal)", "a mechanism we call Transient Global (TGlobal)"),
        (r"the GLUE, RACE, and \squad benchmarks", "the GLUE, RACE, and SQuAD benchmarks"),
        (r"we implement \proj, a novel technique", "we implement proj, a novel technique"),
        (r"named ``\growlength'' to accelerate", "named “growlength” to accelerate"),
        ("large language models~(LLMs) have", "large language models (LLMs) have"),
        ("EnglishRightarrowGerman translation", "English→German translation"),
        (r"a budget of just 187 and \800 each", "a budget of just 187 and $800 each"),
        ("Q&amp;A with &lt;tags&gt; &#233;t&eacute;", "Q&A with <tags> été"),
        ("  folded \n\t whitespace  ", "folded whitespace"),
        (r"$O(n^{2})$ time and $\alpha \times 2$", "O(n^2) time and α × 2"),
        (r"\textbf{bold \emph{nested}} text", "bold nested text"),
        (r"Erd\H{o}s, G\"odel and \'{e}cole", "Erdős, Gödel and école"),
        (r"as shown~\cite{smith2020} before", "as shown before"),
        (r"the norm $\|Q\|_F$ is small", "the norm ‖Q‖_F is small"),
        ("compress BERT by 4times with minimal loss", "compress BERT by 4× with minimal loss"),
        ("inference on 4timesRTX 3090 GPUs", "inference on 4× RTX 3090 GPUs"),
        ("sometimes it works", "sometimes it works"),
        ("", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_sample_corpus_has_no_latex_residue_after_cleaning() -> None:
    residue = ["\\%", '\\"', "{\\em", "\\squad", "~(", "``"]
    for line in sample_corpus_path().read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        for field in ("title", "abstract"):
            cleaned = clean_text(record[field])
            assert not any(mark in cleaned for mark in residue), (record["id"], cleaned)
            assert "\\" not in cleaned, (record["id"], cleaned)
            assert "  " not in cleaned


# ------------------------------------------------------------------ the fast path (issue 13)

FIXTURES = Path(__file__).parent / "fixtures"


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


def _corpus_strings() -> list[str]:
    """Every string of the sample corpus and of the recorded feed responses (JSON values, XML
    element texts), as the sources hand them to the cleaner."""
    found: list[str] = []
    for line in sample_corpus_path().read_text(encoding="utf-8").splitlines():
        if line.strip():
            found += _strings(json.loads(line))
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix == ".json":
            found += _strings(json.loads(path.read_text(encoding="utf-8")))
        elif path.suffix == ".yaml":
            found += _strings(yaml.safe_load(path.read_text(encoding="utf-8")))
        elif path.suffix in (".xml", ".atom", ".rss"):
            found += [e.text for e in ElementTree.parse(path).iter() if e.text and e.text.strip()]
    return found


TRICKY = [
    "compress BERT by 4times", "EnglishRightarrowGerman", "from left(x) to right]", "a -- b",
    "Q&amp;A", "x~y", "``quoted''", "×2 faster", "{braced}", "$5", "plain words, nothing else",
    "caf\u0065\u0301 in NFD", "  spaced \n out  ", "model's \"quoted\" text", "α-β (γ) — δ",
]  # fmt: skip


def test_fast_path_output_is_identical_on_the_whole_corpus_and_fixtures(monkeypatch):
    strings = _corpus_strings() + TRICKY
    assert len(strings) > 1000
    fast = [clean_text(s) for s in strings]
    monkeypatch.setattr(clean, "_TRIGGER_RE", re.compile(""))  # every string takes the full path
    full = [clean_text(s) for s in strings]
    differing = [(s, f, g) for s, f, g in zip(strings, fast, full, strict=True) if f != g]
    assert differing == []


def test_fast_path_is_taken_for_most_strings():
    strings = _corpus_strings()
    plain = [s for s in strings if not clean._TRIGGER_RE.search(s)]
    assert len(plain) > 0.6 * len(strings)
    assert clean._TRIGGER_RE.search(r"by 87\%") and clean._TRIGGER_RE.search("4times")
