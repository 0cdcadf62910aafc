"""Errors of the language-model transport; all are `agent.errors.ModelError`.

Each carries the evidence (`attempts`, `failed`, `last_raw`, `usage`) and never the API key: messages are built
from status codes, exception class names and scrubbed server text only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from agent.errors import FailedAttempt, ModelError

if TYPE_CHECKING:
    from agent.models import Usage


class ModelUnavailable(ModelError):
    """Transport failed after bounded retries, the circuit is open, or the run time budget is spent."""

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        last_raw: str | None = None,
        status_code: int | None = None,
        usage: Usage | None = None,
        failed: Sequence[FailedAttempt] = (),
    ) -> None:
        super().__init__(message, attempts=attempts, last_raw=last_raw, usage=usage, failed=failed)
        self.status_code = status_code


class AnswerTruncated(ModelError):
    """finish_reason=length even after one retry with a larger max_tokens."""


class ModelRefused(ModelError):
    """The model refused (message.refusal set, or a content-filter finish)."""


class CostCapReached(ModelError):
    """The next call would pass settings.llm.max_cost_usd; no call was made."""


__all__ = ["AnswerTruncated", "CostCapReached", "ModelRefused", "ModelUnavailable"]
