"""Cleaning of the sample's real LaTeX residue and of HTML entities."""

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from agent.core.resources import sample_corpus_path
from agent.core.safe_text import strip_hidden
from agent.models import MAX_UPVOTES, Paper
from agent.sources import clean
from agent.sources.clean import clean_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (r"by 87\%, 131\% and 55\%", "by 87%, 131% and 55%"),
        (r"we propose Nystr\"{o}mformer", "we propose Nyströmformer"),
        (
            r"a mechanism we call {\em Transient Global} (TGlobal)",
            "a mechanism we call Transient Global (TGlobal)",
        ),
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


# -- hidden characters and hostile numbers ---------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Invoice\u202egnp.exe", "Invoicegnp.exe"),  # right-to-left override: "exe.png" shown
        ("a\u2066b\u2069c\u202ad\u202ce", "abcde"),  # isolates and embeddings
        ("zero\u200bwidth\u200c\u200d\ufeffjoin\u2060", "zerowidthjoin"),
        ("nul\x00bell\x07esc\x1b[31mred", "nulbellesc[31mred"),
        ("keeps\ttabs\nand lines", "keeps\ttabs\nand lines"),
        ("non\ufffecharacters\uffff\ufdd0\ufdef\U0001fffe\U0010ffff", "noncharacters"),
        ("\ufdcf\ufdf0\ufffd kept", "\ufdcf\ufdf0\ufffd kept"),  # next to them, assigned
        ("Nyström — ü ñ 漢字 ok", "Nyström — ü ñ 漢字 ok"),
    ],
)
def test_hidden_characters_are_removed(raw: str, clean: str) -> None:
    assert strip_hidden(raw) == clean


def test_papers_never_carry_hidden_characters() -> None:
    paper = Paper(
        id=" x1\x1b[2J\u202e\uffff",  # an id is printed and written wherever its paper is
        title="Safe\u202eexe.gnp\x00",
        abstract="A\u200bB\x07",
        authors=("Ann\u202e", "\u200b"),
    )
    assert paper.title == "Safeexe.gnp" and paper.abstract == "AB"
    assert paper.id == "x1[2J"
    assert paper.authors == ("Ann",)


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        (-5, 0),
        ("-3", 0),
        ("12", 12),
        (7.9, 7),
        ("many", None),
        (None, None),
        (True, None),
        (10**30, MAX_UPVOTES),
        ("1e400", MAX_UPVOTES),
        (float("nan"), None),
        ([3], None),
    ],
)
def test_upvotes_are_clamped_or_ignored(raw: object, kept: int | None) -> None:
    assert Paper(id="x", title="t", upvotes=raw).upvotes == kept


def test_a_hostile_feed_file_builds_a_digest(tmp_path: Path) -> None:
    """Negative and absurd upvotes, NUL, bidi overrides, a 5,000-character title: the run
    completes; the email shortens the long title, digest.json keeps it whole."""
    from tests.processes import run_digest

    long_title = "Long " + "words " * 1000
    rows = [
        {
            "id": "h1",
            "title": "Report\u202egnp.exe",
            "abstract": "We\x00 study\u200b things.",
            "upvotes": -4,
        },
        {"id": "h2", "title": long_title, "abstract": "We study things too.", "upvotes": "lots"},
        {"id": "h3", "title": "Third paper", "abstract": "Still more.", "upvotes": 10**40},
    ]
    feed = tmp_path / "hostile.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = run_digest(
        "daily",
        "--source",
        f"file:{feed}",
        "--engine",
        "offline",
        "--no-send",
        "--date",
        "2026-11-26",
        "--out",
        str(tmp_path / "out"),
        home=tmp_path / "home",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out" / "2026-11-26"
    data = json.loads((out / "digest.json").read_text(encoding="utf-8"))
    titles = {p["id"]: p["title"] for t in data["themes"] for p in t["papers"]}
    assert titles["h1"] == "Reportgnp.exe"
    assert titles["h2"] == " ".join(long_title.split())
    for name in ("digest.html", "digest.txt"):
        text = (out / name).read_text(encoding="utf-8")
        assert "\u202e" not in text and "\x00" not in text
        assert " ".join(long_title.split()) not in " ".join(text.split())
        assert "Long words words" in text
