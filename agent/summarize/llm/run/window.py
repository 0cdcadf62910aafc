"""The context window a run plans its calls for, learned from a server that refuses a request.

Calls are sized from `llm.context_window` (`asking.ask.Asker.room`), which is often not the
server's real window (llama.cpp's ``--ctx-size``, Ollama's ``num_ctx``, vLLM's
``max_model_len``). When a server refuses a request as longer than its window
(`errors.ContextExceeded`), `learn` takes what the refusal says: the server's window when its
error body gives it (scaled to this side's token estimates, when it also counts the request),
else a guess, half the refused request; the run's later calls are planned for that, and the
refused work is planned again. The window only shrinks, by at most `MAX_SHRINKS` guesses a
run; then, or for a window under `MIN_TOKENS`, `exhausted` is set: no more calls are planned
smaller (a guess is let go, back to what a server said), and the steps whose calls do not fit
fall back as for any failure. One window per run (`factory.run_window`): the smallest
any server of the run showed, so a plan fits the primary and the fallback alike.
"""

from __future__ import annotations

import logging

from agent.models import DegradedNote

logger = logging.getLogger(__name__)

MAX_SHRINKS = 3  # guesses (halvings) a run may make before it gives up on planning smaller
MIN_TOKENS = 1_024  # a window under this holds no call of a digest (a prompt and one paper)


class ContextWindow:
    """The tokens one call (input and output limit) may take; see the module docstring."""

    def __init__(self, configured: int) -> None:
        self.configured = configured
        self.tokens = configured
        self.reported: int | None = None  # the window a server said, in its own tokens
        self._sure = configured  # that window in this side's tokens (configured: none said)
        self.shrinks = 0
        self.exhausted = False  # no smaller plan is left: calls over the window fall back
        self._said = ""  # the advice last logged

    def __repr__(self) -> str:
        return f"ContextWindow({self.tokens} of {self.configured}, shrinks={self.shrinks})"

    @property
    def learned(self) -> bool:
        """Whether a server showed a window smaller than the configured one."""
        return self.tokens < self.configured

    @property
    def planned(self) -> int:
        """The window calls are planned for: the learned one, unless it is too small for any
        call (the steps fall back then, planned as configured)."""
        return self.tokens if self.tokens >= MIN_TOKENS else self.configured

    @property
    def smaller(self) -> bool:
        """Whether calls are planned for a smaller window than the configured one."""
        return self.planned < self.configured

    def learn(
        self,
        sent: int,
        *,
        input_tokens: int,
        window: int | None = None,
        requested: int | None = None,
    ) -> bool:
        """Take a refused request into account: `sent` tokens by this side's estimate (input
        and output limit), `input_tokens` of them input; `window` and `requested` as the
        server said them. True when the refused work should be planned again (smaller)."""
        if self.exhausted:
            return False
        if window is not None:
            said = window
            if requested and input_tokens and requested > input_tokens:
                # the server counts more tokens than this side estimates (another tokenizer)
                said = window * max(input_tokens, requested // 2) // requested
            if said < self.tokens:
                self.reported, self._sure = window, said
                return self._shrink(said)
        if sent > self.tokens:
            return True  # planned before the window shrank: the plan is made again, smaller
        self.shrinks += 1
        if self.shrinks > MAX_SHRINKS:
            return self._give_up()
        return self._shrink(sent // 2)

    def _shrink(self, tokens: int) -> bool:
        if tokens < MIN_TOKENS:
            return self._give_up()
        self.tokens = tokens
        if not self._said:
            self._say()
        return True

    def _give_up(self) -> bool:
        """No smaller plan: the steps whose calls do not fit fall back, as any failure."""
        self.exhausted = True
        self.tokens = self._sure  # a guess is let go; a window a server said stays
        self._say()
        return False

    def _say(self) -> None:
        """The advice in the log, unless it was said in these words already."""
        advice = self.advice()
        if advice != self._said:
            self._said = advice
            logger.warning("%s", advice)

    def advice(self) -> str:
        """What the run did about the window and how to set it, in one line."""
        if self.reported is not None:
            seen = f"The model server's context window is {self.reported:,} tokens"
        elif self.learned:
            seen = (
                "The model server refused requests as longer than its context window "
                f"(about {self.tokens:,} tokens, by halving)"
            )
        else:
            return (
                "The model server refused requests as longer than its context window even "
                "when they were planned smaller: those steps fell back. Set "
                "llm.context_window to the server's window."
            )
        seen += f", not the {self.configured:,} of llm.context_window"
        if self.tokens < MIN_TOKENS:
            done = "too small for a digest's calls: the model steps fell back"
        else:
            done = "the calls were planned again to fit it"
        fix = (
            f"set llm.context_window = {self.reported} in digest.toml"
            if self.reported is not None
            else "set llm.context_window to the server's window"
        )
        return (
            f"{seen}; {done}. So that the next run plans for it, {fix} (or give the server "
            "a larger one: llama.cpp --ctx-size, Ollama OLLAMA_CONTEXT_LENGTH, vLLM "
            "--max-model-len)."
        )

    def note(self) -> DegradedNote | None:
        """The digest's note of a learned window (None when nothing was learned)."""
        if not self.learned:
            return None
        return DegradedNote(
            step="server",
            reason=self.advice(),
            fallback="the offline engine" if self.tokens < MIN_TOKENS else "smaller calls",
        )


__all__ = ["MAX_SHRINKS", "MIN_TOKENS", "ContextWindow"]
