"""The SMTP transport: one connection (STARTTLS, implicit TLS or plain), login, sending with
tenacity retries on temporary failures, and failures classified as temporary, permanent or
fatal, with every error text one line and free of secrets.

The SMTP password is read with `.get_secret_value()` only in the `login` call.
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from agent.config import EmailSettings
from agent.core.one_line import one_line
from agent.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

log = logging.getLogger(__name__)

BACKOFF_INITIAL_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 60.0
BACKOFF_JITTER_SECONDS = 2.0


class SmtpFailure(Exception):
    """One SMTP failure, classified. `text` is one line, free of secrets."""

    def __init__(self, text: str, *, temporary: bool, fatal: bool, code: int | None = None):
        super().__init__(text)
        self.text = text
        self.temporary = temporary
        self.fatal = fatal  # the connection itself failed: later messages would fail the same way
        self.code = code


@dataclass
class SendResult:
    accepted: list[str] = field(default_factory=list)
    failed: dict[str, SmtpFailure] = field(default_factory=dict)
    attempts: int = 0


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost.localdomain") or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def plaintext_warning(settings: EmailSettings) -> str | None:
    """The warning for `security = "none"` towards a host that is not this machine, else None."""
    if settings.security != "none" or is_loopback(settings.smtp_host or ""):
        return None
    creds = " (the login is sent in the clear too)" if settings.username else ""
    return (
        f"SMTP to {settings.smtp_host}:{settings.smtp_port} without TLS (email.security = "
        f"'none'){creds}; use 'starttls' or 'ssl' for anything but a local relay"
    )


# failures -------------------------------------------------------------------------------------


def _reply(code: int, message: bytes | str) -> str:
    body = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {body}".strip()


def _by_code(code: int) -> bool:
    """True (temporary) for 4xx replies; everything else a server says is permanent."""
    return 400 <= code < 500


def classify(exc: BaseException, *, during_connect: bool) -> SmtpFailure:
    """Turn an smtplib/socket/ssl exception into a temporary or permanent SmtpFailure."""
    fatal = during_connect
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        text = f"authentication failed: {_reply(exc.smtp_code, exc.smtp_error)}"
        return SmtpFailure(text, temporary=_by_code(exc.smtp_code), fatal=True, code=exc.smtp_code)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        text = f"sender {exc.sender} refused: {_reply(exc.smtp_code, exc.smtp_error)}"
        return SmtpFailure(text, temporary=_by_code(exc.smtp_code), fatal=True, code=exc.smtp_code)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = _reply(exc.smtp_code, exc.smtp_error)
        return SmtpFailure(text, temporary=_by_code(exc.smtp_code), fatal=fatal, code=exc.smtp_code)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SmtpFailure(f"server: {exc}", temporary=False, fatal=True)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return SmtpFailure(f"connection closed by the server ({exc})", temporary=True, fatal=fatal)
    if isinstance(exc, ssl.SSLCertVerificationError):
        text = f"TLS certificate not trusted: {exc.verify_message or exc.reason}"
        return SmtpFailure(text, temporary=False, fatal=True)
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return SmtpFailure(f"TLS connection closed: {exc}", temporary=True, fatal=fatal)
    if isinstance(exc, ssl.SSLError):
        text = f"TLS failed: {exc.reason or exc}"
        return SmtpFailure(text, temporary=False, fatal=True)
    if isinstance(exc, socket.gaierror):
        temporary = exc.errno == socket.EAI_AGAIN
        return SmtpFailure(
            f"cannot resolve host: {exc.strerror or exc}", temporary=temporary, fatal=True
        )
    if isinstance(exc, ConnectionRefusedError):
        return SmtpFailure("connection refused", temporary=True, fatal=fatal)
    if isinstance(exc, TimeoutError | socket.timeout):
        return SmtpFailure("timed out", temporary=True, fatal=fatal)
    if isinstance(exc, OSError):
        return SmtpFailure(f"network error: {exc.strerror or exc}", temporary=True, fatal=fatal)
    return SmtpFailure(f"{type(exc).__name__}: {exc}", temporary=False, fatal=fatal)


# transport ------------------------------------------------------------------------------------


class _Watched(smtplib.SMTP):
    """Marks when the final "." of a message went out (the reply to it is the ambiguous window).

    Put first in the bases (``class _SMTP_SSL(_Watched, smtplib.SMTP_SSL)``): its ``send`` wraps
    the connection class's own."""

    message_sent = False

    def send(self, s: ReadableBuffer | str) -> None:
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.message_sent = True


