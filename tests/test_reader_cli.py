"""The reader's side of the command line, end to end in-process: --library on daily and topic,
`why` in digest.json, the HTML and the text email, the cold-start footer hint, `digest rate`,
a broken library (exit 2, one line), and the relevance cases in `digest eval`."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from agent.cli import main
from agent.summarize.llm.run.tokens import OFFLINE_ENV

REPO = Path(__file__).resolve().parents[1]
BIB = REPO / "tests" / "fixtures" / "library" / "compression.bib"
DAY = "2026-11-26"

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("DIGEST_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv(OFFLINE_ENV, "1")
    monkeypatch.setenv("COLUMNS", "200")


def digest(*args: str, home: Path) -> Result:
    return CliRunner().invoke(main, list(args), env={"DIGEST_HOME": str(home)})


def daily(tmp_path: Path, *extra: str) -> tuple[Result, Path]:
    out = tmp_path / "out"
    result = digest(
        "daily",
        "--source",
        "sample",
        "--engine",
        "offline",
        "--date",
        DAY,
        "--max-papers",
        "10",
        "--out",
        str(out),
        *extra,
        home=tmp_path / "home",
    )
    return result, out / DAY


def test_daily_with_a_library_ranks_by_it_and_says_why_everywhere(tmp_path: Path) -> None:
    result, day = daily(tmp_path, "--library", str(BIB))
    assert result.exit_code == 0, result.output
    data = json.loads((day / "digest.json").read_text(encoding="utf-8"))
    papers = [p for theme in data["themes"] for p in theme["papers"]]
    assert len(papers) == 10 and all(p["why"] for p in papers)
    assert (
        sum(p["why"].startswith(("close to your library", "in your library")) for p in papers) >= 8
    )
    assert "dp-162" in {p["id"] for p in papers}  # Prune Once for All
    assert data["hint"] is None
    prune = next(p for p in papers if p["id"] == "dp-162")
    html = (day / "digest.html").read_text(encoding="utf-8")
    text = (day / "digest.txt").read_text(encoding="utf-8")
    assert "Why here: " in html and "dp-162" in html
    assert "Why here:" in text and "[dp-162]" in text
    assert prune["why"].split(" (")[0].split(": ", 1)[1][:20] in " ".join(text.split())
    # the terminal lists each paper's ID (for `digest rate`) and why
    assert "dp-162" in result.output and "close to your library" in result.output


def test_cold_start_footer_says_how_to_personalise(tmp_path: Path) -> None:
    result, day = daily(tmp_path)
    assert result.exit_code == 0, result.output
    data = json.loads((day / "digest.json").read_text(encoding="utf-8"))
    assert data["hint"].startswith("Personalise this digest")
    assert "Personalise this digest" in (day / "digest.html").read_text(encoding="utf-8")
    assert "Personalise this digest" in (day / "digest.txt").read_text(encoding="utf-8")
    assert all(p["why"] == "new in your sources" for t in data["themes"] for p in t["papers"])


def test_rate_list_and_the_next_run_learns_from_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    up = digest("rate", "dp-107", "up", home=home)
    assert up.exit_code == 0 and "Rated up: dp-107 GPTQ" in up.output
    down = digest("rate", "dp-012", "down", home=home)
    assert down.exit_code == 0, down.output
    listed = digest("rate", "--list", home=home)
    assert listed.exit_code == 0
    lines = [line for line in listed.output.splitlines() if line.strip()]
    assert lines[0].startswith("up    dp-107") and lines[1].startswith("down  dp-012")
    again = digest("rate", "dp-107", "down", home=home)  # a change of mind replaces the rating
    assert again.exit_code == 0
    assert digest("rate", "--list", home=home).output.count("dp-107") == 1
    digest("rate", "dp-107", "up", home=home)
    result, day = daily(tmp_path)
    assert result.exit_code == 0, result.output
    data = json.loads((day / "digest.json").read_text(encoding="utf-8"))
    whys = [p["why"] for t in data["themes"] for p in t["papers"]]
    assert any("rated up" in why for why in whys)
    assert data["hint"] is None  # ratings are personal: no cold-start hint


def test_rate_usage_errors(tmp_path: Path) -> None:
    home = tmp_path / "home"
    unknown = digest("rate", "2401.99999", "up", home=home)
    assert unknown.exit_code == 2
    assert "no paper '2401.99999'" in unknown.output and "Traceback" not in unknown.output
    assert digest("rate", "dp-001", home=home).exit_code == 2
    assert digest("rate", "dp-001", "sideways", home=home).exit_code == 2
    empty = digest("rate", "--list", home=home)
    assert empty.exit_code == 0 and "No ratings yet" in empty.output


def test_a_broken_library_exits_two_with_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "mine.bib"
    broken.write_text(
        "@article{good, title={Fine}}\n@article{k9, author={Someone}}\n", encoding="utf-8"
    )
    result, day = daily(tmp_path, "--library", str(broken))
    assert result.exit_code == 2
    error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and str(broken) in result.output and "k9" in result.output
    assert "Traceback" not in result.output and not day.exists()


def test_library_from_the_config_and_authors(tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    config.write_text(
        f'library = ["{BIB}"]\nauthors = ["Nobody Atall"]\nnot_interested = "survey"\n',
        encoding="utf-8",
    )
    result, day = daily(tmp_path, "--config", str(config))
    assert result.exit_code == 0, result.output
    data = json.loads((day / "digest.json").read_text(encoding="utf-8"))
    assert sum("library" in p["why"] for t in data["themes"] for p in t["papers"]) >= 8


def test_topic_with_a_library(tmp_path: Path) -> None:
    result = digest(
        "topic",
        "language models",
        "--source",
        "sample",
        "--engine",
        "offline",
        "--since",
        "",
        "--max-papers",
        "8",
        "--format",
        "json",
        "--library",
        str(BIB),
        home=tmp_path / "home",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{") :])
    whys = [p["why"] for t in data["themes"] for p in t["papers"]]
    assert len(whys) == 8 and all(w.startswith("matches the topic") for w in whys)
    assert any("library" in w for w in whys)


def test_eval_scores_the_relevance_cases(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    shutil.copy(REPO / "evals" / "cases" / "single-paper.yaml", cases)
    relevance = tmp_path / "relevance"
    relevance.mkdir()
    shutil.copy(REPO / "evals" / "relevance" / "compression.yaml", relevance)
    args = ["eval", "--cases", str(cases), "--engine", "offline", "--out", str(tmp_path / "runs")]
    ok = digest(*args, "--relevance", str(relevance), home=tmp_path / "home")
    assert ok.exit_code == 0, ok.output
    assert "relevance compression: precision@10" in ok.output and "(ok)" in ok.output
    # a profile whose bar is not met makes `digest eval` exit 1
    text = (relevance / "compression.yaml").read_text(encoding="utf-8")
    (relevance / "compression.yaml").write_text(
        text.replace("min_precision: 0.7", "min_precision: 1.0")
    )
    below = digest(*args, "--relevance", str(relevance), home=tmp_path / "home")
    assert below.exit_code == 1 and "BELOW 100%" in below.output
