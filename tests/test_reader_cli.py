"""The reader's side of the command line, end to end in-process: --library on daily and topic,
`why` in digest.json, the HTML and the text email, the cold-start footer hint, `digest rate`,
and a broken library (exit 2, one line)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from agent.cli import main
from tests.processes import run_digest

REPO = Path(__file__).resolve().parents[1]
BIB = REPO / "tests" / "fixtures" / "library" / "compression.bib"
DAY = "2026-11-26"


pytestmark = pytest.mark.timeout(90)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("DIGEST_", "OPENAI_")):
            monkeypatch.delenv(name)
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


def test_a_day_where_nothing_matches_the_library_says_so_and_lists_every_paper(
    tmp_path: Path,
) -> None:
    far = tmp_path / "far.bib"
    far.write_text(
        "@article{x, title={Protein folding dynamics from cryo-electron microscopy density maps}}\n",
        encoding="utf-8",
    )
    result, day = daily(tmp_path, "--library", str(far))
    assert result.exit_code == 0, result.output
    data = json.loads((day / "digest.json").read_text(encoding="utf-8"))
    assert data["themes"] == [] and len(data["also_new"]) == 207
    # not "No new papers today; 0 papers you have seen before have new versions"
    assert data["headline"] == (
        "207 new papers today, none matching your papers; they are listed by title."
    )
    assert data["notices"][0] == (
        "No paper matched your papers today; every new one is listed by title."
    )
    assert "no paper summarised, 207 listed by title" in " ".join(result.output.split())
    text = (day / "digest.txt").read_text(encoding="utf-8")
    assert "none matching your papers" in " ".join(text.split())


def test_daily_with_a_library_ranks_by_it_and_says_why_everywhere(tmp_path: Path) -> None:
    result, day = daily(tmp_path, "--library", str(BIB))
    assert result.exit_code == 0, result.output
    data = json.loads((day / "digest.json").read_text(encoding="utf-8"))
    papers = [p for theme in data["themes"] for p in theme["papers"]]
    # only the papers that match are picks (not 10 to fill the cap), each saying why
    assert 4 <= len(papers) < 10
    assert all(p["why"].startswith(("close to your library", "in your library")) for p in papers)
    close = [p for p in papers if p["why"].startswith("close to your library")]
    assert close and all("(shared: " in p["why"] for p in close)
    rest = len(data["also_new"])
    assert data["notices"][0] == (
        f"{len(papers)} papers matched your papers today; {rest} more are listed by title."
    )
    assert data["hint"] is None
    html = (day / "digest.html").read_text(encoding="utf-8")
    text = (day / "digest.txt").read_text(encoding="utf-8")
    assert "matched your papers today" in html and "matched your papers today" in text
    pick = close[0]
    assert "Why here: " in html and pick["id"] in html
    assert "Why here:" in text and f"[{pick['id']}]" in text
    assert pick["why"].split(" (")[0].split(": ", 1)[1][:20] in " ".join(text.split())
    # the terminal lists each paper's ID (for `digest rate`) and why
    assert pick["id"] in result.output and "close to your library" in result.output


def test_cold_start_footer_says_how_to_personalise(tmp_path: Path) -> None:
    result, day = daily(tmp_path)
    assert result.exit_code == 0, result.output
    data = json.loads((day / "digest.json").read_text(encoding="utf-8"))
    assert data["hint"].startswith("Personalise this digest")
    assert "Personalise this digest" in (day / "digest.html").read_text(encoding="utf-8")
    assert "Personalise this digest" in (day / "digest.txt").read_text(encoding="utf-8")
    # nothing personal to say: no filler line on every paper
    assert all(not p["why"] for t in data["themes"] for p in t["papers"])
    assert "new in your sources" not in (day / "digest.html").read_text(encoding="utf-8")


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


def test_a_library_bibtex_cannot_parse_is_one_line_on_stderr(tmp_path: Path) -> None:
    """bibtexparser logs a WARNING (two lines) for the block it gives up on; the real process's
    stderr holds our one error line only."""
    broken = tmp_path / "mine.bib"
    broken.write_text("@article{ok, title={Fine}}\n@article{bad, title = {Unclosed\n", "utf-8")
    argv = ["daily", "--source", "sample", "--engine", "offline", "--no-send", "--date", DAY]
    done = run_digest(*argv, "--library", str(broken), home=tmp_path / "home", cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("error: library ") and "broken entry at line 2" in line


def test_library_from_the_config_and_authors(tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    config.write_text(
        f'library = ["{BIB}"]\nauthors = ["Nobody Atall"]\nnot_interested = "survey"\n',
        encoding="utf-8",
    )
    result, day = daily(tmp_path, "--config", str(config))
    assert result.exit_code == 0, result.output
    data = json.loads((day / "digest.json").read_text(encoding="utf-8"))
    picks = [p for t in data["themes"] for p in t["papers"]]
    assert picks and all("library" in p["why"] for p in picks)


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


KV_CACHE = ("dp-094", "dp-128", "dp-174", "dp-187", "dp-193")  # the issue's library
RELEVANT = ("dp-086", "dp-088", "dp-141", "dp-164")  # RCC, Landmark, CCA, HiP attention
UNRELATED = ("dp-119", "dp-085", "dp-079")  # ScholarBERT, ENCONTER, activation recomputation


def _kv_cache_bib(path: Path) -> Path:
    from agent.core.resources import sample_corpus_path
    from agent.sources.local import read_paper_file

    papers = {p.id: p for p in read_paper_file(sample_corpus_path(), "sample")}
    plain = lambda text: text.replace("{", "").replace("}", "")
    path.write_text(
        "".join(
            f"@article{{{pid.replace('-', '')},\n  title = {{{plain(papers[pid].title)}}},\n"
            f"  abstract = {{{plain(papers[pid].abstract)}}}\n}}\n\n"
            for pid in KV_CACHE
        ),
        encoding="utf-8",
    )
    return path


def test_issue_26_down_ratings_keep_the_relevant_papers_and_lift_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's repro: five KV-cache papers as the library, then dp-191 and dp-142 rated
    down. With one pick the rest of the day is listed in rank order, so the whole order shows."""
    import yaml

    bib = _kv_cache_bib(tmp_path / "mine.bib")
    labels = yaml.safe_load((REPO / "evals" / "relevance" / "efficient-inference.yaml").read_text())
    on_subject = set(labels["on_subject"])

    def order() -> list[str]:
        result, day = daily(tmp_path, "--library", str(bib), "--max-papers", "1")
        assert result.exit_code == 0, result.output
        data = json.loads((day / "digest.json").read_text(encoding="utf-8"))
        picks = [p["id"] for t in data["themes"] for p in t["papers"]]
        return picks + [p["id"] for p in data["also_new"]]

    (tmp_path / "digest.toml").write_text('relevance_threshold = "off"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the digest.toml of the working directory
    before = order()
    assert digest("rate", "dp-191", "down", home=tmp_path / "home").exit_code == 0
    assert digest("rate", "dp-142", "down", home=tmp_path / "home").exit_code == 0
    after = order()
    assert sorted(before) == sorted(after) and len(after) == 207
    # The reader's own papers (the library is from the same day) are never picks: they come
    # last, in both orders; just before them, what the reader rated down sinks.
    assert set(before[-5:]) == set(after[-5:]) == set(KV_CACHE)
    assert set(after[-7:-5]) == {"dp-191", "dp-142"}
    # The issue's 30-paper digest held the five library papers; the other 25 are compared.
    cut = 30 - len(KV_CACHE)
    top_before, top_after = set(before[:cut]), set(after[:cut])
    assert {pid for pid in RELEVANT if pid in top_before} <= top_after  # the relevant papers stay
    # nothing unrelated comes in, but for the next in line where the two sunk papers were
    assert top_after - top_before <= on_subject | set(before[cut : cut + 2])
    assert not top_after & set(UNRELATED)
    for pid in RELEVANT:  # and nothing unrelated passes a relevant paper anywhere in the order
        overtook = set(after[: after.index(pid)]) - set(before[: before.index(pid)])
        assert overtook <= on_subject, (pid, overtook)


def test_the_readers_own_papers_in_the_feed_are_marked_in_your_library(tmp_path: Path) -> None:
    """A library paper in today's feed is listed last under "Also new", never a pick; a reader
    who sees their own GPTQ there unmarked wonders why it was passed over."""
    bib = _kv_cache_bib(tmp_path / "mine.bib")
    result, day = daily(tmp_path, "--library", str(bib), "--format", "md")
    assert result.exit_code == 0, result.output
    data = json.loads((day / "digest.json").read_text(encoding="utf-8"))
    marked = [p["id"] for p in data["also_new"] if p["in_your_library"]]
    assert sorted(marked) == sorted(KV_CACHE)
    assert [p["id"] for p in data["also_new"][-len(KV_CACHE) :]] == marked  # last, as they rank
    titles = {p["id"]: p["title"] for p in data["also_new"]}
    html = (day / "digest.html").read_text(encoding="utf-8")
    text = " ".join((day / "digest.txt").read_text(encoding="utf-8").split())
    markdown = (day / "digest.md").read_text(encoding="utf-8")
    for pid in marked:
        title = titles[pid]
        assert f"{' '.join(title.split())} (in your library)" in text, title
    assert html.count("(in your library)</span>") == len(KV_CACHE)
    assert markdown.count("(in your library)") == len(KV_CACHE)
    assert text.count("(in your library)") == len(KV_CACHE)
    others = [p for p in data["also_new"] if not p["in_your_library"]]
    assert others and not any(p["title"] + " (in your library)" in text for p in others)
    # every title listed carries its id, so a missed paper can be rated up (`digest rate ID up`)
    for entry in data["also_new"]:
        assert f"[{entry['id']}]" in text and f"· {entry['id']}</li>" in html, entry["id"]
        assert f"· {entry['id']}\n" in markdown, entry["id"]


def test_interests_still_count_with_a_library_and_chance_closeness_is_no_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's first hour: interests "speculative decoding, quantization" and a one-title
    library. Picks were papers sharing only "fast" with the title ("weak match to your
    library"), while GPTQ, which has the interest "quantization" whole, was a title under Also
    new, and the notice still said "matched your interests"."""
    bib = tmp_path / "my-papers.bib"
    bib.write_text("@article{mine, title={Speculative decoding for fast inference}}\n")
    (tmp_path / "digest.toml").write_text(
        'interests = "speculative decoding, quantization"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    result, day = daily(tmp_path, "--library", str(bib), "--max-papers", "30")
    assert result.exit_code == 0, result.output
    data = json.loads((day / "digest.json").read_text(encoding="utf-8"))
    picks = {p["id"]: p["why"] for theme in data["themes"] for p in theme["papers"]}
    assert picks["dp-107"] == "matches your interests: quantization"  # GPTQ
    assert "dp-036" in picks  # Speculative Decoding with Big Little Decoder
    assert not any(why.startswith("weak match to your library") for why in picks.values())
    assert len(picks) < 30  # honest slots still hold
    assert data["notices"][0].startswith(f"{len(picks)} papers matched your papers and interests")


def footer_hint(html: str) -> str:
    """The cold-start hint's paragraph of the HTML email, markup and all."""
    start = html.index("Personalise this digest")
    return html[start : html.index("</p>", start)]


def test_the_cold_start_hint_shows_code_as_code_and_names_digest_toml(tmp_path: Path) -> None:
    """No Markdown backticks in an email: names to type are <code> in HTML and plain in the
    text part, and `library` is said to be a key of digest.toml."""
    result, day = daily(tmp_path)
    assert result.exit_code == 0, result.output
    html = footer_hint((day / "digest.html").read_text(encoding="utf-8"))
    text = (day / "digest.txt").read_text(encoding="utf-8")
    text = " ".join(text[text.index("Personalise this digest") : text.index("Usage:")].split())
    assert "`" not in html and "`" not in text, (html, text)
    assert "<code>digest rate ID up|down</code>" in html
    assert "<code>library = [" in html and "digest.toml" in html
    assert "digest rate ID up|down" in text and "library = [" in text and "digest.toml" in text
    assert "<code>" not in text


def test_the_footer_says_why_offline_and_no_model_time_without_a_model_call(
    tmp_path: Path,
) -> None:
    """With a model configured, --engine offline is said as asked for (as the terminal says
    it), not as 'no language model configured'; no model call, no model seconds ('0.0 s')."""
    model = {"DIGEST_LLM__BASE_URL": "http://127.0.0.1:9/v1"}  # configured, never asked
    for env, engine, why in [
        (model, ["--engine", "offline"], "asked for with --engine offline"),
        ({}, [], "no language model configured"),  # auto, and nothing configured
    ]:
        home = tmp_path / why.replace(" ", "-")
        out = home / "out"
        argv = ["daily", "--source", "sample", *engine, "--date", DAY, "--out", str(out)]
        result = CliRunner().invoke(main, argv, env={"DIGEST_HOME": str(home), **env})
        assert result.exit_code == 0, result.output
        html = (out / DAY / "digest.html").read_text(encoding="utf-8")
        text = " ".join((out / DAY / "digest.txt").read_text(encoding="utf-8").split())
        sentence = f"Written by the offline engine ({why})"
        assert sentence in html and sentence in text, why
        assert "Usage: no model calls." in text
        assert "no model calls</span>.</p>" in html  # and no seconds after it
        if engine:
            assert result.output.startswith(f"offline engine ({why})")  # as the terminal says
