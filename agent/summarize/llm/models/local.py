"""Defaults a single-slot local server can serve (llama.cpp, Ollama, vLLM, LM Studio).

When the base URL is a loopback or private address, every `[llm]` limit the user did not set
takes a local default: one call at a time, a longer per-call timeout and run budget, a smaller
input budget and output cap, and the context window the server reports when it reports one
(vLLM's ``max_model_len``, llama.cpp's ``n_ctx``), else 8,192 tokens. With no `llm.model`
configured, the model is the one the server serves (GET /models, else llama.cpp's /props),
never the hosted default's name, and no built-in price applies. Settings given in the TOML
file, the environment or on the command line always win.

The server is asked once per process: each of GET /models and GET /props is one short request
whose answer is kept (`forget_servers` drops what was kept).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import posixpath
from typing import Any

from agent.config import LLMSettings, Settings
from agent.core import parsing
from agent.core.http import HttpClient, HttpFailure, Limits
from agent.core.urls import host_of

logger = logging.getLogger(__name__)

LOCAL_DEFAULTS: dict[str, Any] = {
    "concurrency": 1,
    "timeout_seconds": 300.0,
    "run_budget_seconds": 1_800.0,
    "input_budget_tokens": 3_000,
    "max_output_tokens": 1_024,
    "context_window": 8_192,
}
PROBE_TIMEOUT_SECONDS = 2.0
PROBE_MAX_BYTES = 256_000
_LOCAL_NAMES = frozenset({"localhost", "host.docker.internal"})
_CONTEXT_KEYS = ("max_model_len", "n_ctx", "context_length", "context_window")
UNNAMED_LOCAL_MODEL = "local"  # sent when the server names no model (llama.cpp takes any name)
_MODEL_FILES = (".gguf", ".ggml", ".bin", ".safetensors", ".llamafile")


def is_local(base_url: str | None) -> bool:
    """True for a loopback, private or link-local host (or ``localhost``)."""
    if not base_url:
        return False
    host = host_of(base_url)
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def local_server(llm: LLMSettings) -> bool:
    """Whether `llm` is served by a local server: `local_defaults`, else a local base URL (a
    LangChain `chat_model` is not)."""
    wanted = llm.local_defaults if llm.local_defaults is not None else is_local(llm.base_url)
    return bool(wanted) and not llm.chat_model


def with_local_defaults(settings: Settings) -> Settings:
    """`settings` with the local defaults filled in for a local base URL (else unchanged)."""
    llm = local_llm(settings.llm)
    return settings if llm is settings.llm else settings.model_copy(update={"llm": llm})


def local_llm(llm: LLMSettings) -> LLMSettings:
    """`[llm]` with the local defaults filled in for a local base URL (else unchanged).

    A local model is not priced from the built-in table of paid models: only prices the user
    configured (`[llm.prices.<model>]`) give it a cost estimate."""
    if not local_server(llm):
        return llm
    unset = {k: v for k, v in LOCAL_DEFAULTS.items() if k not in llm.model_fields_set}
    if "prices" not in llm.model_fields_set:
        unset["prices"] = {}
    if "model" not in llm.model_fields_set:
        unset["model"] = served_name(llm.base_url or "")
    if not unset:
        return llm
    model = unset.get("model", llm.model)
    if "context_window" in unset:
        reported = reported_context(llm.base_url or "", model)
        if reported:
            unset["context_window"] = reported
    window = unset.get("context_window", llm.context_window)
    if "max_output_tokens" in unset:
        unset["max_output_tokens"] = max(256, min(unset["max_output_tokens"], window // 4))
    if "input_budget_tokens" in unset:
        room = window - unset.get("max_output_tokens", llm.max_output_tokens)
        unset["input_budget_tokens"] = max(1_000, min(unset["input_budget_tokens"], room))
    shown = ", ".join(f"{k}={v}" for k, v in unset.items() if k != "prices")
    logger.info("local server at %s: defaults %s", llm.base_url, shown)
    return llm.model_copy(update=unset)


def reported_context(base_url: str, model: str) -> int | None:
    """The context window the server reports for `model` (GET /models, then llama.cpp's
    /props), or None. One short request each per process; a failure is only logged."""
    for url in (_models_url(base_url), _props_url(base_url)):
        data = _get_json(url)
        found = _context_in(data, model) if data is not None else None
        if found:
            logger.info("%s reports a context window of %d tokens", url, found)
            return found
    return None


def served_models(base_url: str) -> list[str] | None:
    """The model ids an OpenAI-compatible server lists at GET /models (one short request),
    or None when it does not answer with such a list."""
    data = _get_json(_models_url(base_url))
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        return None
    ids = [e.get("id") for e in data["data"] if isinstance(e, dict)]
    return list(dict.fromkeys(i.strip() for i in ids if isinstance(i, str) and i.strip()))


@functools.cache
def served_name(base_url: str) -> str:
    """The model a local server serves, for a config that names none: the one GET /models
    lists (the first, with a warning, when it lists several), else llama.cpp's /props
    (``model_alias``, else ``model_path``), else ``local``. Never a hosted model's name."""
    listed = served_models(base_url) or []
    if len(listed) > 1:
        logger.warning(
            "%s lists %d models (%s); using %s: set llm.model to choose",
            _models_url(base_url),
            len(listed),
            ", ".join(listed[:5]),
            listed[0],
        )
    if listed:
        return listed[0]
    props = _get_json(_props_url(base_url))
    if isinstance(props, dict):
        for key in ("model_alias", "model_path"):
            value = props.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    logger.warning("%s names no model; asking for %r", base_url, UNNAMED_LOCAL_MODEL)
    return UNNAMED_LOCAL_MODEL


