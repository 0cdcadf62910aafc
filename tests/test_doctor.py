"""`digest doctor`: each part checked against a real loopback server, a working and a failing one."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agent.cli import main
from agent.config import ScheduleSettings, Settings, SourcesSettings, load_settings
from agent.core.lock import run_lock
from agent.deliver.spool import spool_message
from agent.doctor import DoctorOptions, exit_code, run_doctor
from agent.doctor.checks import Check
from agent.doctor.local import check_home, check_state
from agent.doctor.mail import TEST_SUBJECT, check_smtp, send_test
from agent.doctor.model import check_model
from agent.doctor.sources import check_sources
from agent.doctor.when import check_schedule
from agent.store import Store
from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.fakes.openai_server import FakeOpenAIServer, Fault, default_digest_handler
from tests.fakes.openai_server import Reply as ModelReply
from tests.fakes.smtp_server import (
    client_context,
    free_port,
    make_certificate,
    openssl_available,
    settings_for,
    smtp_server,
)

FIXTURES = Path(__file__).parent / "fixtures"
RSS_CL = (FIXTURES / "arxiv_rss" / "distill_rss_arxiv_cs_cl.xml").read_bytes()
HF = (FIXTURES / "hf_daily_papers" / "sotawhat_hf_daily_papers_limit30.json").read_bytes()
ATOM = (FIXTURES / "arxiv_api" / "arxivpy2016_search_query_au_del_maestro.xml").read_bytes()
NOW = dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC)  # a Tuesday

pytestmark = pytest.mark.timeout(60)


def said(checks: AsyncIterator[Check], first: int | None = None) -> list[Check]:
    """The checks doctor yields (its first `first` only: the rest are never made)."""

    async def take() -> list[Check]:
        taken = []
        async for check in checks:
            taken.append(check)
            if len(taken) == first:
                break
        return taken

    return asyncio.run(take())


@pytest.fixture
def server() -> Any:
    with ScriptedHttpServer() as srv:
        yield srv


def sources_settings(tmp_path: Path, server: ScriptedHttpServer, *default: str) -> Any:
    return load_settings(
        None,
        home=tmp_path / "home",
        sources={
            "default": list(default),
            "arxiv_rss_url": f"{server.url}/rss/",
            "arxiv_api_url": f"{server.url}/api/query",
            "hf_url": f"{server.url}/api/daily_papers",
            "arxiv_min_interval_seconds": 0,
            "timeout_seconds": 2,
        },
    )


# -- config, DIGEST_HOME, state -----------------------------------------------------------------


def test_config_found_and_valid_or_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGEST_HOME", str(tmp_path / "home"))
    first = said(run_doctor(DoctorOptions(now=NOW)), first=1)[0]
    assert (
        first.status == "warning"
        and "no digest.toml" in first.detail
        and "digest init" in (first.fix or "")
    )
    (tmp_path / "digest.toml").write_text("max_papers = 5\n", encoding="utf-8")
    first = said(run_doctor(DoctorOptions(now=NOW)), first=1)[0]
    assert first == Check.ok("config", f"{tmp_path / 'digest.toml'} is valid")
    (tmp_path / "digest.toml").write_text("max_papers = 0\n", encoding="utf-8")
    checks = said(run_doctor(DoctorOptions(now=NOW)))
    assert [c.status for c in checks] == ["failed"], "nothing else can be checked without settings"
    assert "max_papers" in checks[0].detail
    assert exit_code(checks) == 2


def test_home_writable_or_not(tmp_path: Path) -> None:
    assert check_home(tmp_path / "new" / "home").status == "ok"
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    check = check_home(blocker / "home")
    assert (
        check.status == "failed"
        and "not writable" in check.detail
        and "DIGEST_HOME" in (check.fix or "")
    )


def test_a_run_stopped_before_it_finished_is_interrupted_not_running(tmp_path: Path) -> None:
    """A run record never finished (the run was killed) reads 'interrupted' once no process
    holds the run lock; while one does, the run is 'running' (it said 'running' either way)."""
    home = tmp_path / "home"
    with Store.open(home) as store:
        store.start_run(dt.date(2026, 11, 30), "daily")
    with run_lock(home):
        running = check_state(home)
    stopped = check_state(home)
    assert running.status == "ok" and "last daily run: 2026-11-30, running (at" in running.detail
    assert stopped.status == "warning"
    assert "last daily run: 2026-11-30, interrupted (at" in stopped.detail
    assert stopped.fix == (
        "it was stopped before it finished (a kill, a shutdown); `digest daily --date "
        "2026-11-30` runs that day again"
    )


def test_state_readable_damaged_or_spooled(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert check_state(home).detail == "no state yet; the first run creates it"
    assert not (home / "state.sqlite3").exists(), "the check does not create the state"
    with Store.open(home) as store:
        store.mark_seen([("2401.00001", 1, "A paper")], dt.date(2026, 11, 30))
        run = store.start_run(dt.date(2026, 11, 30), "daily")
        store.finish_run(run, "sent", message="ok")
    check = check_state(home)
    assert (
        check.status == "ok"
        and "1 paper seen" in check.detail
        and "2026-11-30, sent" in check.detail
    )
    with Store.open(home) as store:
        run = store.start_run(dt.date(2026, 12, 1), "daily")
        store.finish_run(run, "spooled", message="SMTP down")
    spool_message(
        home / "outbox",
        data=b"Subject: x\r\n\r\nbody\r\n",
        digest_key="daily:2026-12-01",
        recipient="reader@example.org",
        message_id="<x@example.org>",
        attempts=1,
        last_error="connection refused",
    )
    check = check_state(home)
    assert check.status == "warning" and "2026-12-01, spooled" in check.detail
    assert check.detail.endswith("; 1 message waits in the outbox")
    assert "`digest outbox flush` sends them" in (check.fix or "")
    for spooled in (home / "outbox").iterdir():
        spooled.unlink()
    check = check_state(home)
    assert check.status == "ok" and check.detail.endswith("; the outbox has been sent since")
    (home / "state.sqlite3").write_bytes(b"this is not a database" * 200)
    for extra in home.glob("state.sqlite3-*"):
        extra.unlink()
    check = check_state(home)
    assert check.status == "failed" and "unreadable" in check.detail


# -- sources ------------------------------------------------------------------------------------


def test_each_source_is_fetched_once_and_reported(
    tmp_path: Path, server: ScriptedHttpServer
) -> None:
    server.add("/rss/cs.CL", Reply(200, RSS_CL))
    server.add("/api/daily_papers", Reply(500, "down"))
    server.add("/api/query", Reply(200, ATOM))
    settings = sources_settings(
        tmp_path, server, "arxiv-rss:cs.CL", "hf-daily", "arxiv:au:del_maestro", "nope:x"
    )
    checks = said(check_sources(settings, NOW.date()))
    assert [c.status for c in checks] == ["ok", "failed", "ok", "failed"]
    assert "papers now" in checks[0].detail
    assert "HTTP 500" in checks[1].detail and checks[1].part == "source hf-daily"
    assert "(first page)" in checks[2].detail
    assert "unknown source" in checks[3].detail
    paths = [r.path for r in server.requests]
    assert sorted(paths) == ["/api/daily_papers", "/api/query", "/rss/cs.CL"], (
        "one request each, no retry"
    )
    query = next(r for r in server.requests if r.path == "/api/query")
    assert query.param("max_results") == "10"
    assert not (tmp_path / "home" / "state.sqlite3").exists(), "nothing stored, nothing marked"


def test_when_every_source_fails_doctor_says_the_run_stops_with_exit_3(
    tmp_path: Path, server: ScriptedHttpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'`digest daily` still runs with the other sources' only when there is another that
    could be read; with none, doctor says what the run does: stop with exit 3."""
    server.add("/rss/cs.CL", Reply(503, "down"))
    server.add("/api/daily_papers", Reply(503, "down"))
    server.add("/api/query", Reply(200, ATOM))
    for default, others in [
        (("arxiv-rss:cs.CL", "hf-daily"), False),
        (("hf-daily",), False),
        (("arxiv-rss:cs.CL", "arxiv:au:del_maestro"), True),
    ]:
        checks = said(check_sources(sources_settings(tmp_path, server, *default), NOW.date()))
        failed = [c for c in checks if c.status == "failed"]
        assert failed, checks
        for check in failed:
            assert ("still runs with the other sources" in (check.fix or "")) is others, check
            assert ("exit 3" in (check.fix or "")) is not others, check
    # and that is what the run does
    monkeypatch.setenv("DIGEST_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DIGEST_SOURCES__ARXIV_RSS_URL", f"{server.url}/rss/")
    monkeypatch.setenv("DIGEST_SOURCES__HF_URL", f"{server.url}/api/daily_papers")
    monkeypatch.setenv("DIGEST_SOURCES__MAX_ATTEMPTS", "1")
    argv = ["daily", "--source", "arxiv-rss:cs.CL", "--source", "hf-daily", "--no-send"]
    assert CliRunner().invoke(main, argv).exit_code == 3


