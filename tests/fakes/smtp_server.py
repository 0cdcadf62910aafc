"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), with scripted replies, TLS and AUTH.

    with smtp_server() as server:                       # plain SMTP
    with smtp_server(tls=certs, starttls=True, auth=("u", "p")) as server:
    with smtp_server(tls=certs, implicit_tls=True) as server:   # SMTP over TLS ("ssl")
    server.handler.data_replies.append("451 4.3.0 try later")   # next DATA answers this
    server.messages  -> [Received(mail_from, rcpt_tos, message)]

`make_certificate(dir)` writes a self-signed certificate for localhost / 127.0.0.1 with the
openssl command line tool; `client_context(certs)` is an SSLContext that trusts it.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from agent.config import EmailSettings

HOST = "127.0.0.1"
SENDER = "Paper Digest <digest@example.org>"
KEY = "daily-2025-03-31"


@dataclass(frozen=True)
class Certs:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class RecordingHandler:
    """Stores accepted messages; `data_replies` / `rcpt_replies` queue error replies to give."""

    received: list[Received] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    data_calls: int = 0
    data_delay: float = 0.0  # seconds each DATA waits before its answer (a slow server)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            queue = self.rcpt_replies.get(address.lower())
            if queue:
                return queue.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        with self.lock:
            self.data_calls += 1
            if self.data_replies:
                return self.data_replies.pop(0)
            raw = bytes(envelope.original_content or envelope.content)
            message = message_from_bytes(raw, policy=policy.default)
            assert isinstance(message, EmailMessage)
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message, raw)
            )
        return "250 Message accepted for delivery"


class Authenticator:
    """Accepts exactly one user/password pair; records every attempt's user name."""

    def __init__(self, user: str, password: str) -> None:
        self.user = user.encode()
        self.password = password.encode()
        self.attempts: list[str] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.attempts.append(auth_data.login.decode("utf-8", "replace"))
        ok = auth_data.login == self.user and auth_data.password == self.password
        return AuthResult(success=ok, handled=False)


@dataclass
class FakeSmtp:
    host: str
    port: int
    handler: RecordingHandler
    authenticator: Authenticator | None

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)


def free_port() -> int:
    """A port nothing listens on (bound and released; fine for a test)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def openssl_available() -> bool:
    return shutil.which("openssl") is not None


def make_certificate(directory: Path) -> Certs:
    """A one-day self-signed certificate for localhost and 127.0.0.1 (needs the openssl CLI)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return Certs(cert, key)


def server_context(certs: Certs) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.cert, certs.key)
    return context


def client_context(certs: Certs) -> ssl.SSLContext:
    """What the digest's SMTP client should use to trust the test certificate."""
    return ssl.create_default_context(cafile=str(certs.cert))


@contextmanager
def smtp_server(
    *,
    port: int | None = None,
    tls: Certs | None = None,
    starttls: bool = False,
    implicit_tls: bool = False,
    auth: tuple[str, str] | None = None,
    handler: RecordingHandler | None = None,
) -> Iterator[FakeSmtp]:
    """Run an aiosmtpd server on 127.0.0.1 for the `with` block."""
    handler = handler or RecordingHandler()
    authenticator = Authenticator(*auth) if auth else None
    kwargs: dict[str, Any] = {"hostname": HOST, "port": port or free_port()}
    smtp_kwargs: dict[str, Any] = {"server_hostname": "fake-smtp.test"}
    if starttls:
        assert tls is not None, "STARTTLS needs certificates"
        smtp_kwargs["tls_context"] = server_context(tls)
        smtp_kwargs["require_starttls"] = True
    if implicit_tls:
        assert tls is not None, "implicit TLS needs certificates"
        kwargs["ssl_context"] = server_context(tls)
    if authenticator is not None:
        smtp_kwargs["authenticator"] = authenticator
        smtp_kwargs["auth_required"] = True
        # aiosmtpd only counts STARTTLS as TLS; with implicit TLS the whole session is encrypted.
        smtp_kwargs["auth_require_tls"] = starttls
    controller = Controller(handler, **kwargs, **smtp_kwargs)
    controller.start()
    try:
        yield FakeSmtp(HOST, int(kwargs["port"]), handler, authenticator)
    finally:
        controller.stop()


# what the tests send -----------------------------------------------------------------------


def digest_message() -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "Your research digest: 3 themes, 12 papers"
    message["Date"] = "Mon, 31 Mar 2025 07:00:00 +0200"
    message["Message-ID"] = make_msgid(idstring="daily-2025-03-31", domain="example.org")
    message.set_content("Today at a glance\n\nPlain text part.\n")
    message.add_alternative("<html><body><h1>Today at a glance</h1></body></html>", subtype="html")
    return message


def settings_for(server_port: int, **overrides: object) -> EmailSettings:
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": server_port,
        "security": "none",
        "sender": SENDER,
        "recipients": ["reader@example.com"],
        "timeout_seconds": 5,
        "max_attempts": 3,
        "list_unsubscribe": "mailto:unsubscribe@example.org?subject=unsubscribe",
    }
    values.update(overrides)
    return EmailSettings(**values)


class Sleeps(list[float]):
    """An injected `sleep` that records instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
