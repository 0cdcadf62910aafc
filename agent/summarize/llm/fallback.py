"""Layer 3 of the model path: the fallback chain of one step, as langchain-core Runnables.

A step is ``primary.with_fallbacks([fallback_model, offline], exceptions_to_handle=(ModelError,))``
where each link is a `RunnableLambda` over an async function: the step with that model (which
asks through layer 2, `asking.ask`), or the step's offline counterpart, which cannot fail. The
input is a `StepCall`: the step's payload plus a list every failing link appends its reason
to, so the `Outcome` says which link answered and why the ones before it did not. The engine invokes a chain once per step
(grouping, headline, overview) or once per part of a theme with ``abatch`` (blurbs), so a
failure degrades exactly that part. A model link whose request was over the server's context
window runs its step again, planned for the smaller window the asker learned (`run.window`),
before the chain moves on.

A link that fails with an error no model error is (a bug in one model's path, an answer no
adapter foresaw) is a failure of that link like any other, as `ModelBug`, said in one logged
line (the traceback at debug level): one bad answer degrades one section, never the run. Only
the errors typed for the user (`DigestError`, e.g. a `ConfigError`) pass through.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from langchain_core.runnables import Runnable, RunnableLambda

from agent.core.one_line import one_line
from agent.core.wording import plural
from agent.errors import DigestError, ModelError
from agent.models import DegradedNote, EngineName, Usage
from agent.summarize.llm.chat import ChatModel
from agent.summarize.llm.errors import ContextExceeded, CostCapReached

P = TypeVar("P")
O = TypeVar("O")

logger = logging.getLogger(__name__)

OFFLINE = "offline engine"
MAX_REPLANS = 3  # a link's step run again after the context window shrank (`run.window`)


class ModelBug(ModelError):
    """A link failed with an exception no model error is; the chain moves on as for any."""


@dataclass
class StepCall(Generic[P]):
    """The input of a chain: the payload, and the failures of the links tried so far."""

    payload: P
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome(Generic[O]):
    """What a chain returned, and which link answered."""

    value: O
    engine: EngineName  # "llm" or "offline"
    answered_by: str  # "primary model gpt-4o-mini", "fallback model ...", "offline engine"
    failures: tuple[str, ...] = ()

    @property
    def fell_back(self) -> bool:
        return bool(self.failures)

    def note(self, step: str, scope: str = "digest") -> DegradedNote | None:
        """The DegradedNote for this outcome, when a link before the one that answered failed."""
        if not self.failures:
            return None
        return DegradedNote(
            step=step, scope=scope, reason="; ".join(self.failures), fallback=self.answered_by
        )


def link_name(index: int, model: ChatModel) -> str:
    return f"{'primary' if index == 0 else 'fallback'} model {model.name}"


def failure_reason(link: str, exc: ModelError) -> str:
    """One line: which link failed, why ("cost cap reached" for the cost cap) and what its
    answers cost before it gave up, when any were answered."""
    if isinstance(exc, CostCapReached):
        return f"{link}: cost cap reached" + spent_note(exc.usage)
    text = one_line(exc, 10_000) or type(exc).__name__
    model = link.rsplit(" ", 1)[-1]
    text = text.removeprefix(f"{model}: ")  # the link already names the model
    return f"{link}: {one_line(text, 240)}" + spent_note(exc.usage)


def unexpected_reason(link: str, exc: Exception) -> str:
    """One line for a link that failed with an unexpected exception: its type and message."""
    said = one_line(exc, 160)
    return f"{link}: unexpected error ({type(exc).__name__}{': ' + said if said else ''})"


def spent_note(usage: Usage | None) -> str:
    """' (spent 3 calls, 1,234 tokens, $0.0012)' for answers that were paid for, else ''."""
    if usage is None or not usage.calls:
        return ""
    parts = [plural(usage.calls, "call"), plural(usage.input_tokens + usage.output_tokens, "token")]
    if usage.cost_usd:
        parts.append(f"${usage.cost_usd:.4f}")
    return f" (spent {', '.join(parts)})"


async def _replanned(
    with_model: Callable[[ChatModel, P], Awaitable[O]], model: ChatModel, payload: P, what: str
) -> O:
    """The step with `model`, run again (at most MAX_REPLANS times) when a request was over
    the server's context window and the window the steps plan for shrank: each step plans its
    calls from the window when it runs, so the work is cut into smaller calls."""
    for replans in range(MAX_REPLANS + 1):
        try:
            return await with_model(model, payload)
        except ContextExceeded as exc:
            if not exc.replan or replans == MAX_REPLANS:
                raise
            logger.info("%s: over the context window; planning smaller calls", what)
    raise AssertionError("unreachable")  # pragma: no cover


def build_chain(
    step: str,
    models: Sequence[ChatModel],
    with_model: Callable[[ChatModel, P], Awaitable[O]],
    offline: Callable[[P], O],
) -> Runnable[StepCall[P], Outcome[O]]:
    """``model[0].with_fallbacks([model[1], ..., offline])`` for one step."""

    def model_link(index: int, model: ChatModel) -> Runnable[StepCall[P], Outcome[O]]:
        name = link_name(index, model)

        async def run(call: StepCall[P]) -> Outcome[O]:
            try:
                value = await _replanned(with_model, model, call.payload, f"{step}: {name}")
            except ModelError as exc:
                call.failures.append(failure_reason(name, exc))
                raise
            except DigestError:
                raise
            except Exception as exc:  # a bug in one link degrades its section only
                reason = unexpected_reason(name, exc)
                logger.warning("%s: %s", step, reason)
                logger.debug("%s: %s failed", step, name, exc_info=True)
                call.failures.append(reason)
                raise ModelBug(reason) from exc
            return Outcome(value, "llm", name, tuple(call.failures))

        return RunnableLambda(run, name=f"{step}:{name}")

    async def offline_link(call: StepCall[P]) -> Outcome[O]:
        return Outcome(offline(call.payload), "offline", OFFLINE, tuple(call.failures))

    links = [model_link(i, m) for i, m in enumerate(models)]
    links.append(RunnableLambda(offline_link, name=f"{step}:offline"))
    return links[0].with_fallbacks(links[1:], exceptions_to_handle=(ModelError,))


__all__ = [
    "OFFLINE",
    "ModelBug",
    "Outcome",
    "StepCall",
    "build_chain",
    "failure_reason",
    "link_name",
    "unexpected_reason",
]
