"""A reasoning model's thinking, told apart from its answer in the answer's text.

DeepSeek-R1, Qwen3 and their kin think in a ``<think>…</think>`` block before they answer when
the server has no reasoning parser (Ollama's OpenAI endpoint, vLLM or llama.cpp without one);
when the chat template opened the block in the prompt, only its end is in the answer. What is
inside the block is a draft, never the answer.
"""

from __future__ import annotations

OPEN, CLOSE = "<think>", "</think>"
_ANSWER_STARTS = ("{", "[", "```")  # an answer that starts as JSON is no thinking


def after_thinking(text: str) -> str | None:
    """The answer after a leading think block (`text` itself when there is none); None when
    the block is never closed: the model has not answered yet."""
    start = text.lstrip()
    if start.startswith(OPEN):
        end = start.find(CLOSE, len(OPEN))
        return None if end == -1 else start[end + len(CLOSE) :]
    end = text.find(CLOSE)
    if end == -1 or start.startswith(_ANSWER_STARTS):
        return text
    return text[end + len(CLOSE) :]  # the template opened the block: only its end is here


def only_thinking(text: str) -> bool:
    """Whether `text` is a think block that was never closed (the output ran out in it)."""
    return after_thinking(text) is None


__all__ = ["CLOSE", "OPEN", "after_thinking", "only_thinking"]
