"""Issue 23's sixteen hostile cases, each run through the real `digest` command against loopback
fakes, with what happened: exit code, wall time, peak memory, a traceback or not, and the line
the user saw. Prints a table; never asserts (the regression tests in tests/test_bounded_*.py
assert the outcomes).

    .venv/bin/python bench/issue23_cases.py                 # this checkout
    .venv/bin/python bench/issue23_cases.py --tree /tmp/old  # another checkout's `agent`
    .venv/bin/python bench/issue23_cases.py --only 2 11      # some cases
    .venv/bin/python bench/issue23_cases.py --cap 60         # give up on a case after 60 s

Cases that never end on their own are stopped at `--cap` seconds (SIGKILL) and reported as
"still running". Each child's address space is limited to 2 GiB so that an unbounded reply
cannot take the machine (a MemoryError then shows the growth). Numbers depend on the machine
(measured on 2 shared cores).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fakes.hostile_model import complying_model, hanging_batch_status
from tests.fakes.hostile_smtp import HostileSmtp
from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.fakes.openai_batches import BatchScript
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.openai_server import Reply as ModelReply
from tests.fakes.smtp_server import smtp_server
from tests.fakes.webhook_server import WebhookServer
from tests.llm_answers import handler
from tests.processes import clean_env

ADDRESS_SPACE = 2 * 1024**3
DAY = "2026-04-27"


@dataclass
class Outcome:
    code: int | None  # None: stopped at the cap
    wall: float
    peak_mib: float
    stdout: str
    stderr: str

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.stderr

    def said(self) -> str:
        lines = [x.strip() for x in self.stderr.splitlines() if x.strip()]
        pick = [x for x in lines if x.startswith(("error:", "warning:", "interrupted"))]
        last = (pick or lines or [""])[-1]
        return last[:150]

    def short(self) -> str:
        code = "still running" if self.code is None else f"exit {self.code}"
        tb = ", traceback" if self.traceback else ""
        return f"{code}{tb}, {self.wall:.1f} s, {self.peak_mib:.0f} MiB"


class Runner:
    def __init__(self, tree: Path, cap: float, tmp: Path) -> None:
        self.tree = tree
        self.cap = cap
        self.tmp = tmp
        self._n = 0
        self._wrapper: list[str] = []

    def workdir(self) -> Path:
        self._n += 1
        path = self.tmp / f"case{self._n}"
        path.mkdir()
        return path

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        env = clean_env(DIGEST_HOME=str(home), COLUMNS="120", **extra)
        env["PYTHONPATH"] = str(self.tree)
        return env

    def run_wrapped(self, wrapper: list[str], *args: str, **kwargs: Any) -> Outcome:
        """`run`, with the command started by `wrapper` (e.g. unshare)."""
        self._wrapper = wrapper
        try:
            return self.run(*args, **kwargs)
        finally:
            self._wrapper = []

    def run(
        self,
        *args: str,
        cwd: Path,
        env: dict[str, str],
        stdin: str | None = None,
        on_start: Callable[[subprocess.Popen[str]], None] | None = None,
        cap: float | None = None,
    ) -> Outcome:
        def limit() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

        started = time.perf_counter()
        child = subprocess.Popen(
            [*self._wrapper, sys.executable, "-m", "agent", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=limit,  # noqa: PLW1509 (no thread runs yet: the watchers start after)
        )
        peak = [0.0]
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                try:
                    status = Path(f"/proc/{child.pid}/status").read_text()
                except OSError:
                    return
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]) / 1024)
                done.wait(0.2)

        threading.Thread(target=watch, daemon=True).start()
        if on_start is not None:
            threading.Thread(target=on_start, args=(child,), daemon=True).start()
        try:
            out, err = child.communicate(stdin, timeout=cap or self.cap)
            code: int | None = child.returncode
        except subprocess.TimeoutExpired:
            child.kill()
            out, err = child.communicate()
            code = None
        done.set()
        return Outcome(code, time.perf_counter() - started, peak[0], out, err)


def papers_file(directory: Path) -> Path:
    path = directory / "papers.jsonl"
    rows = [
        {"id": f"local-{i}", "title": f"A local paper {i}", "abstract": "We study things."}
        for i in range(1, 4)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def zotero_items(count: int) -> list[dict[str, Any]]:
    return [
        {"key": f"K{i}", "data": {"key": f"K{i}", "itemType": "journalArticle", "title": f"T{i}"}}
        for i in range(count)
    ]


# -- the cases -------------------------------------------------------------------------------


def daily(
    r: Runner, work: Path, *args: str, env: dict[str, str], send: bool = False, **kw: Any
) -> Outcome:
    """`digest daily ARGS --out work/out` (and `--no-send` unless `send`)."""
    more = [] if send else ["--no-send"]
    out = str(work / f"out{r._n}-{len(args)}")
    return r.run("daily", *args, *more, "--out", out, cwd=work, env=env, **kw)


def zotero_run(r: Runner, reply: Reply, *, cap: float | None = None) -> Outcome:
    work = r.workdir()
    with ScriptedHttpServer() as server:
        server.add("/z/users/1/items/top", reply)
        env = r.env(
            work / "home",
            DIGEST_ZOTERO__USER_ID="1",
            DIGEST_ZOTERO__API_KEY="k",
            DIGEST_ZOTERO__BASE_URL=f"{server.url}/z",
        )
        return daily(r, work, "--source", f"file:{papers_file(work)}", env=env, cap=cap)


def case1(r: Runner) -> list[tuple[str, Outcome]]:
    return [("Zotero endless body", zotero_run(r, Reply(200, endless=True)))]


def case2(r: Runner) -> list[tuple[str, Outcome]]:
    page = json.dumps(zotero_items(100))
    json_type = {"Content-Type": "application/json"}
    return [
        ("Zotero body at 1 byte/s", zotero_run(r, Reply(200, trickle=1.0))),
        (
            "Zotero `Backoff: 3000`",
            zotero_run(r, Reply(200, page, {**json_type, "Backoff": "3000"})),
        ),
        (
            "Zotero 429 `Retry-After: 3000`",
            zotero_run(r, Reply(429, "slow down", {"Retry-After": "3000"})),
        ),
    ]


def webhook_env(url: str, **more: object) -> str:
    return json.dumps([{"name": "team", "kind": "json", "url": url, **more}])


def case3(r: Runner) -> list[tuple[str, Outcome]]:
    work = r.workdir()
    with ScriptedHttpServer() as server:
        server.add("/hook", Reply(200, trickle=1.0, trickle_headers=True))
        hooks = webhook_env(f"{server.url}/hook", timeout_seconds=5, max_attempts=1)
        outcome = daily(
            r,
            work,
            "--source",
            "sample",
            env=r.env(work / "home", DIGEST_WEBHOOKS=hooks),
            send=True,
        )
    return [("webhook headers at 1 byte/s (timeout 5 s)", outcome)]


NESTED_TITLE = "{" * 100_000 + "x" + "}" * 100_000


def case4(r: Runner) -> list[tuple[str, Outcome]]:
    work = r.workdir()
    body = json.dumps([{"paper": {"id": "2604.00001", "title": NESTED_TITLE, "summary": "s"}}])
    with ScriptedHttpServer() as server:
        server.add("/api/daily_papers", Reply(200, body, {"Content-Type": "application/json"}))
        env = r.env(work / "home", DIGEST_SOURCES__HF_URL=f"{server.url}/api/daily_papers")
        hf = daily(r, work, "--source", "hf-daily", env=env)
    bib = work / "nested.bib"
    bib.write_text(f"@article{{a,\n  title = {{{NESTED_TITLE}}},\n}}\n", encoding="utf-8")
    library = daily(r, work, "--source", "sample", "--library", str(bib), env=r.env(work / "home2"))
    return [("HF title of 100,000 nested {}", hf), (".bib title of 100,000 nested {}", library)]


def model_env(r: Runner, home: Path, srv: FakeOpenAIServer, **more: str) -> dict[str, str]:
    settings = {
        "DIGEST_LLM__BASE_URL": srv.base_url,
        "DIGEST_LLM__API_KEY": "sk-test",
        "DIGEST_LLM__MODEL": "gpt-test",
        "DIGEST_LLM__DIALECT": "json_object",
        "DIGEST_LLM__MAX_ATTEMPTS": "1",
        **more,
    }
    return r.env(home, **settings)


def case5(r: Runner) -> list[tuple[str, Outcome]]:
    work = r.workdir()
    with FakeOpenAIServer() as srv:
        srv.handler = lambda body: ModelReply("[" * 200_000)
        source = f"file:{papers_file(work)}"
        outcome = daily(
            r, work, "--source", source, "--engine", "llm", env=model_env(r, work / "home", srv)
        )
    return [("model answers 200,000 `[`", outcome)]


def case6(r: Runner) -> list[tuple[str, Outcome]]:
    work = r.workdir()
    body = (
        '[{"paper": {"id": "2604.00001", "title": "Big", "summary": "s", "upvotes": 1'
        + "0" * 400
        + "}}]"
    )
    with ScriptedHttpServer() as server:
        server.add("/api/daily_papers", Reply(200, body, {"Content-Type": "application/json"}))
        env = r.env(work / "home", DIGEST_SOURCES__HF_URL=f"{server.url}/api/daily_papers")
        outcome = daily(r, work, "--source", "hf-daily", "--source", "sample", env=env)
    return [("`upvotes` of 401 digits beside the sample", outcome)]


def case7(r: Runner) -> list[tuple[str, Outcome]]:
    js = {"Content-Type": "application/json"}
    variants = [
        ("nested JSON", Reply(200, "[" * 100_000, js)),
        ("an object, not a list", Reply(200, '{"a": 1}', js)),
        ("a list of non-objects", Reply(200, "[1, 2, null]", js)),
        ("text/plain", Reply(200, "hello", {"Content-Type": "text/plain"})),
        ("a 429 body", Reply(429, '{"error": "rate"}', js)),
        ("no Content-Type", Reply(200, "[]")),
        (
            "application/x-bibtex",
            Reply(200, "@article{a,}", {"Content-Type": "application/x-bibtex"}),
        ),
        ("redirect to file://", Reply(302, "", {"Location": "file:///etc/passwd"})),
    ]
    return [(f"Zotero: {name}", zotero_run(r, reply, cap=60)) for name, reply in variants]


def found_in(out: Path, markers: list[str]) -> str:
    """How often each marker appears in the files written under `out`, as JSON."""
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("digest.*"))
    return json.dumps({marker: text.count(marker) for marker in markers})


def case8(r: Runner) -> list[tuple[str, Outcome]]:
    work = r.workdir()
    with FakeOpenAIServer() as srv:
        srv.handler = complying_model
        env = model_env(r, work / "home", srv, DIGEST_LLM__MAX_REASKS="1")
        outcome = daily(r, work, "--source", "sample", "--engine", "llm", "--date", DAY, env=env)
    markers = ["evil.example/phish", "bit.ly/3xYz", "203.0.113.5/x", "attacker@evil-phish"]
    outcome.stderr += "\nerror: left in the output files: " + found_in(work, markers)
    return [("model writes link text into blurbs", outcome)]


HOSTILE_IDS = [
    "x|Verify><https://evil.example/phish|Click",
    "y)[Click](https://evil.example/phish)",
    'x"><script>alert(1)</script>',
]


def case9(r: Runner) -> list[tuple[str, Outcome]]:
    work = r.workdir()
    items = [
        {"paper": {"id": pid, "title": f"Paper {i}", "summary": "An abstract.", "upvotes": 3}}
        for i, pid in enumerate(HOSTILE_IDS)
    ]
    with ScriptedHttpServer() as feed, WebhookServer() as hooks:
        feed.add("/api/daily_papers", Reply(200, json.dumps(items)))
        webhooks = json.dumps(
            [
                {"name": "s", "kind": "slack", "url": hooks.url("/slack")},
                {"name": "d", "kind": "discord", "url": hooks.url("/discord")},
            ]
        )
        env = r.env(
            work / "home",
            DIGEST_SOURCES__HF_URL=f"{feed.url}/api/daily_papers",
            DIGEST_WEBHOOKS=webhooks,
        )
        outcome = daily(
            r, work, "--source", "hf-daily", "--format", "md", "--date", DAY, env=env, send=True
        )
        posts = {p.path: p.body.decode() for p in hooks.posts}
    md = "".join(p.read_text() for p in work.rglob("digest.md"))
    found = {
        "slack <https://evil": posts.get("/slack", "").count("<https://evil.example"),
        "discord ](https://evil": posts.get("/discord", "").count("](https://evil.example"),
        "md <script>": md.count("<script>"),
    }
    outcome.stderr += "\nerror: injected links: " + json.dumps(found)
    return [("source ids with link syntax", outcome)]


def case10(r: Runner) -> list[tuple[str, Outcome]]:
    work = r.workdir()
    secret = "T000/B000/SECRETTOKEN"
    with ScriptedHttpServer() as server:
        server.add(f"/hook/{secret}", Reply(200, "ok"))
        env = r.env(work / "home", DIGEST_WEBHOOKS=webhook_env(f"{server.url}/hook/{secret}"))
        verbose = daily(r, work, "--source", "sample", "-v", env=env, send=True)
        verbose.stderr += f"\nerror: secret in the -v output: {secret in verbose.stderr}"
        server.add(f"/hook/{secret}", Reply(500, "down"))
        hooks = webhook_env(f"{server.url}/hook/{secret}", max_attempts=1)
        env2 = r.env(work / "home2", DIGEST_WEBHOOKS=hooks)
        daily(r, work, "--source", "sample", env=env2, send=True)
        server.add(f"/hook/{secret}", Reply(200, "ok"))
        flush = r.run("outbox", "flush", "-v", cwd=work, env=env2)
        flush.stderr += f"\nerror: secret in the -v output: {secret in flush.stderr}"
    return [("daily -v, webhook URL token", verbose), ("outbox flush -v, token", flush)]


def case11(r: Runner) -> list[tuple[str, Outcome]]:
    work = r.workdir()
    with FakeOpenAIServer() as srv, hanging_batch_status(srv):
        srv.handler = handler()
        srv.batches.script(BatchScript("forever"))
        env = model_env(
            r,
            work / "home",
            srv,
            DIGEST_LLM__BATCH="true",
            DIGEST_LLM__BATCH_DEADLINE="20s",
            DIGEST_LLM__BATCH_POLL_SECONDS="1",
            DIGEST_LLM__TIMEOUT_SECONDS="300",
            DIGEST_LLM__MAX_ATTEMPTS="3",
        )
        source = f"file:{papers_file(work)}"
        outcome = daily(r, work, "--source", source, "--engine", "llm", env=env)
    return [("Batch API status hangs, batch_deadline 20 s", outcome)]


def smtp_env(
    r: Runner, home: Path, port: int, recipients: list[str], **email: str
) -> dict[str, str]:
    """Email to a loopback server on `port`, plain SMTP, `email` more [email] settings."""
    more = {f"DIGEST_EMAIL__{name}": value for name, value in email.items()}
    return r.env(
        home,
        DIGEST_EMAIL__SMTP_HOST="127.0.0.1",
        DIGEST_EMAIL__SMTP_PORT=str(port),
        DIGEST_EMAIL__SECURITY="none",
        DIGEST_EMAIL__SENDER="d@example.org",
        DIGEST_EMAIL__RECIPIENTS=json.dumps(recipients),
        **more,
    )


def case12(r: Runner) -> list[tuple[str, Outcome]]:
    work = r.workdir()
    with HostileSmtp("trickle_banner", pause=1.0) as smtp:
        env = smtp_env(r, work / "home", smtp.port, ["r@example.org"], TIMEOUT_SECONDS="5")
        outcome = r.run("doctor", cwd=work, env=env)
    return [("doctor, SMTP banner at 1 byte/s (timeout 5 s)", outcome)]


def case13(r: Runner) -> list[tuple[str, Outcome]]:
    work = r.workdir()
    fifo_bib, fifo_jsonl = work / "lib.bib", work / "papers.jsonl"
    os.mkfifo(fifo_bib)
    os.mkfifo(fifo_jsonl)
    env = r.env(work / "home")
    library = daily(r, work, "--source", "sample", "--library", str(fifo_bib), env=env, cap=60)
    source = daily(r, work, "--source", f"file:{fifo_jsonl}", env=env, cap=60)
    return [("FIFO without writer as --library", library), ("FIFO as file:", source)]


def init_answers(recipient: str) -> str:
    """stdin for `digest init`: defaults, email on, `recipient` for "Send to" (then a good
    address, should the question be asked again)."""
    lines = [
        "cs.CL",  # categories
        "n",  # hf daily
        "",  # interests
        "",  # library
        "none",  # model
        "y",  # email
        "smtp.example.org",
        "starttls",
        "587",
        "",  # login
        recipient,
        "reader@example.org",
        "",  # From
        "",  # cron
        "",  # tz
    ]
    return "\n".join(lines) + "\n"


def case14(r: Runner) -> list[tuple[str, Outcome]]:
    found = []
    work = r.workdir()
    (work / "out" / DAY / "digest.json").mkdir(parents=True)
    sample = ("daily", "--source", "sample", "--no-send", "--date", DAY)
    env = r.env(work / "home")
    outcome = r.run(*sample, "--out", str(work / "out"), cwd=work, env=env)
    found.append(("DIR/<date>/digest.json is a directory", outcome))
    ro = work / "ro"
    ro.mkdir()
    # A read-only mount in a mount namespace of its own (unshare), around the digest command.
    script = f'mount -t tmpfs -o ro,size=1m none "{ro}" && exec "$@"'
    outcome = r.run_wrapped(
        ["unshare", "--map-root-user", "--mount", "sh", "-c", script, "sh"],
        *sample, "--out", str(ro / "o"), cwd=work, env=env,
    )  # fmt: skip
    found.append(("--out on a read-only filesystem", outcome))
    env = r.env(work / "home2", DIGEST_WEBHOOKS=webhook_env("https://hooks.example/a\nb"))
    outcome = r.run(*sample, "--out", str(work / "o3"), cwd=work, env=env)
    found.append(("webhook URL with a newline", outcome))
    for answer in ("-", ""):
        w = r.workdir()
        outcome = r.run("init", cwd=w, env=r.env(w / "home"), stdin=init_answers(answer), cap=30)
        found.append((f"init, 'Send to' answered {answer!r}", outcome))
    w = r.workdir()
    (w / "deep.toml").write_text("a = " + "[" * 1000 + "]" * 1000 + "\n")
    outcome = r.run(*sample, "--config", str(w / "deep.toml"), cwd=w, env=r.env(w / "home"))
    found.append(("1,000-deep TOML", outcome))
    env = r.env(w / "home", DIGEST_WEBHOOKS="[" * 20_000 + "]" * 20_000)
    found.append(("20,000-deep DIGEST_WEBHOOKS", r.run(*sample, cwd=w, env=env)))
    return found


def damaged_state(home: Path) -> None:
    """A state file SQLite opens but whose quick check reports problems on two lines."""
    import sqlite3

    home.mkdir(parents=True)
    path = home / "state.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x TEXT)")
    db.execute("CREATE INDEX ti ON t (x)")
    db.executemany("INSERT INTO t VALUES (?)", [(str(i) * 50,) for i in range(2000)])
    db.commit()
    db.execute("PRAGMA writable_schema = ON")
    db.execute("UPDATE sqlite_master SET rootpage = 2 WHERE name = 'ti'")
    db.commit()
    db.close()


def case15(r: Runner) -> list[tuple[str, Outcome]]:
    found = []
    w = r.workdir()
    (w / "digest.toml").write_text("max_papers = 10\n")
    typo = daily(r, w, "--source", "sample", env=r.env(w / "home", DIGEST_LLM__MODLE="y"))
    found.append(("DIGEST_LLM__MODLE=y, a correct digest.toml", typo))
    damaged_state(w / "home2")
    found.append(("a state file failing its integrity check", daily(r, w, "--source", "sample", env=r.env(w / "home2"))))  # fmt: skip
    o = daily(r, w, "--source", "nosuch:x:", env=r.env(w / "home"))
    emoji = "\u274c" in o.stderr
    o.stderr += f"\nerror: ':x:' shown as an emoji: {emoji}"
    found.append(("`:x:` in an error line", o))
    o = r.run("rate", "9" * 100_000, "up", cwd=w, env=r.env(w / "home"))
    o.stderr += f"\nerror: longest stderr line: {max(map(len, o.stderr.splitlines()), default=0):,}"
    found.append(("a 100 KB id", o))
    bad = w / "stars.jsonl"
    bad.write_text(
        json.dumps({"id": "a", "title": "A", "stars": "many"}) + "\n"
        + json.dumps({"id": "b", "title": "B"}) + "\n"
    )  # fmt: skip
    found.append(("a non-integer `stars` in file:", daily(r, w, "--source", f"file:{bad}", env=r.env(w / "home3"))))  # fmt: skip
    w2 = r.workdir()
    found.append(("init --base-url javascript:alert(1)", r.run("init", "--model", "local", "--base-url", "javascript:alert(1)", "--no-email", cwd=w2, env=r.env(w2 / "home"), stdin="")))  # fmt: skip
    return found


def case16(r: Runner) -> list[tuple[str, Outcome]]:
    w = r.workdir()
    with smtp_server() as smtp:
        smtp.handler.data_delay = 2.0
        recipients = [f"r{i}@example.org" for i in range(5)]
        env = smtp_env(r, w / "home", smtp.port, recipients)

        def terminate(child: subprocess.Popen[str]) -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not smtp.messages:
                time.sleep(0.05)
            child.send_signal(signal.SIGTERM)

        outcome = daily(
            r, w, "--source", "sample", "--date", DAY, env=env, send=True, on_start=terminate
        )
        outcome.stderr += f"\nerror: {len(smtp.messages)} of 5 accepted before SIGTERM"
    return [("SIGTERM while sending to 5 recipients", outcome)]


CASES: dict[int, Callable[[Runner], list[tuple[str, Outcome]]]] = {
    1: case1, 2: case2, 3: case3, 4: case4, 5: case5, 6: case6, 7: case7, 8: case8,
    9: case9, 10: case10, 11: case11, 12: case12, 13: case13, 14: case14, 15: case15,
    16: case16,
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=REPO, help="the checkout whose agent runs")
    parser.add_argument("--cap", type=float, default=90.0, help="seconds before a case is stopped")
    parser.add_argument("--only", type=int, nargs="*", help="case numbers")
    options = parser.parse_args()
    asyncio.set_event_loop_policy(None)
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(options.tree.resolve(), options.cap, Path(tmp))
        print(f"tree: {runner.tree}   cap: {options.cap:g} s")
        print("| case | what | outcome | what the user saw |")
        print("|---|---|---|---|")
        for number in options.only or sorted(CASES):
            for what, outcome in CASES[number](runner):
                said = outcome.said().replace("|", "\\|")
                print(f"| {number} | {what} | {outcome.short()} | {said} |", flush=True)


if __name__ == "__main__":
    main()
