"""The README's local-server recipes, each run as written against the fake emulating that server.

No Ollama or vLLM server can run on the build machine, so each recipe is run against the fake
OpenAI server set up as that server documents its OpenAI-compatible endpoint: what GET /models
and llama.cpp's GET /props report, the `model` name its answers carry, and which structured-
output form it takes. The environment is exactly the recipe's (base URL and model, plus what
the recipe says to add), so the local defaults and the dialect detection are what is tested.
The real llama-cpp-python server is run by `make test-local-llm` (tests/test_local_llm.py).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.small_local import SmallLocalModel
from tests.processes import clean_env, digest_process

DATE = "2026-11-26"


@contextmanager
def serving(**options: Any) -> Iterator[FakeOpenAIServer]:
    """A single-slot server; by default one that takes json_schema and writes clean JSON."""
    options.setdefault("handler", SmallLocalModel(rejects_json_schema=False, raw_newlines=False))
    with FakeOpenAIServer(single_slot=True, **options) as srv:
        yield srv


def run_recipe(
    srv: FakeOpenAIServer, tmp_path: Path, model: str | None, **extra_env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`digest -v daily --engine llm` with only the recipe's variables set (no model: the
    server is asked which one it serves)."""
    named = {"DIGEST_LLM__MODEL": model} if model else {}
    env = clean_env(DIGEST_HOME=str(tmp_path / "home"), DIGEST_LLM__BASE_URL=srv.base_url,
                    COLUMNS="200", **named, **extra_env)  # fmt: skip
    out = tmp_path / "out"
    result = digest_process(
        "daily", "-v", "--engine", "llm", "--source", "sample", "--max-papers", "8",
        "--date", DATE, "--out", str(out), cwd=None, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result, json.loads((out / DATE / "digest.json").read_text(encoding="utf-8"))


def assert_complete_model_digest(data: Mapping[str, Any], srv: FakeOpenAIServer) -> None:
    placed = [p["id"] for t in data["themes"] for p in t["papers"]]
    assert len(placed) == len(set(placed)) == 8
    assert data["degraded"] == [] and data["model"]["offline_blurbs"] == 0
    assert all(p["engine"] == "llm" for t in data["themes"] for p in t["papers"])
    assert srv.max_in_flight == 1  # the local default: one call at a time
    assert {r.outcome for r in srv.chat_requests} == {"reply"}  # nothing wasted
    assert data["model"]["cost_known"] is False  # a local model is not priced


def output_cap(srv: FakeOpenAIServer) -> int:
    """The largest output cap any request asked for (short steps ask for less)."""
    return max(
        r.body.get("max_tokens") or r.body.get("max_completion_tokens") for r in srv.chat_requests
    )


def test_llama_cpp_python_recipe(tmp_path: Path) -> None:
    """llama-cpp-python's server (`--model model.gguf`, no alias): 500 on json_schema, no
    context in /models, the GGUF it lists, the requested name echoed in its answers."""
    with serving(handler=SmallLocalModel(), models=("model.gguf",)) as srv:
        result, data = run_recipe(srv, tmp_path, None)
        kinds = [(r.body.get("response_format") or {}).get("type") for r in srv.chat_requests]
        asked = {r.body["model"] for r in srv.chat_requests}
    assert kinds[0] == "json_schema" and kinds.count("json_schema") == 1  # one probe, no retry
    assert data["model"]["dialect"] == "json_object_schema" and asked == {"model.gguf"}
    assert data["model"] == {**data["model"], "model": "model.gguf", "requested": "model.gguf"}
    assert "context window" not in result.stderr  # none reported: the 8,192 default
    assert output_cap(srv) == 1024


def test_llama_server_recipe_reads_the_runtime_context_from_props(tmp_path: Path) -> None:
    """The C++ `llama-server -m model.gguf -c 4096`: /props has the runtime n_ctx, /models the
    training one (n_ctx_train), which must not be taken for the window."""
    props = {"default_generation_settings": {"n_ctx": 4096}, "total_slots": 1}
    with serving(models=("model.gguf",), props=props,
                 model_fields={"owned_by": "llamacpp", "meta": {"n_ctx_train": 131072}}) as srv:  # fmt: skip
        result, data = run_recipe(srv, tmp_path, "model.gguf")
        assert_complete_model_digest(data, srv)
    assert "/props reports a context window of 4096 tokens" in result.stderr
    assert data["model"]["dialect"] == "json_schema"  # llama-server takes json_schema
    assert output_cap(srv) == 1024  # a quarter of 4,096


@pytest.mark.slow  # the default tier keeps llama.cpp's and vLLM's recipes; CI's slow tier runs this too
def test_ollama_recipe_with_the_context_window_it_runs(tmp_path: Path) -> None:
    """Ollama: json_schema works, /v1/models reports no context, so the recipe sets it."""
    with serving(models=("qwen2.5:7b",), model_fields={"owned_by": "library"}) as srv:
        result, data = run_recipe(srv, tmp_path, "qwen2.5:7b", DIGEST_LLM__CONTEXT_WINDOW="2048")
        assert_complete_model_digest(data, srv)
    assert data["model"]["dialect"] == "json_schema" and data["model"]["model"] == "qwen2.5:7b"
    assert output_cap(srv) == 512  # the window the recipe gave, a quarter of it for output
    assert "reports a context window" not in result.stderr


@pytest.mark.parametrize(
    "max_model_len",
    [pytest.param(16384, marks=pytest.mark.slow), 2048],  # the small window here
)
def test_vllm_recipe_takes_max_model_len_from_models(tmp_path: Path, max_model_len: int) -> None:
    """vLLM (`vllm serve … --max-model-len N`): /v1/models carries max_model_len per model."""
    name = "Qwen/Qwen2.5-7B-Instruct"
    with serving(models=(name,), model_fields={"owned_by": "vllm", "root": name,
                                               "max_model_len": max_model_len}) as srv:  # fmt: skip
        result, data = run_recipe(srv, tmp_path, name)
        assert_complete_model_digest(data, srv)
    assert f"/models reports a context window of {max_model_len} tokens" in result.stderr
    assert data["model"]["dialect"] == "json_schema" and data["model"]["model"] == name
    assert output_cap(srv) == min(1024, max_model_len // 4)
