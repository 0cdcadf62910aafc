"""Cleaning of the sample's real LaTeX residue and of HTML entities."""

import json

import pytest

from agent.resources import sample_corpus_path
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
