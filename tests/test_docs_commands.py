"""Every shell block of the README, CONTRIBUTING.md and docs/*.md runs as written.

Each file's ```sh/```bash blocks run in order, in one temporary folder and home, with the
venv's `digest` on the PATH and the public feeds pointed at loopback servers that serve
recorded replies (as a mirror would), so nothing reaches the network. Each command must exit 0,
or the code its own comment says ("exits 2 while ..."). A `make TARGET` line is not run (the
suite would run itself): the Makefile must define the target, and CI (`.ci/run`) must call
the README's test command. A block that cannot run here (a key, a mail server, a model server,
the foreground) has `<!-- no-run: why -->` on the line before it; those are listed and counted.
The README and CONTRIBUTING.md run in the default suite, the docs/ pages in the slow tier.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.processes import run_shell

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^( *)```(sh|bash)\s*$")
NO_RUN = re.compile(r"<!--\s*no-run:\s*(.*?)\s*-->")
MAKE = re.compile(r"^make ([A-Za-z][\w-]*)")
EXPECTED_EXIT = re.compile(r"#.*\bexits? (\d+)\b")

pytestmark = pytest.mark.timeout(240)


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    commands: tuple[str, ...]  # continuation lines joined
    skipped: str | None  # the no-run reason


def blocks(page: Path) -> list[Block]:
    """The shell blocks of a page, with their commands and any no-run reason."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    number = 0
    while number < len(lines):
        fence = FENCE.match(lines[number])
        if not fence:
            number += 1
            continue
        before = next((line for line in reversed(lines[:number]) if line.strip()), "")
        reason = NO_RUN.search(before)
        indent, body = len(fence.group(1)), []
        start = number
        number += 1
        while number < len(lines) and lines[number].strip() != "```":
            body.append(lines[number][indent:])
            number += 1
        found.append(Block(page, start + 1, _commands(body), reason.group(1) if reason else None))
        number += 1
    return found


def _commands(body: list[str]) -> tuple[str, ...]:
    joined, commands = "", []
    for line in body:
        joined += line
        if line.endswith("\\"):
            joined += "\n"
            continue
        if joined.strip() and not joined.lstrip().startswith("#"):
            commands.append(joined.strip())
        joined = ""
    return tuple(commands)


ALL = [block for page in PAGES for block in blocks(page)]
RUNNABLE_PAGES = sorted({block.page for block in ALL if block.skipped is None})


def test_the_blocks_not_run_say_why_and_most_blocks_run() -> None:
    skipped = [block for block in ALL if block.skipped is not None]
    runnable = [block for block in ALL if block.skipped is None]
    listing = "\n".join(
        f"  {b.page.relative_to(ROOT)}:{b.line}: {b.skipped}: {b.commands[0]}" for b in skipped
    )
    print(f"shell blocks not run here ({len(skipped)} of {len(ALL)}):\n{listing}")
    assert all(block.skipped for block in skipped), listing  # a reason, not an empty marker
    assert len(runnable) > len(skipped), listing
    readme = [block for block in runnable if block.page.name == "README.md"]
    assert sum(not MAKE.match(c) for b in readme for c in b.commands) >= 5


def test_make_lines_name_real_targets_and_ci_runs_the_readme_test_command() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", makefile, re.MULTILINE))
    made = {m.group(1) for b in ALL for c in b.commands if (m := MAKE.match(c))}
    assert {"demo", "test"} <= made
    assert made <= targets, made - targets
    readme_make = [c.split("#")[0].strip() for b in blocks(ROOT / "README.md") for c in b.commands]
    assert "make demo" in readme_make and "make test" in readme_make
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "make test" in [line.strip() for line in ci]
    demo = re.search(r"^demo:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert demo and "--engine offline" in demo.group(1) and "daily" in demo.group(1)


def script(page: Path) -> str:
    """The page's runnable commands as one bash script that stops at the first command whose
    exit code is not the one expected, naming it."""
    out = ["set -u"]
    for block in blocks(page):
        if block.skipped is not None:
            continue
        for command in block.commands:
            if MAKE.match(command):
                continue
            expected = EXPECTED_EXIT.search(command)
            code = int(expected.group(1)) if expected else 0
            where = f"{page.relative_to(ROOT)}:{block.line}: {command.splitlines()[0]}"
            failed = shlex.quote(f"not exit {code}: {where}")
            out += [
                command,
                f'rc=$?; [ "$rc" -eq {code} ] || {{ echo "exit $rc," {failed} >&2; exit 97; }}',
            ]
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def feeds() -> Iterator[ScriptedHttpServer]:
    rss = (FIXTURES / "arxiv_rss" / "distill_rss_arxiv_cs_cl.xml").read_bytes()
    hf = (FIXTURES / "hf_daily_papers" / "sotawhat_hf_daily_papers_limit30.json").read_bytes()
    api = (FIXTURES / "arxiv_api" / "arxivpy2016_search_query_au_del_maestro.xml").read_bytes()
    with ScriptedHttpServer() as server:
        for categories in ["cs.CL", "cs.LG", "cs.CL+cs.LG"]:
            server.add(f"/rss/{categories}", Reply(200, rss))
        server.add("/api/daily_papers", Reply(200, hf))
        server.add("/api/query", Reply(200, api))
        yield server


@pytest.mark.parametrize(
    "page",
    [  # the reference pages in the slow tier: the README and CONTRIBUTING.md in every run
        pytest.param(page, marks=[pytest.mark.slow] if page.parent == ROOT / "docs" else [])
        for page in RUNNABLE_PAGES
    ],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_the_shell_blocks_run_as_written(
    page: Path, tmp_path: Path, feeds: ScriptedHttpServer
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / ".venv").symlink_to(Path(sys.executable).parents[1])
    bin_dir = str(Path(sys.executable).parent)
    env = {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DIGEST_HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
        "COLUMNS": "100",
        "DIGEST_SOURCES__ARXIV_RSS_URL": f"{feeds.url}/rss/",
        "DIGEST_SOURCES__HF_URL": f"{feeds.url}/api/daily_papers",
        "DIGEST_SOURCES__ARXIV_API_URL": f"{feeds.url}/api/query",
        "DIGEST_SOURCES__ARXIV_MIN_INTERVAL_SECONDS": "0",
    }
    for name in ("TIKTOKEN_CACHE_DIR", "TMPDIR"):
        if name in os.environ:
            env[name] = os.environ[name]
    done = run_shell(f"exec bash -c {shlex.quote(script(page))}", cwd=work, env=env, timeout=220)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-2000:]


def test_every_relative_link_of_the_pages_points_at_a_file() -> None:
    broken = []
    for page in [*PAGES, ROOT / "agent" / "summarize" / "llm" / "README.interface.md"]:
        text = re.sub(r"`[^`\n]*`", "", page.read_text(encoding="utf-8"))  # code is not links
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = target.split("#", 1)[0]
            if not (page.parent / path).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []
