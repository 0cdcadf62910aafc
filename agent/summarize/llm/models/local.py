"""Defaults a single-slot local server can serve (llama.cpp, Ollama, vLLM, LM Studio).

When the base URL is a loopback or private address, every `[llm]` limit the user did not set
takes a local default: one call at a time, a longer per-call timeout and run budget, a smaller
input budget and output cap, and the context window the server reports when it reports one
(vLLM's ``max_model_len``, llama.cpp's ``n_ctx``), else 8,192 tokens. Settings given in the
TOML file, the environment or on the command line always win.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
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


def with_local_defaults(settings: Settings) -> Settings:
    """`settings` with the local defaults filled in for a local base URL (else unchanged)."""
    llm = local_llm(settings.llm)
    return settings if llm is settings.llm else settings.model_copy(update={"llm": llm})


def local_llm(llm: LLMSettings) -> LLMSettings:
    """`[llm]` with the local defaults filled in for a local base URL (else unchanged).

    A local model is not priced from the built-in table of paid models: only prices the user
    configured (`[llm.prices.<model>]`) give it a cost estimate."""
    wanted = llm.local_defaults if llm.local_defaults is not None else is_local(llm.base_url)
    if llm.chat_model or not wanted:
        return llm
    unset = {k: v for k, v in LOCAL_DEFAULTS.items() if k not in llm.model_fields_set}
    if "prices" not in llm.model_fields_set:
        unset["prices"] = {}
    if not unset:
        return llm
    if "context_window" in unset:
        reported = reported_context(llm.base_url or "", llm.model)
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


@functools.cache
def reported_context(base_url: str, model: str) -> int | None:
    """The context window the server reports for `model` (GET /models, then llama.cpp's
    /props), or None. One short request each; a failure is only logged."""
    root = base_url.rstrip("/")
    for url in (f"{root}/models", f"{root.removesuffix('/v1')}/props"):
        data = _get_json(url)
        found = _context_in(data, model) if data is not None else None
        if found:
            logger.info("%s reports a context window of %d tokens", url, found)
            return found
    return None


def served_models(base_url: str) -> list[str] | None:
    """The model ids an OpenAI-compatible server lists at GET /models (one short request),
    or None when it does not answer with such a list."""
    data = _get_json(f"{base_url.rstrip('/')}/models")
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        return None
    ids = [e.get("id") for e in data["data"] if isinstance(e, dict)]
    return list(dict.fromkeys(i.strip() for i in ids if isinstance(i, str) and i.strip()))


def _get_json(url: str) -> Any:
    """One short GET through the bounded client (whole-request deadline, byte cap), parsed
    with the bounded JSON reader; None on any failure."""
    limits = Limits(timeout=PROBE_TIMEOUT_SECONDS, max_bytes=PROBE_MAX_BYTES)
    try:
        response = HttpClient().request("GET", url, limits=limits)
        return parsing.loads(response.content, what="the server's answer")
    except (HttpFailure, parsing.JsonError) as exc:
        logger.debug("no context window from %s (%s)", url, type(exc).__name__)
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
    "is_local",
    "local_llm",
    "reported_context",
    "served_models",
    "with_local_defaults",
]
