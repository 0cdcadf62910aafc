"""Token counting works offline; trimming keeps whole sentences."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import tiktoken

from agent.summarize.llm.run import tokens
from agent.summarize.llm.run.tokens import (
    OFFLINE_ENCODING,
    OFFLINE_ENV,
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


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv(OFFLINE_ENV, "1")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tiktoken-empty"))
    tokens.clear_memo()
    yield
    tokens.clear_memo()


@pytest.mark.timeout(10)  # no download attempt: the bundled encoding at once
def test_count_tokens_offline() -> None:
    assert count_tokens("hello world", "gpt-4o-mini") == 2
    assert count_tokens("", "gpt-4o-mini") == 0
    assert count_tokens(TEXT, "llama-3.1-8b-instruct") > 20
    assert encoding_for("qwen2.5").name == OFFLINE_ENCODING


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


def test_model_encoding_when_loadable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(OFFLINE_ENV)
    offline = tiktoken.get_encoding(OFFLINE_ENCODING)
    loaded: list[str] = []

    def fake_get_encoding(name: str) -> tiktoken.Encoding:
        loaded.append(name)
        if name == "o200k_base":
            return offline  # stands in for a cached o200k_base
        raise AssertionError(name)

    monkeypatch.setattr(tiktoken, "get_encoding", fake_get_encoding)
    assert encoding_for("gpt-4o-mini") is offline
    assert encoding_for("gpt-4o") is offline
    assert loaded == ["o200k_base"]  # memoised per encoding


@pytest.mark.timeout(4)  # the hanging load would take 5 s
def test_unloadable_encoding_falls_back_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(OFFLINE_ENV)
    release = threading.Event()
    real = tiktoken.get_encoding

    def hanging(name: str) -> tiktoken.Encoding:
        if name == OFFLINE_ENCODING:
            return real(name)
        release.wait(5)  # a download that hangs
        raise OSError("network unreachable")

    monkeypatch.setattr(tiktoken, "get_encoding", hanging)
    monkeypatch.setattr(tokens, "LOAD_TIMEOUT_SECONDS", 0.2)
    try:
        assert encoding_for("gpt-4o-mini").name == OFFLINE_ENCODING
        assert count_tokens("hello world", "gpt-4o") == 2  # same encoding: not tried again
    finally:
        release.set()


def test_failing_encoding_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(OFFLINE_ENV)
    real = tiktoken.get_encoding

    def failing(name: str) -> tiktoken.Encoding:
        if name == OFFLINE_ENCODING:
            return real(name)
        raise ConnectionError("offline")

    monkeypatch.setattr(tiktoken, "get_encoding", failing)
    assert encoding_for("gpt-4o-mini").name == OFFLINE_ENCODING
    assert encoding_for("some-local-model").name == OFFLINE_ENCODING


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