def model_label(name: str) -> str:
    """A model's name as labels show it: a model file's base name (``model.gguf``) for a path
    such as llama-cpp-python lists (``/home/me/models/model.gguf``); other names as they are
    (``Qwen/Qwen2.5-7B-Instruct`` is a name, not a path)."""
    if name.lower().endswith(_MODEL_FILES) or name.startswith(("/", "./", "../", "~")):
        return posixpath.basename(name.replace("\\", "/").rstrip("/")) or name
    return name


def configured_model(settings: Settings) -> str:
    """The model a run asks, as labels show it (a local server's own model when the config
    names none; see `with_local_defaults`)."""
    return model_label(local_llm(settings.llm).model)


def forget_servers() -> None:
    """Drop what the servers answered (the next question asks them again)."""
    _get_json.cache_clear()
    served_name.cache_clear()


def _models_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/models"


def _props_url(base_url: str) -> str:
    return f"{base_url.rstrip('/').removesuffix('/v1')}/props"


@functools.cache
def _get_json(url: str) -> Any:
    """One short GET through the bounded client (whole-request deadline, byte cap), parsed
    with the bounded JSON reader, asked once per process; None on any failure."""
    limits = Limits(timeout=PROBE_TIMEOUT_SECONDS, max_bytes=PROBE_MAX_BYTES)
    try:
        response = HttpClient().request("GET", url, limits=limits)
        return parsing.loads(response.content, what="the server's answer")
    except (HttpFailure, parsing.JsonError) as exc:
        logger.debug("no answer from %s (%s)", url, type(exc).__name__)
        return None


def _context_in(data: Any, model: str) -> int | None:
    """The first plausible context size in a /models or /props answer (the entry of `model`
    when the list names it, else the only entry)."""
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        entries = [e for e in data["data"] if isinstance(e, dict)]
        chosen = [e for e in entries if e.get("id") == model] or (
            entries if len(entries) == 1 else []
        )
        return next((n for e in chosen if (n := _context_in(e, model))), None)
    if not isinstance(data, dict):
        return None
    for key in _CONTEXT_KEYS:
        value = data.get(key)
        if isinstance(value, int) and 2_048 <= value <= 10_000_000:
            return value
    for nested in ("meta", "default_generation_settings"):
        if isinstance(data.get(nested), dict):
            found = _context_in(data[nested], model)
            if found:
                return found
    return None


__all__ = [
    "LOCAL_DEFAULTS",
    "UNNAMED_LOCAL_MODEL",
    "configured_model",
    "forget_servers",
    "is_local",
    "local_llm",
    "local_server",
    "model_label",
    "reported_context",
    "served_models",
    "served_name",
    "with_local_defaults",
]
