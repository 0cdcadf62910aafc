"""Delivery against a real SMTP server on 127.0.0.1 (aiosmtpd): headers, TLS, AUTH, retries."""

from __future__ import annotations

import json
import logging
import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.config import EmailSettings
from agent.deliver import DeliveryReport, SpooledDelivery, deliver
from agent.deliver.core import list_unsubscribe_header, recipient_message_id
from agent.deliver.smtp import plaintext_warning
from agent.errors import ConfigError, DeliveryError
from agent.store import Store
from tests.fakes.smtp_server import (
    KEY,
    SENDER,
    Certs,
    Sleeps,
    client_context,
    digest_message,
    free_port,
    make_certificate,
    openssl_available,
    settings_for,
    smtp_server,
)

PASSWORD = "s3cret-Pa55word!"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    if not openssl_available():
        pytest.skip("the openssl command line tool is needed to make a test certificate")
    return make_certificate(tmp_path_factory.mktemp("certs"))


def spool_text(outbox: Path) -> str:
    return "".join(p.read_text(encoding="utf-8", errors="replace") for p in outbox.iterdir())


# plain SMTP: headers and parts ----------------------------------------------------------------


def test_message_has_parts_and_headers(store: Store, outbox: Path) -> None:
    original = digest_message()
    with smtp_server() as server:
        report = deliver(
            original,
            digest_key=KEY,
            settings=settings_for(server.port),
            store=store,
            outbox_dir=outbox,
        )
    assert report == DeliveryReport(sent=["reader@example.com"], skipped=[], spooled=[])
    [got] = server.messages
    assert got.mail_from == "digest@example.org"
    assert got.rcpt_tos == ["reader@example.com"]
    message = got.message
    assert message["From"] == SENDER
    assert message["To"] == "reader@example.com"
    assert message["Subject"] == original["Subject"]
    assert message["Date"] == original["Date"]
    assert message["List-Unsubscribe"] == "<mailto:unsubscribe@example.org?subject=unsubscribe>"
    assert "Bcc" not in message
    expected_id = recipient_message_id(original["Message-ID"], "reader@example.com")
    assert message["Message-ID"] == expected_id
    assert expected_id.startswith("<") and expected_id.endswith("@example.org>")
    body = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert body is not None and "Plain text part." in body.get_content()
    assert html is not None and "<h1>Today at a glance</h1>" in html.get_content()
    assert store.sent_rows(KEY) == [(KEY, "reader@example.com", expected_id)]
    assert not outbox.exists() or not any(outbox.iterdir())
    # the caller's message is left as it was
    assert "To" not in original


def test_rerun_sends_nothing_and_force_sends_again(store: Store, outbox: Path) -> None:
    with smtp_server() as server:
        settings = settings_for(server.port)
        deliver(digest_message(), digest_key=KEY, settings=settings, store=store, outbox_dir=outbox)
        again = deliver(
            digest_message(), digest_key=KEY, settings=settings, store=store, outbox_dir=outbox
        )
        assert again == DeliveryReport(sent=[], skipped=["reader@example.com"], spooled=[])
        assert len(server.messages) == 1
        forced = deliver(
            digest_message(),
            digest_key=KEY,
            settings=settings,
            store=store,
            outbox_dir=outbox,
            force=True,
        )
        assert forced.sent == ["reader@example.com"]
        assert len(server.messages) == 2
        # another digest is another key: it goes out
        deliver(
            digest_message(),
            digest_key="daily-2025-04-01",
            settings=settings,
            store=store,
            outbox_dir=outbox,
        )
        assert len(server.messages) == 3
    assert len(store.sent_rows(KEY)) == 1


def test_one_message_per_recipient(store: Store, outbox: Path) -> None:
    readers = ["a@example.com", "Bee <b@example.com>", "c@example.com", "A@example.com"]
    with smtp_server() as server:
        report = deliver(
            digest_message(),
            digest_key=KEY,
            settings=settings_for(server.port, recipients=readers),
            store=store,
            outbox_dir=outbox,
        )
    assert report.sent == ["a@example.com", "b@example.com", "c@example.com"]  # deduplicated
    assert [m.rcpt_tos for m in server.messages] == [
        ["a@example.com"],
        ["b@example.com"],
        ["c@example.com"],
    ]
    assert [m.message["To"] for m in server.messages] == [
        "a@example.com",
        "Bee <b@example.com>",
        "c@example.com",
    ]
    ids = [m.message["Message-ID"] for m in server.messages]
    assert len(set(ids)) == 3
    assert sorted(row[1] for row in store.sent_rows(KEY)) == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    assert recipient_message_id("<x@y>", "a@example.com") == recipient_message_id(
        "<x@y>", "A@Example.com"
    )