def test_slow_sources_are_checked_at_the_same_time_and_said_in_config_order(
    tmp_path: Path, server: ScriptedHttpServer
) -> None:
    """The overlap is read from when the server held each request, not from a wall-time bound;
    the first source is held longer, finishes last, and is still said first."""
    server.add("/rss/cs.CL", Reply(200, RSS_CL, delay=0.5))
    server.add("/api/daily_papers", Reply(200, HF, delay=0.25))
    settings = sources_settings(tmp_path, server, "arxiv-rss:cs.CL", "hf-daily")
    checks = said(check_sources(settings, NOW.date()))
    assert [c.part for c in checks] == ["source arxiv-rss:cs.CL", "source hf-daily"]
    assert [c.status for c in checks] == ["ok", "ok"]
    rss, hf = (next(s for s in server.spans if s.path == path) for path in
               ("/rss/cs.CL", "/api/daily_papers"))  # fmt: skip
    assert hf.received < rss.answered and rss.received < hf.answered, "held at the same time"
    assert server.max_concurrent == 2
    assert hf.answered < rss.answered, "the second source finished first, yet is said second"


def test_a_bad_file_source_is_a_failed_line_and_the_next_sources_are_still_checked(
    tmp_path: Path,
) -> None:
    wrong_suffix = tmp_path / "papers.txt"
    wrong_suffix.write_text("not a paper list", encoding="utf-8")
    missing = tmp_path / "gone.jsonl"
    settings = Settings(
        home=tmp_path / "home",
        sources=SourcesSettings(default=[f"file:{wrong_suffix}", f"file:{missing}", "sample"]),
    )
    checks = said(check_sources(settings, NOW.date()))
    assert [c.status for c in checks] == ["failed", "failed", "ok"]
    assert all("exit 2" in (c.fix or "") for c in checks[:2])
    assert "papers now" in checks[2].detail