class _SMTP(_Watched, smtplib.SMTP):
    pass


class _SMTP_SSL(_Watched, smtplib.SMTP_SSL):
    pass


class Deadline:
    """A whole-exchange deadline: when it passes, the connection's socket is shut down, so a
    server trickling one byte at a time (each read within the socket timeout) cannot hold us.

    Use `with Deadline(seconds) as deadline:` and `deadline.watch(smtp)` once the connection
    object exists (its `sock` is looked up when the deadline fires)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._target: smtplib.SMTP | None = None
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def watch(self, smtp: smtplib.SMTP) -> None:
        self._target = smtp

    def _fire(self) -> None:
        self.fired = True
        sock = getattr(self._target, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> Self:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


class SmtpSender:
    """One SMTP connection (opened lazily, reopened after a failure) and the retry policy.

    `send` tries one message at most `settings.max_attempts` times. Once the connection failed
    for good, `fatal` holds why and later sends fail at once without touching the network.
    """

    def __init__(
        self,
        settings: EmailSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not settings.smtp_host:
            raise ConfigError("email.smtp_host is not set")
        if settings.username and settings.password is None:
            raise ConfigError(
                "email.username is set but email.password is not (set DIGEST_EMAIL__PASSWORD)"
            )
        self.settings = settings
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self._sleep = sleep
        self._ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None
        self._warned = False
        self.fatal: SmtpFailure | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def scrub(self, text: str) -> str:
        """One line, with the password (should a server ever echo it) replaced."""
        secret = self.settings.password.get_secret_value() if self.settings.password else ""
        if secret:
            text = text.replace(secret, "***")
        return one_line(text, 300)

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _open(self, deadline: Deadline | None = None) -> smtplib.SMTP:
        settings = self.settings
        if not self._warned:
            self._warned = True
            warning = plaintext_warning(settings)
            if warning:
                log.warning("%s", warning)
        timeout = settings.timeout_seconds
        smtp: smtplib.SMTP = (
            _SMTP_SSL(timeout=timeout, context=self._context())
            if settings.security == "ssl"
            else _SMTP(timeout=timeout)
        )
        smtp._host = self.host  # type: ignore[attr-defined]  # STARTTLS checks the name against it
        if deadline is not None:
            deadline.watch(smtp)
        try:
            smtp.connect(self.host, self.port)
            smtp.ehlo()
            if settings.security == "starttls":
                smtp.starttls(context=self._context())
                smtp.ehlo()
        except (smtplib.SMTPException, OSError) as exc:
            _close_quietly(smtp)
            failure = classify(exc, during_connect=True)
            failure.text = self.scrub(failure.text)
            raise failure from None
        if settings.username:
            self._login(smtp)
        log.debug("connected to SMTP %s (%s)", self.where, settings.security)
        return smtp

    def check_login(self) -> None:
        """Connect, TLS and login as a send would, then quit: nothing is sent, and all of it
        within `timeout_seconds` (a banner trickling one byte a second cannot hold the check).
        Raises the classified `SmtpFailure` (one line, no secrets)."""
        with Deadline(self.settings.timeout_seconds) as deadline:
            try:
                self._smtp = self._open(deadline)
            except SmtpFailure as failure:
                if deadline.fired:
                    failure.text = self._timed_out()
                    failure.temporary = True
                raise
        self.close()

    def _timed_out(self) -> str:
        return f"timed out: no complete exchange within {self.settings.timeout_seconds:g} s"

    def _login(self, smtp: smtplib.SMTP) -> None:
        """AUTH, keeping nothing the server says back: a server may echo the exchange (the
        base64 of the credentials), so only the reply code reaches errors, logs and the outbox."""
        assert self.settings.username and self.settings.password is not None
        try:
            smtp.login(self.settings.username, self.settings.password.get_secret_value())
        except (smtplib.SMTPException, OSError) as exc:
            _close_quietly(smtp)
            code = getattr(exc, "smtp_code", None)
            if isinstance(exc, smtplib.SMTPResponseException) and isinstance(code, int):
                temporary = _by_code(code)
                text = f"authentication failed: {code} (check email.username and email.password)"
            else:
                failure = classify(exc, during_connect=True)
                temporary, code = failure.temporary, None
                text = f"authentication failed: {type(exc).__name__}"
            raise SmtpFailure(text, temporary=temporary, fatal=True, code=code) from None

    def _drop(self) -> None:
        if self._smtp is not None:
            _close_quietly(self._smtp)
            self._smtp = None

    def close(self) -> None:
        """QUIT and close, within `timeout_seconds` (a server slow to say goodbye is cut)."""
        if self._smtp is not None:
            with Deadline(self.settings.timeout_seconds) as deadline:
                deadline.watch(self._smtp)
                try:
                    self._smtp.quit()
                except (smtplib.SMTPException, OSError):
                    pass
            self._drop()

    def send(
        self,
        envelope_from: str,
        recipients: list[str],
        data: bytes,
        on_accepted: Callable[[str], None],
    ) -> SendResult:
        """Send `data` to `recipients`; `on_accepted(rcpt)` runs the moment the server took it.

        Returns who was accepted, who failed (with the classified failure) and the attempts
        used. Exceptions raised by `on_accepted` (say, the ledger write) propagate unchanged.
        """
        result = SendResult()
        if self.fatal is not None:
            skipped = SmtpFailure(
                f"not attempted: {self.fatal.text}", temporary=self.fatal.temporary, fatal=True
            )
            result.failed = dict.fromkeys(recipients, skipped)
            return result

        pending = list(recipients)
        options = ["SMTPUTF8"] if not (envelope_from + "".join(pending)).isascii() else []

        maybe_delivered = 0  # attempts that ended between the final "." and its reply

        def attempt_once() -> None:
            nonlocal pending, maybe_delivered
            result.attempts += 1
            with Deadline(self.settings.timeout_seconds) as deadline:
                try:
                    if self._smtp is None:
                        self._smtp = self._open(deadline)
                    else:
                        deadline.watch(self._smtp)
                    smtp = self._smtp
                    if isinstance(smtp, _Watched):
                        smtp.message_sent = False
                    refused = smtp.sendmail(envelope_from, pending, data, mail_options=options)
                except smtplib.SMTPRecipientsRefused as exc:
                    refused = exc.recipients
                except (smtplib.SMTPException, OSError, SmtpFailure) as exc:
                    sent = bool(getattr(self._smtp, "message_sent", False))
                    self._drop()
                    failure = (
                        exc if isinstance(exc, SmtpFailure) else classify(exc, during_connect=False)
                    )
                    if deadline.fired:
                        failure.text = self._timed_out()
                        failure.temporary = True
                    failure.text = self.scrub(failure.text)
                    if sent:
                        maybe_delivered += 1
                        if maybe_delivered > 1:  # at most one possible duplicate
                            failure.temporary = False
                            failure.text = (
                                f"{failure.text}; the server may have stored the message "
                                "before the connection ended, so it is not sent again now"
                            )
                    raise failure from None
            # The server accepted the message for everyone not refused: ledger first, now.
            for rcpt in pending:
                if rcpt not in refused:
                    on_accepted(rcpt)
                    result.accepted.append(rcpt)
            retry_later: list[str] = []
            last: SmtpFailure | None = None
            for rcpt, (code, message) in refused.items():
                text = self.scrub(f"recipient {rcpt} refused: {_reply(code, message)}")
                last = SmtpFailure(text, temporary=_by_code(code), fatal=False, code=code)
                if last.temporary:
                    retry_later.append(rcpt)
                else:
                    result.failed[rcpt] = last
            pending = retry_later
            if pending:
                assert last is not None
                raise SmtpFailure(last.text, temporary=True, fatal=False, code=last.code)

        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=wait_exponential_jitter(
                multiplier=BACKOFF_INITIAL_SECONDS,
                max=BACKOFF_MAX_SECONDS,
                jitter=BACKOFF_JITTER_SECONDS,
            ),
            retry=retry_if_exception(lambda exc: isinstance(exc, SmtpFailure) and exc.temporary),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    attempt_once()
        except SmtpFailure as failure:
            for rcpt in pending:
                result.failed[rcpt] = failure
            if failure.fatal:
                self.fatal = failure
        return result

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "SMTP %s: %s; retry %d of %d in %.1f s",
            self.where,
            exc.text if isinstance(exc, SmtpFailure) else exc,
            state.attempt_number + 1,
            self.settings.max_attempts,
            wait,
        )


def _close_quietly(smtp: smtplib.SMTP) -> None:
    try:
        smtp.close()
    except OSError:
        pass
