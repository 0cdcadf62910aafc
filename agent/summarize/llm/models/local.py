"""Defaults a single-slot local server can serve (llama.cpp, Ollama, vLLM, LM Studio).

When the base URL is a loopback or private address, every `[llm]` limit the user did not set
takes a local default: one call at a time, a longer per-call timeout and run budget, a smaller
input budget and output cap, and the context window the server reports when it reports one
(vLLM's ``max_model_len``, llama.cpp's ``n_ctx``), else 8,192 tokens. With no `llm.model`
configured, the model is the one the server serves (GET /models, else llama.cpp's /props),
never the hosted default's name, and no built-in price applies. Settings given in the TOML
file, the environment or on the command line always win.

The server is asked once per process, by the command before it builds anything
(`await probe_local(settings)`): each of GET /models and GET /props is one short request on the
async client, whose answer is kept (`forget_servers` drops what was kept). A server still
loading its model answers 503 (llama.cpp): the probe says so once and asks again, every few
seconds, for up to `llm.timeout_seconds`. Everything else here is sync and reads only what was
kept: `local_llm` never touches the network.

With several models listed (Ollama and LM Studio list every one installed), the first chat
model is taken: embedding and reranking models (``nomic-embed-text``, ``bge-m3``, ``e5-*``,
``*rerank*``) are passed over; a list of nothing else is a `ConfigError`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import posixpath
import time
from collections.abc import Callable
from typing import Any

from agent.config import LLMSettings, Settings
from agent.core import parsing
from agent.core.http import HttpClient, HttpFailure, Limits
from agent.core.one_line import one_line
from agent.core.retry_policy import loading_poll
from agent.core.safe_text import strip_hidden
from agent.core.urls import host_of
from agent.errors import ConfigError

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
MAX_NAME_CHARS = 1_000  # a model file's path is the longest name a server reports
UNNAMED_LOCAL_MODEL = "local"  # sent when the server names no model (llama.cpp takes any name)
_MODEL_FILES = (".gguf", ".ggml", ".bin", ".safetensors", ".llamafile")
# A listed model whose name holds one of these is not a chat model (Ollama, LM Studio list them
# all): nomic-embed-text, mxbai-embed-large, bge-m3, multilingual-e5-large, gte-qwen2,
# all-minilm, jina-reranker.
_EMBEDDING_PARTS = ("embed", "rerank")
_EMBEDDING_WORDS = frozenset({"bge", "e5", "gte", "minilm"})


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


async def probe_local(settings: Settings) -> Settings:
    """`settings` with the local defaults filled in from what the server says (GET /models,
    else /props; each asked once per process), for a local base URL; else unchanged. The
    command awaits this before it plans: the sync code after it reads the kept answers."""
    llm = settings.llm
    if not local_server(llm):
        return settings
    configured = "timeout_seconds" in llm.model_fields_set  # else the local default applies
    loading = _Loading(llm.timeout_seconds if configured else LOCAL_DEFAULTS["timeout_seconds"])
    while missing := _missing(lambda get: _fill(llm, get)):
        for url in missing:
            _ANSWERS[url] = await _get_json(url, loading)
    if "model" not in llm.model_fields_set:
        _no_chat_model(llm.base_url or "")
    filled, window_from = _local_llm(llm)
    _say_once(llm, filled, window_from)
    return settings if filled is llm else settings.model_copy(update={"llm": filled})


class NoChatModel(ConfigError):
    """The server lists models, but only embedding models, and the config names none: what
    was found (`detail`) and what to do (`fix`), said as one line."""

    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(f"{detail}: {fix}")
        self.detail = detail
        self.fix = fix


def _no_chat_model(base_url: str) -> None:
    """`NoChatModel` when the server lists models, every one of them an embedding model."""
    listed = served_models_known(base_url) or []
    if listed and all(map(is_embedding_model, listed)):
        raise NoChatModel(
            f"{_models_url(base_url)} lists only embedding models ({', '.join(listed[:5])}), "
            "which cannot write a digest",
            "set llm.model to a chat model the server has (for Ollama: ollama pull qwen2.5:7b)",
        )


def is_embedding_model(name: str) -> bool:
    """Whether a listed model's name is an embedding or reranking model's (never a chat one)."""
    base = name.lower().rsplit("/", 1)[-1]
    words = "".join(c if c.isalnum() else " " for c in base).split()
    return any(part in base for part in _EMBEDDING_PARTS) or not _EMBEDDING_WORDS.isdisjoint(words)


def _say_once(given: LLMSettings, filled: LLMSettings, window_from: str | None) -> None:
    """What the server's answers decided (`window_from`: the URL that reported the context
    window `filled` took), said once per process and server."""
    base_url = given.base_url or ""
    if base_url in _WARNED:
        return
    _WARNED.add(base_url)
    if "model" not in given.model_fields_set:
        listed = served_models_known(base_url) or []
        if len(listed) > 1:
            logger.warning(
                "%s lists %d models (%s); using %s: set llm.model to choose",
                _models_url(base_url),
                len(listed),
                ", ".join(listed[:5]),
                filled.model,
            )
        elif not listed and filled.model == UNNAMED_LOCAL_MODEL:
            logger.warning("%s names no model; asking for %r", base_url, UNNAMED_LOCAL_MODEL)
    if window_from is not None:
        logger.info("%s reports a context window of %d tokens", window_from, filled.context_window)


def with_local_defaults(settings: Settings) -> Settings:
    """`settings` with the local defaults filled in for a local base URL (else unchanged),
    from the server's answers kept by `probe_local` (no request here)."""
    llm = local_llm(settings.llm)
    return settings if llm is settings.llm else settings.model_copy(update={"llm": llm})


