"""Issue 23, cases 1, 2, 3, 7, 10, 11 and 12: every outbound call is bounded (a whole-request
deadline, a byte cap, a time budget for the whole call) and says what went wrong in one line.
Each case runs `digest` against a loopback server that misbehaves as the issue describes;
small timeouts keep the tests short, pytest-timeout bounds them, durations are never asserted."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent.config import ZoteroSettings
from agent.errors import ConfigError
from agent.select.library.zotero_api import load_zotero
from tests.bounded_cli import cli, error_line, no_traceback, paper_file
from tests.fakes.hostile_model import hanging_batch_status
from tests.fakes.hostile_smtp import HostileSmtp
from tests.fakes.http_server import Reply, ScriptedHttpServer, no_sleep, recording_sleep
from tests.fakes.openai_batches import BatchScript
from tests.fakes.openai_server import FakeOpenAIServer
from tests.llm_answers import handler
from tests.processes import clean_env, digest_process

JSON = {"Content-Type": "application/json"}
ITEMS = "/users/1/items/top"


def zotero_env(server: ScriptedHttpServer, **more: str) -> dict[str, str]:
    return {
        "DIGEST_ZOTERO__USER_ID": "1",
        "DIGEST_ZOTERO__API_KEY": "zotero-secret-key",
        "DIGEST_ZOTERO__BASE_URL": server.url,
        "DIGEST_ZOTERO__TIMEOUT_SECONDS": "1",
        "DIGEST_ZOTERO__BUDGET_SECONDS": "4",
        **more,
    }


def daily_with_zotero(tmp_path: Path, server: ScriptedHttpServer, **more: str) -> str:
    """`digest daily` on a paper file with the Zotero library at `server`: its error line."""
    source = f"file:{paper_file(tmp_path)}"
    result = cli(tmp_path, "daily", "--source", source, "--no-send", env=zotero_env(server, **more))
    assert result.exit_code == 2, result.output
    return error_line(result)


def page(count: int) -> str:
    return json.dumps(
        [
            {"key": f"K{i}", "data": {"itemType": "journalArticle", "title": f"T{i}"}}
            for i in range(count)
        ]
    )


# -- case 1: a Zotero reply with no end is cut at the byte cap -------------------------------------


@pytest.mark.timeout(30)
def test_case1_an_endless_zotero_reply_is_cut_at_the_byte_cap(tmp_path: Path) -> None:
    with ScriptedHttpServer() as server:
        server.add(ITEMS, Reply(200, endless=True))
        line = daily_with_zotero(tmp_path, server, DIGEST_ZOTERO__MAX_RESPONSE_BYTES="200000")
    assert line == (
        "error: the Zotero library could not be read: response larger than 200,000 bytes"
    )


# -- case 2: no Zotero call outlives its budget ----------------------------------------------------


@pytest.mark.timeout(30)
def test_case2_a_trickling_zotero_body_ends_within_the_budget(tmp_path: Path) -> None:
    with ScriptedHttpServer() as server:
        server.add(ITEMS, Reply(200, trickle=0.5))
        line = daily_with_zotero(
            tmp_path,
            server,
            DIGEST_ZOTERO__TIMEOUT_SECONDS="0.5",
            DIGEST_ZOTERO__BUDGET_SECONDS="1.2",
        )
    # each try is cut at 0.5 s (or what is left of the 1.2 s budget), however the body trickles
    assert re.search(r"no complete answer within 0\.\d s \(whole request\)", line), line


@pytest.mark.timeout(30)
def test_case2_a_backoff_longer_than_the_budget_fails_at_once(tmp_path: Path) -> None:
    with ScriptedHttpServer() as server:
        server.add(ITEMS, Reply(200, page(100), {**JSON, "Backoff": "3000"}))
        line = daily_with_zotero(tmp_path, server)
        assert len(server.requests) == 1  # the second page is never asked for
    assert "asked to wait 3000 s before the next page (Backoff)" in line


def test_case2_a_short_backoff_is_waited_for_then_the_next_page_read() -> None:
    waits: list[float] = []
    with ScriptedHttpServer() as server:
        server.enqueue(Reply(200, page(100), {**JSON, "Backoff": "2"}), Reply(200, page(5), JSON))
        settings = ZoteroSettings(user_id="1", base_url=server.url, timeout_seconds=2)
        entries = asyncio.run(load_zotero(settings, None, sleep=recording_sleep(waits)))
    assert waits == [2] and len(entries) == 105
    assert [r.param("start") for r in server.requests] == ["0", "100"]


@pytest.mark.timeout(30)
def test_case2_a_retry_after_past_the_budget_ends_the_process_at_once(tmp_path: Path) -> None:
    """A real process: before, it printed a traceback and then stayed alive on a library's
    non-daemon timer thread for 3,000 s."""
    with ScriptedHttpServer() as server:
        server.add(ITEMS, Reply(429, "slow down", {"Retry-After": "3000"}))
        env = clean_env(DIGEST_HOME=str(tmp_path / "home"), **zotero_env(server))
        done = digest_process(
            "daily", "--source", f"file:{paper_file(tmp_path)}", "--no-send",
            cwd=tmp_path, env=env, timeout=25,
        )  # fmt: skip
        assert len(server.requests) == 1
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "HTTP 429; the server asked to wait 3000 s, past the time budget" in done.stderr
    assert "zotero-secret-key" not in done.stderr + done.stdout


# -- case 7: whatever Zotero answers, one line ------------------------------------------------------


@pytest.mark.timeout(20)
def test_case7_a_zotero_reply_that_is_not_json_is_one_line_from_the_cli(tmp_path: Path) -> None:
    with ScriptedHttpServer() as server:
        server.add(
            ITEMS, Reply(200, "@article{a, title={T}}", {"Content-Type": "application/x-bibtex"})
        )
        line = daily_with_zotero(tmp_path, server)
    assert line == (
        "error: the Zotero library could not be read: the server answered "
        "application/x-bibtex, not JSON"
    )


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(200, "[" * 100_000, JSON), "nested too deeply"),
        (Reply(200, '{"items": []}', JSON), "expected a JSON list of items, got a dict"),
        (Reply(200, "[1, 2, null]", JSON), "has no usable items"),
        (Reply(200, "hello", {"Content-Type": "text/plain"}), "answered text/plain, not JSON"),
        (Reply(429, '{"error": "rate limited"}', JSON), "HTTP 429"),
        (Reply(200, "not json at all"), "not readable JSON"),
        (Reply(200, "@article{a,}", {"Content-Type": "application/x-bibtex"}), "not JSON"),
        (Reply(302, "", {"Location": "file:///etc/passwd"}), "not http(s); refused"),
        (
            Reply(200, '[{"data": {"title": ["a"], "itemType": ["x"], "creators": "ab"}}]', JSON),
            "has no usable items",
        ),
    ],
    ids=[
        "nested",
        "object",
        "non-objects",
        "text",
        "429",
        "no-type",
        "bibtex",
        "file-redirect",
        "odd-fields",
    ],
)
@pytest.mark.timeout(20)
def test_case7_every_malformed_zotero_reply_is_a_config_error(reply: Reply, reason: str) -> None:
    with ScriptedHttpServer() as server:
        server.add(ITEMS, reply)
        settings = ZoteroSettings(user_id="1", base_url=server.url, timeout_seconds=2)
        with pytest.raises(ConfigError) as info:
            asyncio.run(load_zotero(settings, None, sleep=no_sleep))
    assert reason in str(info.value) and "\n" not in str(info.value)


# -- case 3: a webhook's trickling headers cannot hold the run --------------------------------------


@pytest.mark.timeout(30)
def test_case3_a_webhook_with_trickling_headers_is_cut_and_spooled(tmp_path: Path) -> None:
    with ScriptedHttpServer() as server:
        server.add("/hook", Reply(200, trickle=0.2, trickle_headers=True))
        hooks = [
            {"name": "team", "url": f"{server.url}/hook", "timeout_seconds": 0.5, "max_attempts": 1}
        ]
        result = cli(
            tmp_path, "daily", "--source", f"file:{paper_file(tmp_path)}",
            env={"DIGEST_WEBHOOKS": json.dumps(hooks)},
        )  # fmt: skip
    assert result.exit_code == 4, result.output
    line = error_line(result)
    assert "webhook team: timed out: no complete answer within 0.5 s (whole request)" in line
    assert "127.0.0.1" not in line  # the URL holds the channel's token: never printed
    assert list((tmp_path / "home" / "outbox" / "webhooks").glob("*.json"))  # nothing lost


# -- case 10: -v never prints a webhook's token ------------------------------------------------------


@pytest.mark.timeout(60)
def test_case10_verbose_runs_never_print_the_webhook_token(tmp_path: Path) -> None:
    token = "T0001/B0001/XyZsecretTOKEN42"
    with ScriptedHttpServer() as server:
        server.add(f"/services/{token}", Reply(500, "down"))
        hooks = [
            {
                "name": "team",
                "kind": "slack",
                "url": f"{server.url}/services/{token}",
                "max_attempts": 1,
            }
        ]
        env = clean_env(DIGEST_HOME=str(tmp_path / "home"), DIGEST_WEBHOOKS=json.dumps(hooks))
        source = f"file:{paper_file(tmp_path)}"
        failed = digest_process("daily", "-v", "--source", source, cwd=tmp_path, env=env)
        server.add(f"/services/{token}", Reply(200, "ok"))
        flushed = digest_process("outbox", "flush", "-v", cwd=tmp_path, env=env)
        assert len(server.requests) == 2
    assert failed.returncode == 4 and flushed.returncode == 0, failed.stderr + flushed.stderr
    # httpx's own line is there, with the host, and the path masked where the token was
    assert "HTTP Request: POST http://127.0.0.1:" in flushed.stderr and "/***" in flushed.stderr
    for done in (failed, flushed):
        assert token not in done.stdout + done.stderr and "XyZsecret" not in done.stderr


# -- case 11: a Batch API status call that hangs ends at the batch deadline --------------------------


@pytest.mark.timeout(60)
def test_case11_a_hanging_batch_status_call_ends_at_the_batch_deadline(tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=handler(themes=2)) as srv, hanging_batch_status(srv):
        srv.batches.script(BatchScript("forever"))
        env = {
            "DIGEST_LLM__BASE_URL": srv.base_url,
            "DIGEST_LLM__API_KEY": "sk-test",
            "DIGEST_LLM__LOCAL_DEFAULTS": "false",
            "DIGEST_LLM__BATCH": "true",
            "DIGEST_LLM__BATCH_DEADLINE": "1s",
            "DIGEST_LLM__BATCH_POLL_SECONDS": "0.2",
            "DIGEST_LLM__TIMEOUT_SECONDS": "300",  # the status call would wait this, 4 times
            "DIGEST_LLM__MAX_RETRY_WAIT_SECONDS": "0",
        }
        result = cli(
            tmp_path, "daily", "--source", f"file:{paper_file(tmp_path)}", "--engine", "llm",
            "--no-send", "--out", str(tmp_path / "out"), env=env,
        )  # fmt: skip
    assert result.exit_code == 0, no_traceback(result)
    [path] = list((tmp_path / "out").rglob("digest.json"))
    batch = json.loads(path.read_text())["model"]["batch"]
    assert batch["requests"] == 0 and batch["direct"] >= 1  # every answer came directly
    assert any("the batch deadline" in note or "cancelled" in note for note in batch["notes"])


# -- case 12: doctor's SMTP check has a deadline ------------------------------------------------------


@pytest.mark.timeout(30)
def test_case12_doctor_smtp_check_ends_at_its_deadline(tmp_path: Path) -> None:
    with HostileSmtp("trickle_banner", pause=0.2) as smtp:
        env = {
            "DIGEST_EMAIL__SMTP_HOST": "127.0.0.1",
            "DIGEST_EMAIL__SMTP_PORT": str(smtp.port),
            "DIGEST_EMAIL__SECURITY": "none",
            "DIGEST_EMAIL__SENDER": "d@example.org",
            "DIGEST_EMAIL__RECIPIENTS": '["r@example.org"]',
            "DIGEST_EMAIL__TIMEOUT_SECONDS": "0.5",
        }
        result = cli(tmp_path, "doctor", env=env)
    output = no_traceback(result)
    [line] = [x for x in output.splitlines() if "SMTP" in x and "127.0.0.1" in x]
    assert "timed out: no complete exchange within 0.5 s" in line, output
    assert result.exit_code != 0


def test_the_zotero_key_is_a_header_never_a_url_part_and_never_cached(
    tmp_path: Path, store: Any
) -> None:
    with ScriptedHttpServer() as server:
        server.add(ITEMS, Reply(200, page(2), JSON))
        settings = ZoteroSettings(user_id="1", api_key=SecretStr("k-123456"), base_url=server.url)
        assert len(asyncio.run(load_zotero(settings, store))) == 2
    [request] = server.requests
    assert request.headers["zotero-api-key"] == "k-123456"
    assert request.headers["zotero-api-version"] == "3" and "k-123456" not in json.dumps(
        request.query
    )
    assert b"k-123456" not in (tmp_path / "home" / "state.sqlite3").read_bytes()
