"""SMTP: connect, TLS and login with nothing sent; `--send-test` sends one line, no ledger."""

from __future__ import annotations

import datetime as dt
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from agent.config import EmailSettings
from agent.deliver.core import envelope_address, message_bytes
from agent.deliver.smtp import SmtpFailure, SmtpSender, plaintext_warning
from agent.doctor.checks import Check
from agent.errors import ConfigError

TEST_SUBJECT = "paper-digest: test message"


def _sender(settings: EmailSettings, ssl_context: ssl.SSLContext | None) -> SmtpSender:
    # one attempt: a check reports what happens now, it does not wait for a server to recover
    return SmtpSender(settings.model_copy(update={"max_attempts": 1}), ssl_context=ssl_context)


def _fix(failure: SmtpFailure) -> str:
    text = failure.text.lower()
    if "auth" in text or failure.code in (530, 534, 535):
        return "check email.username and DIGEST_EMAIL__PASSWORD (an app password, for Gmail)"
    if "certificate" in text or "ssl" in text or "tls" in text:
        return "check email.security (starttls on 587, ssl on 465) and the server's certificate"
    return "check email.smtp_host, email.smtp_port and the network"


def check_smtp(settings: EmailSettings, *, ssl_context: ssl.SSLContext | None = None) -> Check:
    if not settings.configured:
        return Check.warning(
            "SMTP",
            "email is not configured: digests are written to files only",
            "add [email] smtp_host, sender and recipients to the config (docs/configuration.md)",
        )
    where = f"{settings.smtp_host}:{settings.smtp_port} ({settings.security})"
    try:
        _sender(settings, ssl_context).check_login()
    except ConfigError as exc:
        return Check.failed("SMTP", str(exc), "set the missing setting")
    except SmtpFailure as failure:
        return Check.failed("SMTP", f"{where}: {failure.text}", _fix(failure))
    login = f", logged in as {settings.username}" if settings.username else ", no login"
    warning = plaintext_warning(settings)
    if warning:
        return Check.warning(
            "SMTP", f"{where}: connected{login}; {warning}", "use security = starttls or ssl"
        )
    tls = " with TLS" if settings.security != "none" else ""
    return Check.ok("SMTP", f"{where}: connected{tls}{login}; nothing sent")


def one_line_message(settings: EmailSettings, recipient: str) -> EmailMessage:
    assert settings.sender is not None
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = recipient
    message["Subject"] = TEST_SUBJECT
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(
        domain=envelope_address(settings.sender).rpartition("@")[2] or None
    )
    message.set_content(
        f"This is a test from `digest doctor --send-test` at {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}: "
        "your digest will arrive this way.\n"
    )
    return message


def send_test(settings: EmailSettings, *, ssl_context: ssl.SSLContext | None = None) -> Check:
    """One short message to each recipient through the SMTP transport; the sent ledger is not
    touched (this is not a digest)."""
    if not settings.configured:
        return Check.failed("test email", "email is not configured", "add [email] first")
    assert settings.sender is not None
    sender = _sender(settings, ssl_context)
    accepted: list[str] = []
    failed: list[str] = []
    try:
        for recipient in settings.recipients:
            data = message_bytes(one_line_message(settings, recipient))
            result = sender.send(
                envelope_address(settings.sender),
                [envelope_address(recipient)],
                data,
                accepted.append,
            )
            failed += [f"{rcpt}: {failure.text}" for rcpt, failure in result.failed.items()]
    except ConfigError as exc:
        return Check.failed("test email", str(exc), "set the missing setting")
    finally:
        sender.close()
    if failed:
        return Check.failed("test email", "; ".join(failed), "see the SMTP line above")
    return Check.ok(
        "test email", f"sent to {', '.join(accepted)}; check the inbox (and the spam folder)"
    )


__all__ = ["TEST_SUBJECT", "check_smtp", "one_line_message", "send_test"]