def local_llm(llm: LLMSettings) -> LLMSettings:
    """`[llm]` with the local defaults filled in for a local base URL (else unchanged), from
    the server's answers `probe_local` kept (none kept: the name ``local``, the 8,192 window).

    A local model is not priced from the built-in table of paid models: only prices the user
    configured (`[llm.prices.<model>]`) give it a cost estimate."""
    return _local_llm(llm)[0] if local_server(llm) else llm


def _local_llm(llm: LLMSettings) -> tuple[LLMSettings, str | None]:
    """`local_llm` for a local server, and the URL whose answer gave the context window (None:
    configured, or no answer reported one)."""
    filled, window_from = _fill(llm, _ANSWERS.get)
    if filled is not llm:
        defaulted = filled.model_dump(include={*LOCAL_DEFAULTS, "model"} - llm.model_fields_set)
        shown = ", ".join(f"{k}={v}" for k, v in defaulted.items())
        logger.info("local server at %s: defaults %s", llm.base_url, shown)
    return filled, window_from


Answers = Callable[[str], Any]  # a URL's kept answer (None: none, or not asked)


def _fill(llm: LLMSettings, get: Answers) -> tuple[LLMSettings, str | None]:
    """`llm` with every unset local default filled in, reading the server's answers by `get`,
    and the URL whose answer gave the context window (None: set, or none reported one)."""
    base_url = llm.base_url or ""
    unset = {k: v for k, v in LOCAL_DEFAULTS.items() if k not in llm.model_fields_set}
    if "prices" not in llm.model_fields_set:
        unset["prices"] = {}
    if "model" not in llm.model_fields_set:
        unset["model"] = _served_name(base_url, get)
    if not unset:
        return llm, None
    model = unset.get("model", llm.model)
    window_from = None
    if "context_window" in unset and (reported := _reported_context(base_url, model, get)):
        window_from, unset["context_window"] = reported
    window = unset.get("context_window", llm.context_window)
    if "max_output_tokens" in unset:
        unset["max_output_tokens"] = max(256, min(unset["max_output_tokens"], window // 4))
    if "input_budget_tokens" in unset:
        room = window - unset.get("max_output_tokens", llm.max_output_tokens)
        unset["input_budget_tokens"] = max(1_000, min(unset["input_budget_tokens"], room))
    return llm.model_copy(update=unset), window_from


class _Unasked(Exception):
    def __init__(self, url: str) -> None:
        self.url = url


def _missing(fill: Callable[[Answers], object]) -> list[str]:
    """The first URL `fill` reads that was not asked yet (empty: all it reads are known). One
    at a time, because what one answer says decides whether the next is read: a /models that
    names the model and its window means /props is never asked."""

    def get(url: str) -> Any:
        if url not in _ANSWERS:
            raise _Unasked(url)
        return _ANSWERS[url]

    try:
        fill(get)
    except _Unasked as unasked:
        return [unasked.url]
    return []


def _reported_context(base_url: str, model: str, get: Answers) -> tuple[str, int] | None:
    """Where and what context window the server reports for `model` (GET /models, then
    llama.cpp's /props), or None."""
    for url in (_models_url(base_url), _props_url(base_url)):
        data = get(url)
        found = _context_in(data, model) if data is not None else None
        if found:
            return url, found
    return None


async def served_models(base_url: str) -> list[str] | None:
    """The model ids an OpenAI-compatible server lists at GET /models (one short request,
    asked once per process), or None when it does not answer with such a list."""
    url = _models_url(base_url)
    if url not in _ANSWERS:
        _ANSWERS[url] = await _get_json(url)
    return served_models_known(base_url)


def served_models_known(base_url: str) -> list[str] | None:
    """What `served_models` found for `base_url` (None: no list, or not asked yet)."""
    return _listed(_ANSWERS.get(_models_url(base_url)))


def _listed(data: Any) -> list[str] | None:
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        return None
    ids = [_name(e.get("id")) for e in data["data"] if isinstance(e, dict)]
    return list(dict.fromkeys(i for i in ids if i))


def _name(value: object) -> str:
    """A model name a server reported, safe to print: one line, no control characters (an
    escape sequence would reach the terminal), at most MAX_NAME_CHARS; "" if none."""
    return one_line(strip_hidden(value), MAX_NAME_CHARS) if isinstance(value, str) else ""


def _served_name(base_url: str, get: Answers) -> str:
    """The model a local server serves, for a config that names none: the one GET /models
    lists (the first chat model when it lists several: not an embedding model), else
    llama.cpp's /props (``model_alias``, else ``model_path``), else ``local``. Never a hosted
    model's name."""
    listed = _listed(get(_models_url(base_url))) or []
    if listed:
        return next((name for name in listed if not is_embedding_model(name)), listed[0])
    props = get(_props_url(base_url))
    if isinstance(props, dict):
        for key in ("model_alias", "model_path"):
            if name := _name(props.get(key)):
                return name
    return UNNAMED_LOCAL_MODEL


def model_label(name: str) -> str:
    """A model's name as labels show it: a model file's base name (``model.gguf``) for a path
    such as llama-cpp-python lists (``/home/me/models/model.gguf``); other names as they are
    (``Qwen/Qwen2.5-7B-Instruct`` is a name, not a path)."""
    name = strip_hidden(name)  # a name a server's answers report reaches the terminal
    if name.lower().endswith(_MODEL_FILES) or name.startswith(("/", "./", "../", "~")):
        return posixpath.basename(name.replace("\\", "/").rstrip("/")) or name
    return name


def configured_model(settings: Settings) -> str:
    """The model a run asks, as labels show it (a local server's own model when the config
    names none; see `with_local_defaults`)."""
    return model_label(local_llm(settings.llm).model)


def forget_servers() -> None:
    """Drop what the servers answered (the next probe asks them again)."""
    _ANSWERS.clear()
    _WARNED.clear()


def _models_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/models"


def _props_url(base_url: str) -> str:
    return f"{base_url.rstrip('/').removesuffix('/v1')}/props"


_ANSWERS: dict[str, Any] = {}  # URL -> the parsed answer (None: no usable answer)
_WARNED: set[str] = set()  # base URLs whose several listed models were warned about


class _Loading:
    """How long one probe still waits for a server that answers 503 (loading its model)."""

    def __init__(self, limit: float) -> None:
        self.deadline = time.monotonic() + limit
        self.limit = limit
        self.polls = 0

    async def waited(self, url: str) -> bool:
        """Wait for the next poll (saying once why); False when the time is up."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            return False
        if self.polls == 0:
            logger.warning(
                "%s answers 503: the server is still loading its model; waiting up to %g s",
                url,
                self.limit,
            )
        self.polls += 1
        await asyncio.sleep(min(left, loading_poll(self.polls)))
        return True


async def _get_json(url: str, loading: _Loading | None = None) -> Any:
    """One short GET through the bounded client (whole-request deadline, byte cap), parsed
    with the bounded JSON reader, asked again while the server answers 503 and `loading`
    waits; None on any other failure."""
    limits = Limits(timeout=PROBE_TIMEOUT_SECONDS, max_bytes=PROBE_MAX_BYTES)
    while True:
        try:
            response = await HttpClient().request("GET", url, limits=limits)
            return parsing.loads(response.content, what="the server's answer")
        except HttpFailure as exc:
            if exc.status == 503 and loading is not None and await loading.waited(url):
                continue
            logger.debug("no answer from %s (%s)", url, exc.reason)
            return None
        except parsing.JsonError as exc:
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
    "NoChatModel",
    "configured_model",
    "forget_servers",
    "is_embedding_model",
    "is_local",
    "local_llm",
    "local_server",
    "model_label",
    "probe_local",
    "served_models",
    "served_models_known",
    "with_local_defaults",
]
