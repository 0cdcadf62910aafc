"""The outbox: spooled when the server is down, flushed once when it is back, never twice."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.deliver import deliver
from agent.deliver.outbox import flush_outbox
from agent.deliver.spool import spool_message, spool_stem, spooled_entries
from agent.errors import ConfigError, DeliveryError
from agent.store import Store
from tests.fakes.smtp_server import (
    KEY,
    Sleeps,
    digest_message,
    free_port,
    settings_for,
    smtp_server,
)

PASSWORD = "outbox-Pa55word-never-spooled"


def test_server_down_then_flush_sends_once(
    store: Store, outbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="agent")
    port = free_port()
    readers = ["a@example.com", "b@example.com"]
    # username set, security none: AUTH is never reached because nothing listens
    settings = settings_for(
        port, recipients=readers, username="digest", password=SecretStr(PASSWORD)
    )
    sleeps = Sleeps()
    with pytest.raises(DeliveryError) as caught:
        deliver(
            digest_message(),
            digest_key=KEY,
            settings=settings,
            store=store,
            outbox_dir=outbox,
            sleep=sleeps,
        )
    assert caught.value.exit_code == 4
    assert len(sleeps) == settings.max_attempts - 1
    assert store.sent_rows() == []
    entries, broken = spooled_entries(outbox)
    assert broken == []
    assert sorted(e.recipient for e in entries) == readers
    spooled_ids = {e.recipient: e.message_id for e in entries}
    for path in outbox.iterdir():
        assert PASSWORD not in path.read_text(encoding="utf-8", errors="replace")
        assert path.stat().st_mode & 0o077 == 0  # private to the user

    # the server comes back on the same port: the flush sends each spooled message once
    plain = settings_for(port, recipients=readers)
    with smtp_server(port=port) as server:
        report = flush_outbox(outbox, settings=plain, store=store, sleep=Sleeps())
        assert report.exit_code == 0 and report.ok
        assert sorted(report.sent) == [(KEY, "a@example.com"), (KEY, "b@example.com")]
        assert [m.rcpt_tos for m in server.messages] == [["a@example.com"], ["b@example.com"]]
        # the Message-ID is the one the first attempt used, and it went into the ledger
        for got in server.messages:
            rcpt = got.rcpt_tos[0]
            assert got.message["Message-ID"] == spooled_ids[rcpt]
            assert got.message["To"] == rcpt
        assert {(k, r, m) for k, r, m in store.sent_rows(KEY)} == {
            (KEY, r, spooled_ids[r]) for r in readers
        }
        assert list(outbox.iterdir()) == []

        again = flush_outbox(outbox, settings=plain, store=store, sleep=Sleeps())
        assert (again.sent, again.skipped, again.failed, again.exit_code) == ([], [], [], 0)
        assert report.describe() == "Sent 2 spooled messages."
        assert again.describe() == "The outbox is empty."

        rerun = deliver(
            digest_message(), digest_key=KEY, settings=plain, store=store, outbox_dir=outbox
        )
        assert rerun.sent == [] and rerun.skipped == readers
        assert len(server.messages) == 2
    assert PASSWORD not in caplog.text


def test_flush_drops_what_the_ledger_already_has(store: Store, outbox: Path) -> None:
    spool_message(
        outbox,
        data=b"Subject: x\r\n\r\nbody\r\n",
        digest_key=KEY,
        recipient="a@example.com",
        message_id="<m1@x>",
        attempts=1,
        last_error="connection refused",
    )
    store.record_sent(KEY, "a@example.com", "<m1@x>")  # say, a later run delivered it
    # nothing listens on this port: a connection attempt would fail the flush
    report = flush_outbox(outbox, settings=settings_for(free_port()), store=store, sleep=Sleeps())
    assert report.skipped == [(KEY, "a@example.com")]
    assert report.sent == [] and report.exit_code == 0
    assert list(outbox.iterdir()) == []


def test_successful_delivery_removes_a_stale_spool_entry(store: Store, outbox: Path) -> None:
    spool_message(
        outbox,
        data=b"Subject: old\r\n\r\nbody\r\n",
        digest_key=KEY,
        recipient="reader@example.com",
        message_id="<old@x>",
        attempts=4,
        last_error="timed out",
    )
    with smtp_server() as server:
        deliver(
            digest_message(),
            digest_key=KEY,
            settings=settings_for(server.port),
            store=store,
            outbox_dir=outbox,
        )
        assert list(outbox.iterdir()) == []
        report = flush_outbox(outbox, settings=settings_for(server.port), store=store)
        assert report.sent == [] and len(server.messages) == 1


def test_flush_failure_keeps_the_entry_and_counts_attempts(store: Store, outbox: Path) -> None:
    spool_message(
        outbox,
        data=b"Subject: x\r\n\r\nbody\r\n",
        digest_key=KEY,
        recipient="a@example.com",
        message_id="<m1@x>",
        attempts=3,
        last_error="connection refused",
    )
    sleeps = Sleeps()
    settings = settings_for(free_port(), max_attempts=2)
    report = flush_outbox(outbox, settings=settings, store=store, sleep=sleeps)
    assert report.exit_code == 4 and not report.ok
    assert report.errors == ["a@example.com: connection refused"]
    assert (
        report.describe()
        == "Sent 0 spooled messages; 1 still spooled: a@example.com: connection refused."
    )
    assert len(sleeps) == 1
    sidecar = json.loads((outbox / f"{spool_stem(KEY, 'a@example.com')}.json").read_text())
    assert sidecar["attempts"] == 5
    assert store.sent_rows() == []


def test_flush_with_a_permanent_refusal_keeps_the_entry(store: Store, outbox: Path) -> None:
    spool_message(
        outbox,
        data=b"Subject: x\r\n\r\nbody\r\n",
        digest_key=KEY,
        recipient="a@example.com",
        message_id="<m1@x>",
        attempts=1,
        last_error="timed out",
    )
    with smtp_server() as server:
        server.handler.data_replies.append("554 5.6.0 message refused")
        report = flush_outbox(
            outbox, settings=settings_for(server.port), store=store, sleep=Sleeps()
        )
    assert report.exit_code == 4
    assert "554 5.6.0 message refused" in report.errors[0]
    assert len(list(outbox.glob("*.eml"))) == 1


def test_empty_or_missing_outbox_needs_no_server_and_no_config(
    store: Store, tmp_path: Path
) -> None:
    from agent.config import EmailSettings

    report = flush_outbox(tmp_path / "nope", settings=EmailSettings(), store=store)
    assert report.exit_code == 0 and report.sent == []


def test_unreadable_sidecar_is_reported_not_sent(store: Store, outbox: Path) -> None:
    outbox.mkdir(parents=True)
    (outbox / "x__a@example.com.eml").write_bytes(b"Subject: x\r\n\r\nbody\r\n")
    (outbox / "x__a@example.com.json").write_text("{not json")
    report = flush_outbox(outbox, settings=settings_for(free_port()), store=store)
    assert report.exit_code == 4
    assert "unreadable sidecar" in report.errors[0]


def test_flush_without_email_config_is_a_config_error(store: Store, outbox: Path) -> None:
    from agent.config import EmailSettings

    spool_message(
        outbox,
        data=b"Subject: x\r\n\r\nbody\r\n",
        digest_key=KEY,
        recipient="a@example.com",
        message_id="<m1@x>",
        attempts=1,
        last_error="timed out",
    )
    with pytest.raises(ConfigError, match="not configured"):
        flush_outbox(outbox, settings=EmailSettings(), store=store)
