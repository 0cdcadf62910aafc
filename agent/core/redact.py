"""Secrets never reach a log line: a logging filter that masks registered secrets (API keys,
webhook URLs) and anything token-like in the URLs that HTTP libraries log.

httpx logs every request at INFO (``HTTP Request: POST https://hooks.slack.com/services/T/B/
SECRET "HTTP/1.1 200 OK"``) and httpcore at DEBUG; with `-v` those lines would print a webhook's
token. `install()` puts `RedactingFilter` on those loggers (and on the handlers of the root
logger, so every line the CLI prints is covered); `register_secret` adds a value to mask
wherever it appears.
"""

from __future__ import annotations

import logging
import re
import threading

HTTP_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "openai",
    "openai._base_client",
)
MASK = "***"
_URL = re.compile(r"\b(https?://)([^/\s\"'<>]+)([^\s\"'<>]*)", re.IGNORECASE)
# A path segment or query value that looks like a token: long, or letters and digits mixed.
_TOKENISH = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-.~%]{12,}$|^[A-Za-z0-9_\-.~%]{24,}$")
_SECRETS: set[str] = set()
_LOCK = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask `value` (at least 6 characters) in every log line from now on."""
    if value and len(value) >= 6:
        with _LOCK:
            _SECRETS.add(value)


def url_secret(url: str) -> str:
    """The part of a URL that may carry a token: everything after the host (the whole URL
    when it does not look like one)."""
    match = _URL.match(url.strip())
    path = match.group(3).lstrip("/") if match else ""
    return path or url


def _redact_url(match: re.Match[str]) -> str:
    scheme, host, rest = match.groups()
    if "@" in host:  # user:password@host
        host = f"{MASK}@{host.rsplit('@', 1)[1]}"
    path, _, query = rest.partition("?")
    segments = [MASK if _TOKENISH.match(s) else s for s in path.split("/")]
    text = scheme + host + "/".join(segments)
    if query:
        pairs = (p.partition("=") for p in query.split("&"))
        text += "?" + "&".join(f"{k}={MASK}" if sep else k for k, sep, _ in pairs)
    return text


def redact(text: str) -> str:
    """`text` with registered secrets and token-like URL parts masked."""
    with _LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return _URL.sub(_redact_url, text) if "://" in text else text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with `redact` (its arguments merged in first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 (a broken format string: leave the record as it is)
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactingFilter()


def install() -> None:
    """Put the filter on the HTTP libraries' loggers and the root logger's handlers (again
    after logging is configured: each call covers the handlers present then)."""
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


__all__ = ["MASK", "RedactingFilter", "install", "redact", "register_secret", "url_secret"]
