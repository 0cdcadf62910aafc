"""Expected failures, typed by who must act. The CLI turns each into one line and an exit code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.core.one_line import one_line

if TYPE_CHECKING:
    from collections.abc import Sequence

    from agent.models import Usage


class DigestError(Exception):
    """Base for expected failures; `exit_code` is what the CLI returns."""

    exit_code = 1


class ConfigError(DigestError):
    """The user must act: bad option, bad config file, unreadable input."""

    exit_code = 2


class SettingsError(ConfigError):
    """A setting's value or key is wrong; `places` names where each came from ("digest.toml
    line 6", "DIGEST_MAX_PAPERS"), so a fix can point there."""

    def __init__(self, message: str, places: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.places = tuple(places)


class SourceError(DigestError):
    """A source could not be read (network, HTTP error, malformed feed)."""

    exit_code = 3


class NoSourceReadError(SourceError):
    """Every source failed; nothing was marked as seen."""

    exit_code = 3


@dataclass(frozen=True)
class FailedAttempt:
    """One model call whose answer was not used (as instructor's retry exception keeps them)."""

    number: int  # which call to the model for this question: 1 for the first
    error: str  # one line: why the answer was not used
    raw: str | None = None  # the answer as it came, when there was one


class ModelError(DigestError):
    """The language model failed after retries; carries the evidence: `attempts`, the
    `failed` ones (number, error, raw answer), the `last_raw` answer and the `usage` spent
    on them (None when no call was answered)."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        last_raw: str | None = None,
        usage: Usage | None = None,
        failed: Sequence[FailedAttempt] = (),
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_raw = last_raw
        self.usage = usage
        self.failed = tuple(failed)

    def add_earlier(self, usage: Usage, failed: Sequence[FailedAttempt], calls_before: int) -> None:
        """Add what was spent and tried before the call that raised this error (by a loop
        around it); this error's own attempts are renumbered to follow the `calls_before`,
        and after earlier calls an error without attempts of its own counts as the next one."""
        if usage.calls or usage.cache_hits:
            self.usage = usage if self.usage is None else usage + self.usage
        own = self.failed
        if calls_before and not own:
            own = (FailedAttempt(1, one_line(self) or type(self).__name__),)
        shifted = tuple(FailedAttempt(a.number + calls_before, a.error, a.raw) for a in own)
        self.failed = (*failed, *shifted)


class DeliveryError(DigestError):
    """The mail server did not take the message; it was spooled to the outbox."""

    exit_code = 4


class BrokenEnvironment(DigestError):
    """The machine must be fixed: a damaged state file, a full disk."""

    exit_code = 6


class LockedError(DigestError):
    """Another run holds the lock."""

    exit_code = 5
