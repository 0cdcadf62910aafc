"""Errors of the model path; all are `agent.errors.ModelError`, so the fallback chain takes over.

Each carries the evidence (`attempts`, `failed`, `last_raw`, `usage`) and never the API key:
messages are built from status codes, exception class names and scrubbed server text only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from agent.errors import FailedAttempt, ModelError

if TYPE_CHECKING:
    from agent.models import Usage


class ModelUnavailable(ModelError):
    """No answer: the transport gave up after bounded retries, the circuit is open, the run's
    time budget is spent, or the answer was empty twice."""

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


class Rejected(ModelUnavailable):
    """The server answered a status the caller said ends the call at once (a structured-output
    dialect it does not take, a request field it does not know); `what` says which, without
    the model's name; `said` is the server's error text, lower case (which field it names)."""

    def __init__(self, message: str, *, what: str, status_code: int, said: str = "") -> None:
        super().__init__(message, attempts=1, status_code=status_code)
        self.what = what
        self.said = said


class ContextExceeded(ModelUnavailable):
    """The server refused the request as longer than its context window. `window` and
    `requested` are what its error body says of them (its context size and the request's
    tokens, in its own tokens), when it says; `replan` is set by the asker when the calls
    should be planned again for a smaller window (`run.window`)."""

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        status_code: int | None = None,
        window: int | None = None,
        requested: int | None = None,
        replan: bool = False,
    ) -> None:
        super().__init__(message, attempts=attempts, status_code=status_code)
        self.window = window
        self.requested = requested
        self.replan = replan


class AnswerTruncated(ModelError):
    """The answer hit the output limit, even after asking again with a larger one."""


class ModelRefused(ModelError):
    """The model refused (message.refusal set, or a content-filter finish)."""


class InvalidAnswer(ModelError):
    """The answer failed validation after every re-ask and nothing usable could be salvaged."""


class BudgetExceeded(ModelError):
    """The next call would pass one of the run's limits (`run.budget.Limits`); no call was
    made."""


class CostCapReached(BudgetExceeded):
    """The next call would pass the run's cost cap (llm.max_cost_usd); no call was made."""


__all__ = [
    "AnswerTruncated",
    "BudgetExceeded",
    "ContextExceeded",
    "CostCapReached",
    "InvalidAnswer",
    "ModelRefused",
    "ModelUnavailable",
    "Rejected",
]
