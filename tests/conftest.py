"""Shared test settings: no test may reach the network or a real model by accident."""

from __future__ import annotations

import atexit
import ipaddress
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.store import Store
from agent.summarize.llm.models.local import forget_servers
from tests.fakes.openai_server import FakeOpenAIServer

EVAL_CASES = Path(__file__).resolve().parents[1] / "evals" / "cases"

# Compiled templates (agent.render.template_cache) go to this test run's own cache directory,
# never the developer's ~/.cache; child processes inherit it.
_TEST_CACHE = tempfile.mkdtemp(prefix="digest-tests-cache-")
os.environ["XDG_CACHE_HOME"] = _TEST_CACHE
atexit.register(shutil.rmtree, _TEST_CACHE, ignore_errors=True)
# Never let a developer's real key, endpoint, mail server or settings leak into a test run.
for name in list(os.environ):
    if name in ("OPENAI_API_KEY", "OPENAI_BASE_URL") or name.startswith("DIGEST_"):
        os.environ.pop(name, None)


class NetworkRefused(RuntimeError):
    """A test tried to reach something that is not this machine."""


def _is_loopback(address: Any) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX
        return True
    host = str(address[0]).split("%", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guard(method: Any) -> Any:
    def guarded(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise NetworkRefused(
                f"tests never touch the network: refused to connect to {address!r}"
            )
        return method(self, address)

    return guarded


# Enforced, not hoped for: any connection to a non-loopback address fails the test at once.
socket.socket.connect = _guard(socket.socket.connect)  # type: ignore[method-assign]
socket.socket.connect_ex = _guard(socket.socket.connect_ex)  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _fresh_servers() -> Iterator[None]:
    """What a local server answered at GET /models and /props is kept per process (one run
    asks once); a test's server on a reused port must be asked anew."""
    forget_servers()
    yield
    forget_servers()


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    """Two small eval cases of the checkout (single-paper, injection), in a directory of the
    test's own."""
    directory = tmp_path / "cases"
    directory.mkdir()
    for name in ("single-paper.yaml", "injection.yaml"):
        shutil.copy(EVAL_CASES / name, directory / name)
    return directory


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real SQLite store in the test's DIGEST_HOME (tmp_path / "home")."""
    with Store.open(tmp_path / "home") as opened:
        yield opened


@pytest.fixture
def srv() -> Iterator[FakeOpenAIServer]:
    """The fake OpenAI-compatible server with its default answers (a test file that needs other
    answers defines its own `srv`)."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "home" / "outbox"