# -- the model ----------------------------------------------------------------------------------


def model_settings(tmp_path: Path, srv: FakeOpenAIServer, **llm: Any) -> Any:
    """The fake server as a hosted endpoint (no local-server defaults: built-in prices apply)."""
    values = {"model": "gpt-4o-mini", "base_url": srv.base_url, "timeout_seconds": 2,
              "local_defaults": False, **llm}  # fmt: skip
    return load_settings(None, home=tmp_path / "home", llm=values)


@pytest.mark.parametrize("dialect", ["json_schema", "json_object_schema", "json_object", "tools"])
def test_the_model_answers_a_tiny_structured_call(tmp_path: Path, dialect: str) -> None:
    with FakeOpenAIServer(handler=default_digest_handler) as srv:
        [check] = said(check_model(model_settings(tmp_path, srv, dialect=dialect)))
        [request] = srv.chat_requests
        base_url = srv.base_url
    assert check.status == "ok", check
    assert f"({dialect} at {base_url})" in check.detail
    assert "tokens in" in check.detail and "about $" in check.detail  # gpt-4o-mini has a price
    body = request.body
    assert (
        body["model"] == "gpt-4o-mini"
        and body["max_tokens" if "max_tokens" in body else "max_completion_tokens"] <= 64
    )


def test_the_model_line_names_the_endpoint_without_its_password(tmp_path: Path) -> None:
    password = "Sup3rSecretPassw0rd"
    with FakeOpenAIServer(handler=default_digest_handler) as srv:
        base_url = srv.base_url.replace("http://", f"http://digest:{password}@", 1)
        [check] = said(check_model(model_settings(tmp_path, srv, base_url=base_url)))
    assert check.status == "ok", check
    assert password not in check.detail and "@127.0.0.1:" in check.detail


