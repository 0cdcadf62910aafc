"""Token counting never touches the network; trimming keeps whole sentences."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from agent.summarize.llm.run.tokens import (
    OFFLINE_ENCODING,
    count_message_tokens,
    count_tokens,
    encoding_for,
    estimate_input_tokens,
    trim_to_tokens,
)

TEXT = (
    "We study sparse attention for long documents. Our method halves memory use! "
    "Does it hurt accuracy? Not on the benchmarks we tried. Code is released."
)


@pytest.mark.timeout(10)
def test_counting_makes_no_request_whatever_the_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """gpt-4o's own encoding (o200k_base) is not bundled: tiktoken would download it through
    requests, outside the bounded client. Name look-ups are refused and recorded here, with
    nothing in tiktoken's cache: none is made, and the bundled encoding counts."""
    looked_up: list[str] = []

    def refuse(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        raise socket.gaierror(socket.EAI_NONAME, "refused by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tiktoken-empty"))
    for model in ("gpt-4o", "gpt-4o-mini", "o3-mini", "gpt-4", "llama-3.1-8b-instruct"):
        assert encoding_for(model).name == OFFLINE_ENCODING
        assert count_tokens("hello world", model) == 2
    assert count_tokens(TEXT, "qwen2.5") > 20
    assert count_tokens("", "gpt-4o-mini") == 0
    assert looked_up == []


def test_special_token_text_counts_as_text() -> None:
    assert count_tokens("an abstract with <|endoftext|> inside", "gpt-4o-mini") > 3


def test_message_tokens_and_estimate() -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": TEXT}]
    exact = count_message_tokens(messages, "gpt-4o-mini")
    assert exact == 3 + 4 + count_tokens("Be brief.", "m") + 4 + count_tokens(TEXT, "m")
    assert estimate_input_tokens(messages, "gpt-4o-mini") > exact
    assert estimate_input_tokens(messages, "gpt-4o-mini", extra="{}") > estimate_input_tokens(
        messages, "gpt-4o-mini"
    )


def test_trim_returns_short_text_unchanged() -> None:
    assert trim_to_tokens(TEXT, 1000, "gpt-4o-mini") == TEXT


def test_trim_keeps_whole_sentences() -> None:
    for limit in range(10, count_tokens(TEXT, "m")):
        trimmed = trim_to_tokens(TEXT, limit, "gpt-4o-mini")
        assert count_tokens(trimmed, "gpt-4o-mini") <= limit
        assert TEXT.startswith(trimmed)
        assert trimmed[-1] in ".!?"
    assert trim_to_tokens(TEXT, 12, "m") == "We study sparse attention for long documents."
    assert trim_to_tokens(TEXT, 15, "m") == (
        "We study sparse attention for long documents. Our method halves memory use!"
    )


def test_trim_cuts_a_long_first_sentence_at_a_word() -> None:
    trimmed = trim_to_tokens(TEXT, 5, "gpt-4o-mini")
    assert trimmed.endswith("…")
    assert count_tokens(trimmed, "gpt-4o-mini") <= 5
    body = trimmed[:-1]
    assert TEXT.startswith(body) and TEXT[len(body)] == " "  # cut at a word boundary


def test_trim_edge_cases() -> None:
    assert trim_to_tokens(TEXT, 0, "m") == ""
    assert trim_to_tokens("", 10, "m") == ""
    assert trim_to_tokens("Supercalifragilisticexpialidocious" * 3, 1, "m") in {"…", ""}
    quoted = 'He said "it works." Then he left the room quietly and for a long while.'
    assert trim_to_tokens(quoted, 8, "m") == 'He said "it works."'
