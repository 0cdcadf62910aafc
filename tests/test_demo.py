"""Issue 27/28: `make demo` shows the product (a recorded real day with links, authors and
upvotes, then the bundled sample day), runs offline with no key, and writes only into a home
of its own: never the user's real DIGEST_HOME."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from agent.core.resources import demo_day_path
from agent.sources.clean import clean_text
from agent.sources.hf_daily import parse_daily_papers
from agent.sources.local import read_paper_file
from tests.processes import clean_env, run_shell

ROOT = Path(__file__).resolve().parent.parent
RECORDED = ROOT / "tests" / "fixtures" / "hf_daily_papers" / "sotawhat_hf_daily_papers_limit30.json"


def test_the_demo_day_is_the_recorded_hugging_face_day() -> None:
    """The bundled file is what the Hugging Face parser makes of the recorded response (read
    back through the `file:` source, which cleans the text once more)."""
    want = parse_daily_papers(RECORDED.read_text(encoding="utf-8"), source="demo")
    got = read_paper_file(demo_day_path(), "demo")
    again = [
        p.model_copy(update={"title": clean_text(p.title), "abstract": clean_text(p.abstract)})
        for p in want
    ]
    assert [p.model_dump() for p in got] == [p.model_dump() for p in again]
    assert sum(p.code_url is not None for p in got) >= 10
    assert all(p.url and p.pdf_url and p.hf_url and p.authors for p in got)


def _demo_commands(demo_home: Path) -> list[str]:
    """The recipe `make demo` runs (make -n: printed, not run)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")  # pragma: no cover - CI and the Makefile need it
    printed = subprocess.run(
        ["make", "-n", "demo", f"DEMO_HOME={demo_home}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [line for line in printed if "digest daily" in line or line.startswith("mkdir")]


def test_make_demo_builds_both_days_in_its_own_home(tmp_path: Path) -> None:
    demo_home, user = tmp_path / "demo-home", tmp_path / "user"
    commands = _demo_commands(demo_home)
    assert sum("digest daily" in c for c in commands) == 2
    env = clean_env(
        HOME=str(user), XDG_DATA_HOME=str(user / "data"), DIGEST_HOME=str(user / "real-home")
    )
    for command in commands:
        done = run_shell(command, cwd=ROOT, env=env, timeout=180)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert not user.exists(), sorted(p.name for p in user.rglob("*"))  # nothing in the real home
    days = sorted(p.name for p in (demo_home / "out").iterdir())
    assert days[0] == "2026-06-12" and len(days) == 2
    real = json.loads((demo_home / "out" / "2026-06-12" / "digest.json").read_text())
    text = (demo_home / "out" / "2026-06-12" / "digest.txt").read_text()
    html = (demo_home / "out" / "2026-06-12" / "digest.html").read_text()
    assert "https://arxiv.org/abs/2606.13392" in html and "https://arxiv.org/pdf/2606." in html
    assert "https://github.com/MiniMax-AI/MSA" in html
    assert "https://huggingface.co/papers/2606.13392" in html
    assert "upvotes" in text and "Casanova" in html
    titles = [t["title"] for t in real["themes"]]
    assert titles and not any("more papers" in t.lower() for t in titles)
    sample = (demo_home / "out" / days[1] / "digest.txt").read_text()
    assert "177 more" in sample or "also new" in sample.lower()
    assert (demo_home / "state.sqlite3").is_file()