def test_model_failures_say_what_to_fix(tmp_path: Path) -> None:
    with FakeOpenAIServer(require_api_key="right-key", handler=default_digest_handler) as srv:
        [check] = said(check_model(model_settings(tmp_path, srv, api_key="wrong-key")))
    assert (
        check.status == "failed" and "401" in check.detail and "OPENAI_API_KEY" in (check.fix or "")
    )
    assert "wrong-key" not in check.detail
    with FakeOpenAIServer(handler=lambda body: ModelReply({"status": "fine"})) as srv:
        [check] = said(check_model(model_settings(tmp_path, srv, model="local-model")))
    assert (
        check.status == "failed"
        and "not in the asked shape" in check.detail
        and "dialect" in (check.fix or "")
    )
    with FakeOpenAIServer(handler=lambda body: Fault.http(503)) as srv:
        [check] = said(check_model(model_settings(tmp_path, srv)))
        assert len(srv.chat_requests) == 1, "a check makes one attempt"
    assert check.status == "failed" and "503" in check.detail


def test_fallback_model_checked_too_and_unpriced_models_show_no_cost(tmp_path: Path) -> None:
    with FakeOpenAIServer(handler=default_digest_handler) as srv:
        checks = said(
            check_model(
                model_settings(tmp_path, srv, model="qwen-local", fallback_model="gpt-4.1-nano")
            )
        )
    assert [c.part for c in checks] == ["model qwen-local", "fallback model gpt-4.1-nano"]
    assert "no price known" in checks[0].detail and "about $" in checks[1].detail


def test_no_model_is_the_offline_engine(tmp_path: Path) -> None:
    [check] = said(check_model(load_settings(None, home=tmp_path)))
    assert check.status == "ok" and check.detail.startswith("offline engine")


# -- SMTP ---------------------------------------------------------------------------------------


def test_smtp_login_without_sending(tmp_path: Path) -> None:
    with smtp_server(auth=("me", "pw")) as smtp:
        ok = check_smtp(settings_for(smtp.port, username="me", password="pw"))
        bad = check_smtp(settings_for(smtp.port, username="me", password="wrong-pw"))
        assert smtp.messages == []
    assert ok.status == "ok" and "logged in as me; nothing sent" in ok.detail
    assert bad.status == "failed" and "password" in (bad.fix or "") and "wrong-pw" not in bad.detail
    down = check_smtp(settings_for(free_port(), timeout_seconds=2))
    assert down.status == "failed" and "smtp_host" in (down.fix or "")
    missing = check_smtp(settings_for(free_port()).model_copy(update={"smtp_host": None}))
    assert missing.status == "warning" and "not configured" in missing.detail
    assert "init --force" not in (missing.fix or "")  # it would overwrite the config file


