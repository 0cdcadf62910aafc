"""How a request asks a reasoning model not to think (`[llm] thinking = "off"`).

Qwen3, DeepSeek-R1 distills and gpt-oss think before they answer, and the thinking counts
against the output limit. There is no one field every server takes to turn it off, so "off"
sends each that a server of this kind reads:

- ``chat_template_kwargs: {"enable_thinking": false}``: llama.cpp's server and vLLM hand it to
  the chat template (Qwen3's and its kin's read it);
- ``reasoning_effort: "none"``: Ollama's OpenAI-compatible endpoint turns thinking off with it
  (its native ``think: false``), and so do OpenAI's reasoning models that take "none".

The OpenAI API itself refuses fields it does not know, so it is sent only the second. A
server that refuses a field with an HTTP 400 naming it (OpenAI's "Unrecognized request
argument supplied: chat_template_kwargs", vLLM's validation error on ``reasoning_effort``) has
that field dropped for the rest of the run (per endpoint and model, as dialects are probed):
the call is asked again without it, and the run says so once. ``auto`` sends nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from agent.core.choices import Thinking

logger = logging.getLogger(__name__)

OFF_FIELDS: dict[str, Any] = {
    "chat_template_kwargs": {"enable_thinking": False},
    "reasoning_effort": "none",
}
HOSTED_FIELDS = frozenset({"reasoning_effort"})  # what the OpenAI API (no base URL) is sent
# (endpoint, model) -> the fields its server refused this run (said once each)
_REFUSED: dict[tuple[str, str], set[str]] = {}


class ThinkingOff:
    """The fields one model's requests carry for `thinking`, less those its server refused."""

    def __init__(self, thinking: Thinking, *, endpoint: str, model: str, hosted: bool) -> None:
        self.thinking = thinking
        self._key = (endpoint, model)
        names = HOSTED_FIELDS if hosted else frozenset(OFF_FIELDS)
        self._names = names if thinking == "off" else frozenset()

    def fields(self) -> dict[str, Any]:
        """What to add to a request body (empty for ``auto``, or once all were refused)."""
        refused = _REFUSED.get(self._key, set())
        return {name: OFF_FIELDS[name] for name in OFF_FIELDS if name in self._names - refused}

    def refused_field(self, said: str, sent: dict[str, Any]) -> str | None:
        """The field of `sent` that a refusal's text (`said`, lower case) names, if any."""
        return next((name for name in sent if name in said), None)

    def drop(self, name: str, what: str) -> None:
        """Send `name` no more to this endpoint and model this run; say so once."""
        refused = _REFUSED.setdefault(self._key, set())
        if name in refused:
            return
        refused.add(name)
        logger.warning(
            "%s: the server refused %s (%s); asking without it for the rest of the run "
            "(llm.thinking = off)",
            self._key[1],
            name,
            what,
        )


__all__ = ["HOSTED_FIELDS", "OFF_FIELDS", "ThinkingOff"]
