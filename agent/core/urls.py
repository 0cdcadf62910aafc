"""URLs given in settings: checked once, when the settings are read (no line breaks, no
spaces, an http(s) scheme and a host), so a bad one is a config error and not a crash at
delivery time."""

from __future__ import annotations

from urllib.parse import urlsplit


def check_http_url(url: str, what: str = "a URL") -> str:
    """`url`, stripped, when it is an absolute http(s) URL with a host; ValueError saying why
    not otherwise (the URL itself is never in the message: it may hold a token)."""
    url = url.strip()
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise ValueError(f"{what} must not contain spaces, line breaks or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a bad port
    except ValueError:
        raise ValueError(f"{what} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{what} must start with https:// (or http://)")
    if not parts.hostname or port == 0:
        raise ValueError(f"{what} has no host")
    return url


def host_of(url: str | None) -> str:
    """The lower-case host name of `url` ("" when there is none or it does not parse)."""
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


__all__ = ["check_http_url", "host_of"]
