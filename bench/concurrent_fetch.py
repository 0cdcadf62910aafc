"""Wall time of `digest daily` over two recorded feeds served by a slow loopback server: the
sources read one after another (a checkout before the async core) or at the same time.

    .venv/bin/python bench/concurrent_fetch.py                  # this checkout
    .venv/bin/python bench/concurrent_fetch.py --tree /work/main  # another checkout's `agent`
    .venv/bin/python bench/concurrent_fetch.py --hold 2 --runs 3

The server (tests/fakes/http_server.py) holds each answer `--hold` seconds: the recorded arXiv
cs.CL RSS feed and the recorded Hugging Face daily papers (tests/fixtures/). Each run is the
real command (`python -m agent daily --engine offline --no-send`, a fresh DIGEST_HOME), so
start-up, selection and rendering are in the time too. Prints the median of `--runs` and how
long the server held both requests at once (its own record). Numbers depend on the machine
(measured on 2 shared cores); never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fakes.http_server import Reply, ScriptedHttpServer, Span

FIXTURES = REPO / "tests" / "fixtures"
FEEDS = {
    "/rss/cs.CL": FIXTURES / "arxiv_rss" / "distill_rss_arxiv_cs_cl.xml",
    "/api/daily_papers": FIXTURES / "hf_daily_papers" / "sotawhat_hf_daily_papers_limit30.json",
}
DATE = "2026-04-27"


def one_run(tree: Path, hold: float, tmp: Path, number: int) -> tuple[float, float]:
    """Seconds of one `digest daily`, and the seconds the server held both requests at once."""
    with ScriptedHttpServer() as server:
        for path, fixture in FEEDS.items():
            server.add(path, Reply(200, fixture.read_bytes(), delay=hold))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGEST_", "OPENAI_"))}
        env.update(
            PYTHONPATH=str(tree),
            DIGEST_HOME=str(tmp / f"home-{number}"),
            DIGEST_SOURCES__ARXIV_RSS_URL=f"{server.url}/rss/",
            DIGEST_SOURCES__HF_URL=f"{server.url}/api/daily_papers",
        )
        argv = [sys.executable, "-m", "agent", "daily", "--engine", "offline", "--no-send",
                "--source", "arxiv-rss:cs.CL", "--source", "hf-daily", "--date", DATE,
                "--out", str(tmp / f"out-{number}")]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        spans = list(server.spans)
    if done.returncode != 0:
        raise SystemExit(f"digest daily failed ({done.returncode}): {done.stderr.strip()}")
    return seconds, overlap(spans)


def overlap(spans: list[Span]) -> float:
    """How long the server held two requests at the same time."""
    if len(spans) < 2:
        return 0.0
    first, second = sorted(spans, key=lambda span: span.received)[:2]
    return max(0.0, min(first.answered, second.answered) - second.received)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=REPO, help="the checkout whose agent runs")
    parser.add_argument("--hold", type=float, default=2.0, help="seconds each answer is held")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    tree = options.tree.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        results = [one_run(tree, options.hold, Path(tmp), n) for n in range(options.runs)]
    times = [seconds for seconds, _ in results]
    print(f"tree: {tree}")
    print(f"two feeds, each answer held {options.hold:g} s, {options.runs} runs")
    print(f"digest daily wall time, median: {statistics.median(times):.2f} s "
          f"(min {min(times):.2f}, max {max(times):.2f})")  # fmt: skip
    print(f"both requests held at once, median: {statistics.median(o for _, o in results):.2f} s")


if __name__ == "__main__":
    main()
