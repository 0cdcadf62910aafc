"""The first hour through the command line: doctor and init check library files and category
names, the Markdown digest keeps what `digest rate` needs, the readers' summary lists papers,
the outbox and help texts say what is true, `digest schedule` says when the next run is."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.core.resources import demo_day_path
from tests.processes import clean_env, run_digest

pytestmark = pytest.mark.timeout(120)


def small_day(tmp_path: Path, count: int = 6) -> Path:
    """The first papers of the recorded Hugging Face day (ids, links, upvotes)."""
    path = tmp_path / "day.jsonl"
    lines = demo_day_path().read_text(encoding="utf-8").splitlines(True)[:count]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_init_and_doctor_check_library_files_and_category_names(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for args, said in [
        (("--library", "/nope.bib"), "library: /nope.bib: no such file"),
        (("--category", "cs.cl", "--category", "foo.XY"), "'cs.cl' is not an arXiv category; did you mean cs.CL?"),
    ]:  # fmt: skip
        refused = run_digest("init", *args, home=home, cwd=tmp_path)
        assert refused.returncode == 2 and said in refused.stderr, refused.stderr
        assert not (tmp_path / "digest.toml").exists()

    (tmp_path / "bad.toml").write_text(
        'library = ["/nope.bib"]\ncategories = ["cs.cl"]\n'
        '[sources]\ndefault = ["arxiv-rss:cs.cl+foo.XY"]\n',
        encoding="utf-8",
    )
    bad = run_digest("doctor", "--config", "bad.toml", home=home, cwd=tmp_path)
    assert bad.returncode == 2
    lines = bad.stdout.splitlines()
    assert any(re.match(r"failed +library: /nope.bib: no such file", line) for line in lines)
    # a filter in the wrong case is read in arXiv's (the config loads it so, with a warning)
    assert "categories: 'cs.cl' read as cs.CL, arXiv's spelling" in bad.stderr
    assert any(re.match(r"ok +categories: cs.CL: all arXiv categories", x) for x in lines)
    [source] = [line for line in lines if "source arxiv-rss:" in line]
    assert source.startswith("failed") and "did you mean cs.CL?" in source
    assert "'foo.XY' is not an arXiv category" in source

    (tmp_path / "mine.bib").write_text(
        "@article{a, title={Speculative decoding}}\n@article{b, title={KV cache}}\n",
        encoding="utf-8",
    )
    (tmp_path / "good.toml").write_text(
        'library = ["mine.bib"]\ncategories = ["cs.CL"]\n[sources]\ndefault = ["sample"]\n',
        encoding="utf-8",
    )
    good = run_digest("doctor", "--config", "good.toml", home=home, cwd=tmp_path)
    assert re.search(r"ok +library: .*mine.bib: BibTeX, 2 entries", good.stdout), good.stdout
    assert re.search(r"ok +categories: cs.CL: all arXiv categories", good.stdout)


def test_markdown_keeps_why_here_and_the_ids_rate_needs(tmp_path: Path) -> None:
    day = small_day(tmp_path)
    out = tmp_path / "out"
    args = ("--source", f"file:{day}", "--engine", "offline", "--date", "2026-06-12")
    run = run_digest("daily", *args, "--out", str(out), "--format", "md", home=tmp_path / "h", cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    text = (out / "2026-06-12" / "digest.md").read_text(encoding="utf-8")
    digest = json.loads((out / "2026-06-12" / "digest.json").read_text(encoding="utf-8"))
    ids = [p["id"] for theme in digest["themes"] for p in theme["papers"]]
    assert len(ids) == 6
    for paper_id in ids:
        assert re.search(rf"(?m)^  (Why here: .+ · )?{re.escape(paper_id)}$", text), paper_id
    # Links are a paragraph of their own: never glued to the blurb ("approaches.[Abstract](…)")
    link_lines = [i for i, line in enumerate(text.splitlines()) if "[Abstract](" in line]
    assert len(link_lines) == 6
    assert all(text.splitlines()[i - 1] == "" for i in link_lines)
    assert all(text.splitlines()[i].startswith("  [Abstract](") for i in link_lines)
    rated = run_digest("rate", ids[0], "up", home=tmp_path / "h", cwd=tmp_path)
    assert rated.returncode == 0 and f"Rated up: {ids[0]}" in rated.stdout, rated.stderr


def test_the_readers_summary_lists_each_readers_papers_and_ids(tmp_path: Path) -> None:
    day = small_day(tmp_path)
    (tmp_path / "digest.toml").write_text(
        f'[sources]\ndefault = ["file:{day}"]\n'
        '[readers.ana]\ninterests = "reasoning agents"\n'
        '[readers.ben]\ninterests = "image generation"\nmax_papers = 2\n',
        encoding="utf-8",
    )
    home = tmp_path / "home"
    run = run_digest(
        "daily", "--engine", "offline", "--date", "2026-06-12", "--no-send", home=home, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    blocks = re.split(r"(?m)^Reader (\w+)$", run.stdout)
    by_reader = dict(zip(blocks[1::2], blocks[2::2], strict=True))
    assert set(by_reader) == {"ana", "ben"}
    for reader, block in by_reader.items():
        folder = home / "archive" / "2026-06-12" / f"reader-{reader}"
        digest = json.loads((folder / "digest.json").read_text(encoding="utf-8"))
        themes = digest["themes"]
        listed = re.findall(r"(?m)^ {8}(\S+)  (.+)$", block)
        expected = [(p["id"], p["title"]) for t in themes for p in t["papers"]]  # fmt: skip
        assert listed == expected, (reader, block)
        assert all(f"• {t['title']} ({len(t['papers'])})" in block for t in themes)


def test_outbox_flush_says_empty_only_when_it_is(tmp_path: Path) -> None:
    empty = run_digest("outbox", "flush", home=tmp_path / "h", cwd=tmp_path)
    assert empty.returncode == 0 and empty.stdout.strip() == "The outbox is empty."


def test_help_texts_say_what_is_true(tmp_path: Path) -> None:
    shown = run_digest("--help", home=tmp_path / "h", cwd=tmp_path, env={"COLUMNS": "80"})
    commands = shown.stdout.split("Commands:\n", 1)[1].splitlines()
    names = [line.split()[0] for line in commands if line.strip()]
    assert names == sorted(["archive", "daily", "doctor", "eval", "init", "outbox", "rate", "schedule", "topic"])  # fmt: skip
    assert all(line.startswith("  ") and not line.startswith("   ") for line in commands if line)
    assert not any("..." in line for line in commands)
    daily = run_digest("daily", "--help", home=tmp_path / "h", cwd=tmp_path)
    said = " ".join(daily.stdout.split())
    assert "else sample" not in said
    assert "with none configured the run stops with exit 2" in said
    bare = run_digest("daily", home=tmp_path / "h", cwd=tmp_path)  # and so it does
    assert bare.returncode == 2 and "no sources configured" in bare.stderr


def test_schedule_says_when_the_next_run_is_after_each_run(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    yesterday = dt.datetime.now(dt.UTC).replace(hour=7, minute=0, second=0, microsecond=0)
    yesterday -= dt.timedelta(days=2)  # an older slot ran: the missed one runs at once
    (home / "schedule.json").write_text(json.dumps({"last_slot": yesterday.isoformat()}))
    day = small_day(tmp_path, 3)
    process = subprocess.Popen(
        [sys.executable, "-m", "agent", "schedule", "--cron", "0 7 * * *", "--tz", "UTC",
         "--source", f"file:{day}"],
        cwd=tmp_path,
        env=clean_env(DIGEST_HOME=str(home), DIGEST_ENGINE="offline"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not any(x.startswith("Next run:") for x in lines):
        lines.append(process.stdout.readline().strip())
    process.terminate()
    rest, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    ran = [i for i, line in enumerate(lines) if re.match(r"\d{4}-\d\d-\d\d 07:00: digest written", line)]  # fmt: skip
    assert ran, lines + [stderr]
    upcoming = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date()
    following = lines[ran[0] + 1]
    assert re.fullmatch(r"Next run: \d{4}-\d\d-\d\d 07:00 UTC\.", following), following
    assert following[10:20] in (dt.datetime.now(dt.UTC).date().isoformat(), upcoming.isoformat())
    assert "Stopped after 1 run" in rest
