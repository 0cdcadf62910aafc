"""Issue 23, cases 4, 5, 6, 13, 14 and 15: hostile input (a reply, a file, a setting, an
answer to a question) ends in a digest or in one clear line, never in a traceback or a hang.
Through the CLI as a user meets each; pytest-timeout bounds the slow ones (durations are never
asserted here: tests/fuzz holds the CPU-budget checks)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agent.models import MAX_UPVOTES
from tests.bounded_cli import DAY, cli, digest_json, error_line, no_traceback, paper_file
from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.openai_server import Reply as ModelReply
from tests.processes import clean_env, digest_process

NESTED = "{" * 100_000 + "Deep title" + "}" * 100_000


def hf_env(server: ScriptedHttpServer) -> dict[str, str]:
    return {"DIGEST_SOURCES__HF_URL": f"{server.url}/api/daily_papers"}


# -- case 4: 100,000 nested braces are cleaned in linear time -------------------------------------


@pytest.mark.timeout(60)  # before: 161 s for the reply alone
def test_case4_a_title_of_nested_braces_from_hugging_face_and_a_bib_file(tmp_path: Path) -> None:
    body = json.dumps([{"paper": {"id": "2604.00001", "title": NESTED, "summary": "An abstract."}}])
    bib = tmp_path / "nested.bib"
    bib.write_text(f"@article{{a,\n  title = {{{NESTED}}},\n}}\n", encoding="utf-8")
    out = tmp_path / "out"
    with ScriptedHttpServer() as server:
        server.add("/api/daily_papers", Reply(200, body, {"Content-Type": "application/json"}))
        result = cli(
            tmp_path, "daily", "--source", "hf-daily", "--library", str(bib), "--no-send",
            "--date", DAY, "--out", str(out), env=hf_env(server),
        )  # fmt: skip
    assert result.exit_code == 0, no_traceback(result)
    titles = [p["title"] for t in digest_json(out)["themes"] for p in t["papers"]]
    titles += [p["title"] for p in digest_json(out)["also_new"]]
    assert titles == ["Deep title"]


# -- case 5: a model answer of 200,000 "[" is re-asked, then written offline ----------------------


@pytest.mark.timeout(60)
def test_case5_a_model_answer_nested_200000_deep_degrades_one_part(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FakeOpenAIServer() as srv:
        srv.handler = lambda body: ModelReply("[" * 200_000)
        env = {
            "DIGEST_LLM__BASE_URL": srv.base_url,
            "DIGEST_LLM__API_KEY": "sk-test",
            "DIGEST_LLM__DIALECT": "json_object",
            "DIGEST_LLM__LOCAL_DEFAULTS": "false",
            "DIGEST_LLM__MAX_REASKS": "1",
        }
        result = cli(
            tmp_path, "daily", "--source", f"file:{paper_file(tmp_path)}", "--engine", "llm",
            "--no-send", "--out", str(out), env=env,
        )  # fmt: skip
        reask = srv.chat_requests[1].prompt_text
    assert result.exit_code == 0, no_traceback(result)
    assert "nested too deeply" in reask  # the model was told what was wrong with its answer
    data = digest_json(out)
    assert data["degraded"] and {p["engine"] for t in data["themes"] for p in t["papers"]} == {
        "offline"
    }


# -- case 6: a 401-digit integer is a count that clamps ---------------------------------------------


@pytest.mark.timeout(30)
def test_case6_a_401_digit_upvote_count_clamps_beside_the_sample(tmp_path: Path) -> None:
    body = (
        '[{"paper": {"id": "2604.00001", "title": "Big votes", "summary": "s", "upvotes": 1'
        + "0" * 400
        + ', "githubRepo": "https://github.com/a/b", "githubStars": -1e999}}]'
    )
    out = tmp_path / "out"
    with ScriptedHttpServer() as server:
        server.add("/api/daily_papers", Reply(200, body))
        result = cli(
            tmp_path, "daily", "--source", "hf-daily", "--source", "sample", "--no-send",
            "--date", DAY, "--out", str(out), env=hf_env(server),
        )  # fmt: skip
    assert result.exit_code == 0, no_traceback(result)
    data = digest_json(out)
    papers = [p for t in data["themes"] for p in t["papers"]] + data["also_new"]
    [big] = [p for p in papers if p["id"] == "2604.00001"]
    assert big["upvotes"] == MAX_UPVOTES and big["stars"] is None
    assert {h["name"]: h["status"] for h in data["health"]} == {"hf-daily": "ok", "sample": "ok"}


# -- case 13: a FIFO with no writer ---------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("where", ["library", "file"])
def test_case13_a_fifo_without_a_writer_is_one_line(tmp_path: Path, where: str) -> None:
    fifo = tmp_path / ("lib.bib" if where == "library" else "papers.jsonl")
    os.mkfifo(fifo)
    args = ["--source", "sample", "--library", str(fifo)] if where == "library" else []
    args = args or ["--source", f"file:{fifo}"]
    env = {"DIGEST_SOURCES__TIMEOUT_SECONDS": "0.3"}
    result = cli(tmp_path, "daily", *args, "--no-send", env=env)
    assert result.exit_code == 2, result.output
    assert "sent nothing within 0.3 s (a FIFO with no writer?)" in error_line(result)


@pytest.mark.timeout(30)
def test_case13_a_fifo_with_a_writer_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "papers.jsonl"
    os.mkfifo(fifo)
    (tmp_path / "src").mkdir()
    rows = paper_file(tmp_path / "src").read_bytes()

    def write() -> None:
        with fifo.open("wb") as pipe:  # blocks until the run opens the FIFO
            pipe.write(rows)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    out = tmp_path / "out"
    result = cli(tmp_path, "daily", "--source", f"file:{fifo}", "--no-send", "--out", str(out))
    writer.join(5)
    assert result.exit_code == 0, no_traceback(result)
    assert digest_json(out)["paper_count"] == 3


# -- case 14: tracebacks that are now one line -----------------------------------------------------


SAMPLE = ("daily", "--source", "sample", "--no-send", "--date", DAY)


def test_case14_digest_json_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "out" / DAY / "digest.json").mkdir(parents=True)
    result = cli(tmp_path, *SAMPLE, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert error_line(result) == (
        f"error: cannot write {tmp_path / 'out' / DAY / 'digest.json'}: a directory is in the "
        "way; move it away or choose another --out"
    )


@pytest.mark.timeout(60)
def test_case14_out_on_a_read_only_file_system(tmp_path: Path) -> None:
    """A real read-only mount, in a mount namespace of its own (unshare). Where namespaces are
    not allowed, a directory that refuses writes stands in: the same one-line contract."""
    target = tmp_path / "ro"
    target.mkdir()
    env = clean_env(DIGEST_HOME=str(tmp_path / "home"))
    digest = [sys.executable, "-m", "agent", *SAMPLE, "--out", str(target / "o")]
    script = f'mount -t tmpfs -o ro,size=1m none "{target}" && echo MOUNTED >&2 && exec "$@"'
    command = ["unshare", "--map-root-user", "--mount", "sh", "-c", script, "sh", *digest]
    done = None
    if shutil.which("unshare"):
        done = subprocess.run(
            command, check=False, env=env, capture_output=True, text=True, timeout=50
        )
        if "MOUNTED" not in done.stderr:
            done = None
    expected = "the file system is read-only"
    if done is None:  # no namespaces here: a write-protected directory instead
        target.chmod(0o500)
        if os.geteuid() == 0:
            subprocess.run(["chattr", "+i", str(target)], check=True)
        try:
            done = digest_process(*SAMPLE, "--out", str(target / "o"), cwd=tmp_path, env=env)
        finally:
            if os.geteuid() == 0:
                subprocess.run(["chattr", "-i", str(target)], check=True)
            target.chmod(0o700)
        expected = "cannot write"
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and expected in done.stderr
    assert [x for x in done.stderr.splitlines() if x.startswith("error:")] == [
        next(x for x in done.stderr.splitlines() if x.startswith("error:"))
    ]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "DIGEST_WEBHOOKS",
            json.dumps([{"name": "w", "url": "https://hooks.example/T/B/secret\nX"}]),
            (
                "bad environment setting DIGEST_WEBHOOKS: webhooks.0.url: Value error, a webhook "
                "url must not contain spaces, line breaks or control characters"
            ),
        ),
        (
            "DIGEST_WEBHOOKS",
            "[" * 20_000 + "]" * 20_000,
            "bad environment setting DIGEST_WEBHOOKS: not valid JSON (the value nested too deeply",
        ),
    ],
    ids=["newline-in-url", "20000-deep"],
)
def test_case14_hostile_environment_settings(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = cli(tmp_path, *SAMPLE, env={variable: value})
    assert result.exit_code == 2
    line = error_line(result)
    assert line.startswith(f"error: {expected}") and "secret" not in line


def test_case14_a_1000_deep_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "deep.toml"
    config.write_text("a = " + "[" * 1000 + "]" * 1000 + "\n", encoding="utf-8")
    result = cli(tmp_path, *SAMPLE, "--config", str(config))
    assert result.exit_code == 2
    assert error_line(result) == (
        f"error: config file {config}: the file nested too deeply (more than 16 levels); refused"
    )


@pytest.mark.parametrize(
    ("first_answer", "said", "written"),
    [
        ("", "give at least one address", 'recipients = ["reader@example.org"]'),  # asked again
        ("-", "No email for now", "# No email yet"),  # '-' is no email after all
    ],
)
def test_case14_init_answers_to_send_to(
    tmp_path: Path, first_answer: str, said: str, written: str
) -> None:
    """Before, '-' or nothing for "Send to" ended init with an IndexError and no config."""
    answers = [
        "cs.CL", "n", "", "", "none",  # sources, model
        "y", "smtp.example.org", "starttls", "587", "",  # email
        first_answer, "reader@example.org",  # "Send to", then (if asked again) an address
        "", "", "",  # From (when asked), cron, time zone
    ]  # fmt: skip
    result = cli(tmp_path, "init", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, no_traceback(result)
    assert said in result.output
    assert written in (tmp_path / "digest.toml").read_text()


# -- case 15: the small ones ------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_case15_an_unknown_variable_is_a_warning_and_errors_name_their_variable(
    tmp_path: Path,
) -> None:
    (tmp_path / "digest.toml").write_text("max_papers = 10\n", encoding="utf-8")
    env = clean_env(DIGEST_HOME=str(tmp_path / "home"), DIGEST_LLM__MODLE="y")
    typo = digest_process(*SAMPLE, "--out", str(tmp_path / "o"), cwd=tmp_path, env=env)
    assert typo.returncode == 0, typo.stderr
    assert "DIGEST_LLM__MODLE is not a setting and is ignored; did you mean DIGEST_LLM__MODEL?" in (
        typo.stderr
    )
    bad = cli(tmp_path, *SAMPLE, env={"DIGEST_MAX_PAPERS": "abc"})
    assert bad.exit_code == 2
    line = error_line(bad)
    assert line.startswith("error: bad environment setting DIGEST_MAX_PAPERS: max_papers:")
    assert "digest.toml" not in line  # the file is fine: it is not blamed


def test_case15_a_failed_integrity_check_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    db = sqlite3.connect(home / "state.sqlite3")
    db.execute("CREATE TABLE t (x TEXT)")
    db.execute("CREATE INDEX ti ON t (x)")
    db.executemany("INSERT INTO t VALUES (?)", [(str(i) * 50,) for i in range(2000)])
    db.commit()
    db.execute("PRAGMA writable_schema = ON")
    db.execute("UPDATE sqlite_master SET rootpage = 2 WHERE name = 'ti'")  # the index is the table
    db.commit()
    db.close()
    result = cli(tmp_path, *SAMPLE)
    assert result.exit_code == 6
    line = error_line(result)  # SQLite's own report is two lines; the error is one
    assert (
        "is damaged (integrity check: *** in database main ***" in line and "move it aside" in line
    )


def test_case15_user_text_is_printed_as_it_is_and_clipped(tmp_path: Path) -> None:
    emoji = cli(tmp_path, "daily", "--source", "nosuch:x:", "--no-send")
    assert emoji.exit_code == 2 and ":x:" in error_line(emoji) and "\u274c" not in emoji.output
    huge = cli(tmp_path, "rate", "9" * 100_000, "up")
    assert huge.exit_code == 2
    line = error_line(huge)
    assert len(line) < 300 and line.startswith("error: no paper '9999")


def test_case15_a_count_that_is_not_a_number_does_not_reject_the_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    source = f"file:{paper_file(tmp_path, stars='many', upvotes='lots')}"
    result = cli(tmp_path, "daily", "--source", source, "--no-send", "--out", str(out))
    assert result.exit_code == 0, no_traceback(result)
    data = digest_json(out)
    papers = [p for t in data["themes"] for p in t["papers"]] + data["also_new"]
    assert len(papers) == 3 and all(p["stars"] is None and p["upvotes"] is None for p in papers)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "http://a b/"])
def test_case15_init_refuses_a_server_url_that_is_not_http(tmp_path: Path, url: str) -> None:
    result = cli(tmp_path, "init", "--model", "local", "--base-url", url, "--no-email")
    assert result.exit_code == 2
    assert "is not an http(s) URL" in error_line(result)
    assert not (tmp_path / "digest.toml").exists()


def test_a_paper_holds_a_title_and_an_abstract_of_a_real_papers_length() -> None:
    """What a source sends as a title or an abstract is cut at a length no paper has (the
    fuzzer's 5 MB title took every later step seconds); real ones are kept whole."""
    from agent.models import MAX_ABSTRACT_CHARS, MAX_TITLE_CHARS, Paper

    huge = Paper(id="x", title="word " * 500_000, abstract="words " * 500_000)
    assert len(huge.title) == MAX_TITLE_CHARS and huge.title.endswith("…")
    assert len(huge.abstract) <= MAX_ABSTRACT_CHARS and huge.abstract.endswith("…")
    real = Paper(id="y", title="A title", abstract="An abstract. " * 100)
    assert real.abstract == ("An abstract. " * 100).strip()