@pytest.mark.skipif(not openssl_available(), reason="needs the openssl command line tool")
def test_smtp_starttls_trusted_or_not(tmp_path: Path) -> None:
    certs = make_certificate(tmp_path)
    with smtp_server(tls=certs, starttls=True, auth=("me", "pw")) as smtp:
        email = settings_for(smtp.port, security="starttls", username="me", password="pw")
        trusted = check_smtp(email, ssl_context=client_context(certs))
        untrusted = check_smtp(email)  # the system trust store does not know the test CA
    assert trusted.status == "ok" and "with TLS" in trusted.detail
    assert untrusted.status == "failed" and "certificate" in (untrusted.fix or "")


def test_send_test_delivers_one_line_and_writes_no_ledger(tmp_path: Path) -> None:
    with smtp_server() as smtp:
        email = settings_for(smtp.port, recipients=["a@example.com", "B <b@example.com>"])
        check = send_test(email)
        received = smtp.messages
    assert check.status == "ok" and "a@example.com" in check.detail
    assert [r.rcpt_tos for r in received] == [["a@example.com"], ["b@example.com"]]
    assert received[0].message["Subject"] == TEST_SUBJECT
    assert len(received[0].message.get_content().strip().splitlines()) == 1
    assert not (tmp_path / "home").exists()
    with smtp_server() as smtp:
        smtp.handler.rcpt_replies["a@example.com"] = ["550 5.1.1 no such user"]
        check = send_test(settings_for(smtp.port, recipients=["a@example.com"]))
    assert check.status == "failed" and "550" in check.detail


# -- schedule -----------------------------------------------------------------------------------


def test_schedule_next_run_or_missing_or_invalid() -> None:
    ok = check_schedule(ScheduleSettings(cron="0 7 * * 1-5", tz="Europe/Berlin"), NOW)
    assert ok.status == "ok" and "next run Tue 2026-12-01 07:00 CET (in 2 h 0 min)" in ok.detail
    missing = check_schedule(ScheduleSettings(), NOW)
    assert missing.status == "warning" and "[schedule] cron" in missing.fix
    bad = check_schedule(ScheduleSettings(cron="61 7 * * *"), NOW)
    assert bad.status == "failed" and "cron" in bad.detail


# -- the command --------------------------------------------------------------------------------


def test_cli_exit_0_when_all_ok_and_2_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGEST_HOME", str(tmp_path / "home"))
    with smtp_server() as smtp:
        (tmp_path / "digest.toml").write_text(
            '[sources]\ndefault = ["sample"]\n'
            f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\nsecurity = "none"\n'
            'sender = "d@example.org"\nrecipients = ["r@example.org"]\n'
            '[schedule]\ncron = "0 7 * * *"\n',
            encoding="utf-8",
        )
        result = CliRunner().invoke(main, ["doctor", "--send-test"])
        assert result.exit_code == 0, result.output
        assert len(smtp.messages) == 1
    lines = [line for line in result.output.splitlines() if line and not line.startswith(" ")]
    assert [line.split()[0] for line in lines] == ["ok"] * 8
    assert "test email: sent to r@example.org" in result.output
    result = CliRunner().invoke(main, ["doctor"])  # the SMTP server is gone now
    assert result.exit_code == 2
    assert "failed  SMTP" in result.output and "fix:" in result.output


def test_schedule_command_reads_the_config_or_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGEST_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(main, ["schedule"])
    assert result.exit_code == 2 and "no schedule: give --cron" in result.output
    (tmp_path / "digest.toml").write_text(
        '[schedule]\ncron = "0 7 * * 1-5"\ntz = "Nowhere/City"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(
        main, ["schedule"]
    )  # the config's cron and tz are used: the tz is bad
    assert result.exit_code == 2 and "unknown time zone 'Nowhere/City'" in result.output


def test_no_sources_configured_is_a_failed_check(tmp_path: Path) -> None:
    checks = said(check_sources(Settings(home=tmp_path), NOW.date()))
    assert [(c.part, c.status) for c in checks] == [("sources", "failed")]
    assert "no sources configured" in checks[0].detail and "[sources] default" in (
        checks[0].fix or ""
    )
