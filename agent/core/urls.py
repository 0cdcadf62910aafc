"""URL checks that need no network: a URL given in settings is checked once, when the settings
are read (no line breaks, no spaces, an http(s) scheme and a host), so a bad one is a config
error and not a crash at delivery time; the archive's own links are checked the same way."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


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


def http_url(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL with a host and no spaces or control
    characters, else None (never ``javascript:``)."""
    if not url:
        return None
    try:
        return check_http_url(url)
    except ValueError:
        return None


def http_or_relative(href: str | None) -> str | None:
    """An http(s) URL (as `http_url`), or a relative path without a scheme; else None."""
    if not href:
        return None
    href = href.strip()
    if any(ch.isspace() or ord(ch) < 0x20 for ch in href) or href.startswith("//"):
        return None
    try:
        parts = urlsplit(href)
    except ValueError:
        return None
    return http_url(href) if parts.scheme else href


def host_of(url: str | None) -> str:
    """The lower-case host name of `url` ("" when there is none or it does not parse)."""
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def without_secrets(url: str) -> str:
    """`url` without what may be a secret: a user:password@, the query and the fragment
    ('https://u:p@host/v1?key=k' -> 'https://host/v1'); stripped as given when it does not parse."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, "", ""))


__all__ = ["check_http_url", "host_of", "http_or_relative", "http_url", "without_secrets"]