def test_bcc_mode_sends_one_message(store: Store, outbox: Path) -> None:
    readers = ["a@example.com", "b@example.com", "c@example.com"]
    original = digest_message()
    with smtp_server() as server:
        settings = settings_for(server.port, recipients=readers, one_message_per_recipient=False)
        report = deliver(
            original, digest_key=KEY, settings=settings, store=store, outbox_dir=outbox
        )
    assert report.sent == readers
    [got] = server.messages
    assert got.rcpt_tos == readers
    assert got.message["To"] == SENDER
    assert "Bcc" not in got.message
    assert not any(reader in got.raw.decode() for reader in readers)
    # (a msg-id that does not fit on the header line is folded onto the next; that is legal)
    assert got.message["Message-ID"].strip() == original["Message-ID"]
    assert {row[1] for row in store.sent_rows(KEY)} == set(readers)


# STARTTLS, implicit TLS, AUTH ----------------------------------------------------------------


def test_starttls_with_auth(
    store: Store, outbox: Path, certs: Certs, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with smtp_server(tls=certs, starttls=True, auth=("digest", PASSWORD)) as server:
        settings = settings_for(
            server.port,
            security="starttls",
            username="digest",
            password=SecretStr(PASSWORD),
            list_unsubscribe="https://example.org/unsubscribe?u=1",
        )
        report = deliver(
            digest_message(),
            digest_key=KEY,
            settings=settings,
            store=store,
            outbox_dir=outbox,
            ssl_context=client_context(certs),
        )
    assert report.sent == ["reader@example.com"]
    assert server.authenticator is not None and server.authenticator.attempts == ["digest"]
    [got] = server.messages
    assert got.message["List-Unsubscribe"] == "<https://example.org/unsubscribe?u=1>"
    assert PASSWORD not in caplog.text


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_ssl_mode(store: Store, outbox: Path, certs: Certs) -> None:
    with smtp_server(tls=certs, implicit_tls=True, auth=("digest", PASSWORD)) as server:
        settings = settings_for(
            server.port, security="ssl", username="digest", password=SecretStr(PASSWORD)
        )
        report = deliver(
            digest_message(),
            digest_key=KEY,
            settings=settings,
            store=store,
            outbox_dir=outbox,
            ssl_context=client_context(certs),
        )
    assert report.sent == ["reader@example.com"]
    assert len(server.messages) == 1


def test_untrusted_certificate_is_permanent(store: Store, outbox: Path, certs: Certs) -> None:
    sleeps = Sleeps()
    with smtp_server(tls=certs, starttls=True) as server:
        settings = settings_for(server.port, security="starttls")
        with pytest.raises(DeliveryError, match="certificate"):
            deliver(
                digest_message(),
                digest_key=KEY,
                settings=settings,
                store=store,
                outbox_dir=outbox,
                sleep=sleeps,
                ssl_context=ssl.create_default_context(),
            )
    assert sleeps == []
    assert server.messages == []


def test_auth_failure_is_clear_and_never_shows_the_password(
    store: Store, outbox: Path, certs: Certs, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sleeps = Sleeps()
    readers = ["a@example.com", "b@example.com"]
    with smtp_server(tls=certs, starttls=True, auth=("digest", "the-right-one")) as server:
        settings = settings_for(
            server.port,
            security="starttls",
            username="digest",
            password=SecretStr(PASSWORD),
            recipients=readers,
        )
        with pytest.raises(DeliveryError) as caught:
            deliver(
                digest_message(),
                digest_key=KEY,
                settings=settings,
                store=store,
                outbox_dir=outbox,
                sleep=sleeps,
                ssl_context=client_context(certs),
            )
    message = str(caught.value)
    assert message.startswith(f"SMTP 127.0.0.1:{server.port} refused: authentication failed: 535")
    assert "spooled 2 messages" in message and "digest outbox flush" in message
    assert "\n" not in message
    assert caught.value.exit_code == 4
    assert sleeps == []  # permanent: not retried
    # one login (smtplib tries each offered mechanism once); the second reader did not reconnect
    assert server.authenticator is not None
    assert set(server.authenticator.attempts) == {"digest"}
    assert len(server.authenticator.attempts) <= 3
    assert store.sent_rows() == []
    assert PASSWORD not in message
    assert PASSWORD not in caplog.text
    assert PASSWORD not in spool_text(outbox)
    assert PASSWORD not in repr(caught.value.report)


# failures, retries, spooling ------------------------------------------------------------------


def test_server_down_is_retried_then_spooled(store: Store, outbox: Path) -> None:
    sleeps = Sleeps()
    settings = settings_for(free_port(), max_attempts=3)
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
    assert "failed after 3 attempts: connection refused" in str(caught.value)
    assert len(sleeps) == 2
    assert 0 < sleeps[0] < sleeps[1] + 2  # exponential with jitter
    assert store.sent_rows() == []
    assert isinstance(caught.value, SpooledDelivery)  # a DeliveryError that carries its report
    report = caught.value.report
    assert report.sent == [] and len(report.spooled) == 1
    eml = report.spooled[0]
    assert eml.name == f"{KEY}__reader@example.com.eml"
    sidecar = json.loads(eml.with_suffix(".json").read_text())
    assert sidecar["digest_key"] == KEY
    assert sidecar["recipient"] == "reader@example.com"
    assert sidecar["attempts"] == 3
    assert sidecar["last_error"] == "connection refused"
    assert "spooled_at" in sidecar


def test_server_down_spools_every_recipient_without_more_attempts(
    store: Store, outbox: Path
) -> None:
    sleeps = Sleeps()
    readers = ["a@example.com", "b@example.com", "c@example.com"]
    settings = settings_for(free_port(), max_attempts=2, recipients=readers)
    with pytest.raises(DeliveryError, match="spooled 3 messages"):
        deliver(
            digest_message(),
            digest_key=KEY,
            settings=settings,
            store=store,
            outbox_dir=outbox,
            sleep=sleeps,
        )
    assert len(sleeps) == 1  # only the first message was tried against the dead server
    assert len(list(outbox.glob("*.eml"))) == 3


def test_permanent_5xx_is_spooled_without_retry(store: Store, outbox: Path) -> None:
    sleeps = Sleeps()
    with smtp_server() as server:
        server.handler.data_replies.append("550 5.7.1 message rejected as spam")
        with pytest.raises(DeliveryError) as caught:
            deliver(
                digest_message(),
                digest_key=KEY,
                settings=settings_for(server.port),
                store=store,
                outbox_dir=outbox,
                sleep=sleeps,
            )
    assert "refused: 550 5.7.1 message rejected as spam" in str(caught.value)
    assert sleeps == []
    assert server.handler.data_calls == 1
    assert store.sent_rows() == []
    assert len(list(outbox.glob("*.eml"))) == 1


def test_temporary_4xx_then_success_is_retried(store: Store, outbox: Path) -> None:
    sleeps = Sleeps()
    with smtp_server() as server:
        server.handler.data_replies.append("451 4.3.0 try later")
        report = deliver(
            digest_message(),
            digest_key=KEY,
            settings=settings_for(server.port),
            store=store,
            outbox_dir=outbox,
            sleep=sleeps,
        )
    assert report.sent == ["reader@example.com"]
    assert len(sleeps) == 1
    assert server.handler.data_calls == 2
    assert len(server.messages) == 1
    assert len(store.sent_rows(KEY)) == 1
    assert not outbox.exists() or not any(outbox.iterdir())


def test_one_refused_recipient_does_not_stop_the_others(store: Store, outbox: Path) -> None:
    readers = ["a@example.com", "gone@example.com", "c@example.com"]
    with smtp_server() as server:
        server.handler.rcpt_replies["gone@example.com"] = ["550 5.1.1 no such user"]
        with pytest.raises(DeliveryError, match="550 5.1.1 no such user") as caught:
            deliver(
                digest_message(),
                digest_key=KEY,
                settings=settings_for(server.port, recipients=readers),
                store=store,
                outbox_dir=outbox,
                sleep=Sleeps(),
            )
    assert [m.rcpt_tos for m in server.messages] == [["a@example.com"], ["c@example.com"]]
    report = caught.value.report
    assert report.sent == ["a@example.com", "c@example.com"]
    assert [p.name for p in report.spooled] == [f"{KEY}__gone@example.com.eml"]


def test_bcc_partial_refusal_records_the_accepted(store: Store, outbox: Path) -> None:
    readers = ["a@example.com", "busy@example.com", "gone@example.com"]
    sleeps = Sleeps()
    with smtp_server() as server:
        server.handler.rcpt_replies["busy@example.com"] = ["452 4.2.2 mailbox full"]
        server.handler.rcpt_replies["gone@example.com"] = ["550 5.1.1 no such user"]
        settings = settings_for(server.port, recipients=readers, one_message_per_recipient=False)
        with pytest.raises(DeliveryError):
            deliver(
                digest_message(),
                digest_key=KEY,
                settings=settings,
                store=store,
                outbox_dir=outbox,
                sleep=sleeps,
            )
    # first transaction: a accepted, busy 4xx (retried alone), gone 5xx (spooled)
    assert [m.rcpt_tos for m in server.messages] == [["a@example.com"], ["busy@example.com"]]
    assert len(sleeps) == 1
    assert {row[1] for row in store.sent_rows(KEY)} == {"a@example.com", "busy@example.com"}
    assert [p.name for p in outbox.glob("*.eml")] == [f"{KEY}__gone@example.com.eml"]


# configuration --------------------------------------------------------------------------------


def test_unconfigured_email_is_a_config_error(store: Store, outbox: Path) -> None:
    with pytest.raises(ConfigError, match="not configured"):
        deliver(
            digest_message(),
            digest_key=KEY,
            settings=EmailSettings(),
            store=store,
            outbox_dir=outbox,
        )


def test_list_unsubscribe_forms() -> None:
    assert list_unsubscribe_header("mailto:u@example.org") == "<mailto:u@example.org>"
    assert list_unsubscribe_header("<https://example.org/u>") == "<https://example.org/u>"
    assert list_unsubscribe_header("u@example.org, https://example.org/u") == (
        "<mailto:u@example.org>, <https://example.org/u>"
    )
    with pytest.raises(ConfigError):
        list_unsubscribe_header("javascript:alert(1)")


def test_plain_smtp_warns_only_off_loopback() -> None:
    assert plaintext_warning(settings_for(25, smtp_host="localhost")) is None
    assert plaintext_warning(settings_for(25, smtp_host="::1")) is None
    assert plaintext_warning(settings_for(25, smtp_host="127.0.0.1", security="starttls")) is None
    warning = plaintext_warning(settings_for(25, smtp_host="mail.example.com", username="u"))
    assert warning is not None and "without TLS" in warning and "mail.example.com" in warning


def test_crash_between_accept_and_ledger_gives_one_duplicate(
    store: Store, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented worst case: the server took it, the ledger write did not happen."""
    import sqlite3

    def disk_full(*args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    with smtp_server() as server:
        settings = settings_for(server.port)
        with monkeypatch.context() as patch:
            patch.setattr(store, "record_sent", disk_full)
            with pytest.raises(sqlite3.OperationalError):
                deliver(
                    digest_message(),
                    digest_key=KEY,
                    settings=settings,
                    store=store,
                    outbox_dir=outbox,
                )
        assert len(server.messages) == 1
        # no ledger row: it stays in the outbox, where it was put before sending
        assert [p.suffix for p in sorted(outbox.iterdir())] == [".eml", ".json"]
        deliver(digest_message(), digest_key=KEY, settings=settings, store=store, outbox_dir=outbox)
        assert len(server.messages) == 2  # one duplicate, then never again
        assert not any(outbox.iterdir())
        deliver(digest_message(), digest_key=KEY, settings=settings, store=store, outbox_dir=outbox)
        assert len(server.messages) == 2


def test_a_message_is_in_the_outbox_while_it_is_sent(store: Store, outbox: Path) -> None:
    """From before the first send until its ledger row: a run killed while the server takes
    its time leaves the message for the next run's flush (it was in no outbox before)."""
    from agent.deliver.spool import spooled_entries
    from tests.spool_watch import spool_at_each_ledger_write

    seen = spool_at_each_ledger_write(store, outbox)
    with smtp_server() as server:
        settings = settings_for(server.port)
        deliver(digest_message(), digest_key=KEY, settings=settings, store=store, outbox_dir=outbox)
    assert seen == [
        (
            "reader@example.com",
            0,
            "not sent: the run sending it stopped before the mail server accepted it",
        )
    ]
    assert spooled_entries(outbox) == ([], [])
