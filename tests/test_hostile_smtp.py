"""Hostile mail servers: a banner trickled one byte at a time, AUTH replies that echo the
credentials, a server that stores a message and hangs up before its reply, a recipient refused
for good while the others receive the digest. Real sockets on loopback; small timeouts."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.deliver import deliver
from agent.errors import DeliveryError
from agent.store import Store
from tests.fakes.hostile_smtp import HostileSmtp
from tests.fakes.smtp_server import (
    KEY,
    RecordingHandler,
    Sleeps,
    digest_message,
    settings_for,
    smtp_server,
)
from tests.test_pipeline_delivery import digest, email_env, write_feed

USER, PASSWORD = "digest-user", "Tr0ub4dor&3-very-secret"


def send(port: int, tmp_path: Path, **overrides: object) -> tuple[DeliveryError, Sleeps]:
    sleeps = Sleeps()
    with Store.open(tmp_path / "home") as store, pytest.raises(DeliveryError) as caught:
        deliver(
            digest_message(),
            digest_key=KEY,
            settings=settings_for(port, **overrides),
            store=store,
            outbox_dir=tmp_path / "home" / "outbox",
            sleep=sleeps,
        )
    return caught.value, sleeps


@pytest.mark.timeout(20)
def test_a_trickled_banner_times_out_per_attempt_and_is_spooled(tmp_path: Path) -> None:
    with HostileSmtp("trickle_banner", pause=0.1) as server:
        error, _ = send(server.port, tmp_path, timeout_seconds=1, max_attempts=2)
    assert "timed out: no complete exchange within 1 s" in str(error)
    assert error.exit_code == 4
    assert len(list((tmp_path / "home" / "outbox").glob("*.eml"))) == 1
    assert server.connections == 2


@pytest.mark.timeout(20)
def test_echoed_auth_never_reaches_logs_outbox_or_state(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    with HostileSmtp("auth_echo") as server:
        error, _ = send(server.port, tmp_path, username=USER, password=SecretStr(PASSWORD))
    assert "authentication failed: 535" in str(error)
    secrets = [
        base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode(),
        base64.b64encode(PASSWORD.encode()).decode(),
        PASSWORD,
    ]
    captured = capsys.readouterr()
    places = {"error": str(error), "logs": caplog.text, "stderr": captured.err + captured.out}
    home = tmp_path / "home"
    for path in home.rglob("*"):
        if path.is_file():
            places[str(path)] = path.read_bytes().decode("latin-1")
    assert any(p.endswith(".json") for p in places), "the outbox sidecar was checked"
    for where, text in places.items():
        for secret in secrets:
            assert secret not in text, f"a credential reached {where}"


@pytest.mark.timeout(20)
def test_store_then_drop_is_retried_at_most_once(tmp_path: Path) -> None:
    with HostileSmtp("store_then_drop") as server:
        error, sleeps = send(server.port, tmp_path, max_attempts=4)
    assert len(server.messages) == 2  # the first try and one retry: at most one duplicate
    assert "may have stored the message" in str(error)
    assert len(sleeps) == 1


@pytest.mark.timeout(60)
def test_a_refused_recipient_does_not_make_the_others_get_the_papers_again(tmp_path: Path) -> None:
    feed = write_feed(tmp_path)
    handler = RecordingHandler(rcpt_replies={"gone@example.com": ["550 5.1.1 no such user"] * 5})
    with smtp_server(handler=handler) as server:
        env = email_env(tmp_path, server.port)
        env["DIGEST_EMAIL__RECIPIENTS"] = '["reader@example.com", "gone@example.com"]'
        day1 = ("daily", "--source", f"file:{feed}", "--engine", "offline", "--date", "2026-11-23")
        first = digest(tmp_path, env, *day1)
        assert first.returncode == 4, first.stderr
        assert "550" in first.stderr and "Traceback" not in first.stderr
        assert [m.rcpt_tos for m in server.messages] == [["reader@example.com"]]
        with Store.open(tmp_path / "home") as store:  # the papers are marked as seen
            seen = store.seen_on_other_dates(
                [f"2611.1000{i}" for i in range(4)], dt.date(2026, 11, 24)
            )
        assert len(seen) == 4

        listed = digest(tmp_path, env, "outbox", "list")
        assert "gone@example.com" in listed.stdout and "550" in listed.stdout

        day2 = ("daily", "--source", f"file:{feed}", "--engine", "offline", "--date", "2026-11-24")
        second = digest(tmp_path, env, *day2)
        assert second.returncode == 0, second.stderr
        assert "Nothing new today" in second.stdout
        assert len(server.messages) == 1  # reader@ did not get the same papers again
