"""The issue's hostile scenarios at full size, by hand (prints numbers, never asserts):

1. a model server that sends headers, then one byte a second, with `llm.run_budget_seconds = 40`
   (default `llm.timeout_seconds = 60`): does `digest daily --engine llm` finish a complete
   digest, and how long does it take?
2. a feed answering 200 MB with no Content-Length (next to the sample): exit code, the reason,
   peak RSS of the run;
3. a model answering 200 MB: the same.

Each scenario runs the real `digest` command in a subprocess against loopback fakes.
`ru_maxrss` of the child is its peak resident memory.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.fakes.openai_server import FakeOpenAIServer, Fault
from tests.processes import clean_env, digest_process


def run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, float, float, str, str]:
    """(exit code, wall seconds, peak RSS MiB, stdout, stderr) of one `digest` run."""
    started = time.perf_counter()
    done = digest_process(*args, cwd=cwd, env=clean_env(**env), timeout=900)
    wall = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return done.returncode, wall, rss, done.stdout, done.stderr


def llm_daily(tmp: Path, name: str, srv: FakeOpenAIServer, **env: str):
    """`digest daily` on the sample with the model at `srv`, in tmp/<name>."""
    return run(
        [
            "daily",
            "--source",
            "sample",
            "--engine",
            "llm",
            "--no-send",
            "--date",
            "2026-11-26",
            "--out",
            str(tmp / name / "out"),
        ],
        {
            "DIGEST_HOME": str(tmp / name / "home"),
            "DIGEST_LLM__BASE_URL": srv.base_url,
            "DIGEST_LLM__API_KEY": "sk-bench",
            **env,
        },
        tmp,
    )


def hanging_model(tmp: Path) -> None:
    with FakeOpenAIServer(handler=lambda body: Fault.trickle(1.0)) as srv:
        code, wall, rss, _, err = llm_daily(tmp, "model", srv, DIGEST_LLM__RUN_BUDGET_SECONDS="40")
        calls = len(srv.chat_requests)
    data = json.loads(
        (tmp / "model" / "out" / "2026-11-26" / "digest.json").read_text(encoding="utf-8")
    )
    placed = sum(len(t["papers"]) for t in data["themes"]) + len(data["also_new"])
    print(
        f"hanging model, budget 40 s: exit {code}, {wall:.1f} s wall, {calls} calls started, "
        f"{placed} papers placed of 207, engine {data['engine']}, peak RSS {rss:.0f} MiB"
    )
    if code:
        print(err[-500:])


def huge_feed(tmp: Path) -> None:
    with ScriptedHttpServer() as server:
        server.add("/api/daily_papers", Reply(200, endless=True))  # zeros, no length, no end
        code, wall, rss, out, _ = run(
            [
                "daily",
                "--source",
                "hf-daily",
                "--source",
                "sample",
                "--engine",
                "offline",
                "--no-send",
                "--date",
                "2026-11-26",
                "--out",
                str(tmp / "out2"),
            ],
            {
                "DIGEST_HOME": str(tmp / "home2"),
                "DIGEST_SOURCES__HF_URL": f"{server.url}/api/daily_papers",
            },
            tmp,
        )
    reason = next((line for line in out.splitlines() if "larger than" in line), "")
    print(
        f"endless feed (no length): exit {code}, {wall:.1f} s, peak RSS {rss:.0f} MiB; {reason.strip()}"
    )


def huge_answer(tmp: Path) -> None:
    with FakeOpenAIServer(handler=lambda body: Fault.huge(200_000_000)) as srv:
        code, wall, rss, _, _ = llm_daily(tmp, "answer", srv)
    print(f"200 MB model answers: exit {code}, {wall:.1f} s, peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    which = set(sys.argv[1:]) or {"feed", "answer", "model"}
    with tempfile.TemporaryDirectory() as tmp:
        if "feed" in which:
            huge_feed(Path(tmp))
        if "answer" in which:
            huge_answer(Path(tmp))
        if "model" in which:
            hanging_model(Path(tmp))
