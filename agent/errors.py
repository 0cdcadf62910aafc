"""Expected failures, typed by who must act. The CLI turns each into one line and an exit code."""

from __future__ import annotations


class DigestError(Exception):
    """Base for expected failures; `exit_code` is what the CLI returns."""

    exit_code = 1


class ConfigError(DigestError):
    """The user must act: bad option, bad config file, unreadable input."""

    exit_code = 2


class SourceError(DigestError):
    """A source could not be read (network, HTTP error, malformed feed)."""

    exit_code = 3


class NoSourceReadError(SourceError):
    """Every source failed; nothing was marked as seen."""

    exit_code = 3


class ModelError(DigestError):
    """The language model failed after retries; carries the evidence."""

    exit_code = 1

    def __init__(self, message: str, *, attempts: int = 0, last_raw: str | None = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_raw = last_raw


class DeliveryError(DigestError):
    """The mail server did not take the message; it was spooled to the outbox."""

    exit_code = 4


class BrokenEnvironment(DigestError):
    """The machine must be fixed: a damaged state file, a full disk."""

    exit_code = 6


class LockedError(DigestError):
    """Another run holds the lock."""

    exit_code = 5
