"""A fake OpenAI-compatible chat completions server on loopback, for tests and benchmarks.

A real HTTP server (stdlib only) that the real ``openai`` SDK talks to, so tests exercise the
whole client stack: headers, status codes, timeouts, dropped connections, response parsing.

Usage::

    with FakeOpenAIServer() as srv:
        srv.queue(Reply({"themes": [...]}))            # answers are consumed in order
        client = openai.OpenAI(base_url=srv.base_url, api_key="test-key", max_retries=0)
        ...
        assert srv.chat_requests[0].body["model"] == "gpt-test"

Answers come from the queue first, then from ``srv.handler(request_body)``; with neither the
server answers 500 "no scripted answer" (and notes it in ``srv.errors``). An answer is:

- ``Reply(content, ...)``: a chat completion. ``dict``/``list`` content is ``json.dumps``'ed.
  ``tool_call=True`` delivers it as a call of the requested tool when the request has ``tools``.
  ``refusal="..."`` gives the structured-output refusal shape (``content`` is ``None``).
  ``usage={...}`` overrides the estimated usage, ``cached_tokens`` fills
  ``usage.prompt_tokens_details.cached_tokens``. A reasoning model's answer: ``reasoning="..."``
  goes to ``message.reasoning_content`` (``reasoning_field="reasoning"`` as newer vLLM and
  Ollama name it); ``parts=True`` sends the content as a list of parts (``{"type": "text"}``,
  the reasoning first as a ``{"type": "reasoning"}`` part).
- ``Fault.http(429, headers={"Retry-After": "1"})`` (or ``retry-after-ms``), ``Fault.http(500)``,
  ``Fault.http(503)``, ``Fault.http(408)``: an error status with an OpenAI-style error body.
- ``Fault.slow(seconds, then=None)``: waits (without blocking other requests, aborted on
  shutdown), then answers ``then`` (default ``Reply({})``). It never consumes the queue, so a
  client that timed out and retries gets the next queued answer.
- ``Fault.drop()``: closes the connection without a response.
- ``Fault.trickle(seconds)``: HTTP 200 headers, then one byte of body every ``seconds``, never
  finishing (until the client hangs up or the server stops): per-read timeouts never fire.
- ``Fault.huge(size)``: HTTP 200 with a body of ``size`` bytes (blanks) and no Content-Length,
  streamed in chunks.
- ``Fault.invalid_json()``: HTTP 200 whose content is not JSON (``{"themes": [``).
- ``Fault.page(text, content_type)``: HTTP 200 whose body is not a chat completion at all
  (an HTML page from a proxy or a wrong base URL); ``Fault.sse(content)``: HTTP 200 with the
  answer as a stream of server-sent events although the request said ``stream: false``.
- ``Fault.length(content)``: ``finish_reason="length"`` with the given truncated content.
- a bare ``str`` or ``dict`` is shorthand for ``Reply(that)``.

Bad answers that are valid JSON are plain replies the test builds; nothing here is magic::

    srv.queue(Reply({"themes": [{"title": "T", "paper_ids": ["P9"]}]}))    # id not in prompt
    srv.queue(Reply({"themes": [{"title": "T", "paper_ids": ["P1"]}]}))    # P2 missing
    srv.queue(Reply({"themes": [{"title": "A", "paper_ids": ["P1"]},
                                {"title": "B", "paper_ids": ["P1", "P2"]}]}))  # P1 twice
    srv.handler = lambda body: Reply(answer_for(RecordedRequest.text_of(body)))

``srv.batches`` serves ``/v1/files`` and ``/v1/batches`` (the Batch API): each batch runs its
JSONL lines through the same queue and handler, with a scripted outcome per batch (see
``openai_batches``); ``batch_api=False`` answers 404 there, as local servers do.

To look at afterwards: ``srv.requests`` / ``srv.chat_requests`` (``RecordedRequest``: method,
path, lower-cased headers, parsed body, raw body, time, and ``outcome``, what the server did),
``srv.pending`` (queued answers left), ``srv.errors`` (handler failures, missing answers) and
``srv.max_in_flight``. ``require_api_key="k"`` answers 401 unless ``Authorization: Bearer k``.
``loading=N`` answers the first N requests (any path) 503 "Loading model", as llama.cpp's server
does while it reads its model from disk. ``context_limit=N`` answers a chat request whose prompt
is longer than N tokens (by the server's own count, `prompt_tokens`: four characters a token)
400 with llama.cpp's ``exceed_context_size_error`` body, before it takes a queued answer.

``srv.chaos(rate, seed)`` makes that fraction of chat calls fail with a random fault (429 with
``Retry-After: 0``, 500, 503, drop, invalid JSON, length, refusal); the draw is deterministic given
the seed and the order in which calls arrive. ``latency_per_call`` and
``latency_per_output_token`` add a delay before each answer (benchmarks). ``rate_limit=N``
answers 429 (``Retry-After: 0``) to a chat call that arrives while N are already being answered,
as a provider's concurrency limit does.

Standalone (answers every request with :func:`default_digest_handler`; ``--echo-mode offline``
fills strings with words from the prompt instead of ``"…"``; SIGTERM or Ctrl-C stops it)::

    python -m tests.fakes.openai_server --port 8399 --latency-per-call 0.4 --echo-mode offline
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import json
import logging
import random
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Self

from tests.fakes.blurb_writers import papers_in, plain_blurb
from tests.fakes.openai_batches import BatchDesk
from tests.fakes.schema_instance import TextFiller, placeholder_text, schema_instance

logger = logging.getLogger(__name__)

Json = Any
EchoMode = Literal["placeholder", "offline"]


@dataclass(frozen=True)
class Reply:
    """A scripted chat completion. ``finish_reason=None`` means what OpenAI would say: ``stop``,
    or ``tool_calls`` for a tool call the client did not force with ``tool_choice``."""

    content: str | Mapping[str, Any] | list[Any] | None = None
    finish_reason: str | None = None
    tool_call: bool = False
    usage: Mapping[str, Any] | None = None
    refusal: str | None = None
    cached_tokens: int = 0
    reasoning: str | None = None
    reasoning_field: str = "reasoning_content"
    parts: bool = False

    def text(self) -> str | None:
        """The message content as sent on the wire."""
        if self.content is None or isinstance(self.content, str):
            return self.content
        return json.dumps(self.content)


@dataclass(frozen=True)
class Fault:
    """A scripted failure; build one with the static constructors."""

    kind: Literal["http", "slow", "drop", "trickle", "huge"]
    status: int = 0
    body: Json = None
    headers: Mapping[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    then: Reply | Fault | None = None

    @staticmethod
    def http(status: int, body: Json = None, headers: Mapping[str, str] | None = None) -> Fault:
        """An error status; ``body`` (dict, str or bytes) defaults to an OpenAI error object."""
        return Fault("http", status=status, body=body, headers=dict(headers or {}))

    @staticmethod
    def slow(seconds: float, then: Reply | Fault | None = None) -> Fault:
        return Fault("slow", seconds=seconds, then=then)

    @staticmethod
    def drop() -> Fault:
        return Fault("drop")

    @staticmethod
    def trickle(seconds: float = 1.0) -> Fault:
        return Fault("trickle", seconds=seconds)

    @staticmethod
    def huge(size: int) -> Fault:
        return Fault("huge", status=size)

    @staticmethod
    def page(text: str, content_type: str = "text/html; charset=utf-8") -> Fault:
        """HTTP 200 whose body is `text`, not a chat completion (a proxy's or a web UI's page)."""
        return Fault("http", status=200, body=text, headers={"Content-Type": content_type})

    @staticmethod
    def sse(content: str | Mapping[str, Any], pieces: int = 3, model: str = "fake-model") -> Fault:
        """HTTP 200 with `content` streamed as chat.completion.chunk events (in `pieces`),
        as some servers answer whatever ``stream`` says."""
        text = content if isinstance(content, str) else json.dumps(content)
        step = max(1, -(-len(text) // pieces))
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        deltas += [{"content": text[i : i + step]} for i in range(0, len(text), step)]
        chunks = [
            {"id": "chatcmpl-sse", "object": "chat.completion.chunk", "created": 0,
             "model": model, "choices": [{"index": 0, "delta": d, "finish_reason": None}]}
            for d in deltas
        ]  # fmt: skip
        chunks[-1]["choices"][0]["finish_reason"] = "stop"
        events = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return Fault.page(events, "text/event-stream")

    @staticmethod
    def invalid_json(text: str = '{"themes": [', tool_call: bool = False) -> Reply:
        return Reply(text, tool_call=tool_call)

    @staticmethod
    def length(content: str | Mapping[str, Any], tool_call: bool = False) -> Reply:
        return Reply(content, finish_reason="length", tool_call=tool_call)


Answer = Reply | Fault
Handler = Callable[[dict[str, Any]], Answer | str | Mapping[str, Any]]

CHAOS_FAULTS: dict[str, Answer] = {
    "429": Fault.http(429, headers={"Retry-After": "0"}),
    "500": Fault.http(500),
    "503": Fault.http(503),
    "drop": Fault.drop(),
    "invalid_json": Fault.invalid_json(tool_call=True),
    "length": Fault.length('{"themes": [{"title": "', tool_call=True),
    "refusal": Reply(refusal="I'm sorry, I can't help with that."),
}


@dataclass
class RecordedRequest:
    """One request as the server saw it; header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: Json
    raw_body: bytes
    time: float
    outcome: str = ""
    """What the server did: ``reply``, ``tool_call``, ``refusal``, ``http 429``, ``drop``,
    ``slow``, ``no_answer``, ``bad_request``...; chaos faults are prefixed ``chaos:``."""
    seconds: float | None = None  # a chat call: how long the server took to answer it

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []

    @property
    def prompt_text(self) -> str:
        """All message text, joined by newlines (handy to look for paper ids)."""
        return self.text_of(self.body if isinstance(self.body, dict) else {})

    @staticmethod
    def text_of(body: Mapping[str, Any]) -> str:
        parts: list[str] = []
        for message in body.get("messages", []):
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
        return "\n".join(parts)


class FakeOpenAIServer:
    """An OpenAI-compatible server on ``host:port`` (ephemeral port by default)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency_per_call: float = 0.0,
        latency_per_output_token: float = 0.0,
        handler: Handler | None = None,
        models: Sequence[str] = ("fake-model",),
        require_api_key: str | None = None,
        rate_limit: int | None = None,
        single_slot: bool = False,
        answer_model: str | None = None,
        model_fields: Mapping[str, Any] | None = None,
        props: Mapping[str, Any] | None = None,
        batch_api: bool = True,
        loading: int = 0,
        context_limit: int | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.latency_per_call = latency_per_call
        self.latency_per_output_token = latency_per_output_token
        self.handler = handler
        self.models = tuple(models)
        self.require_api_key = require_api_key
        self.loading = loading  # requests still to answer 503 "Loading model"
        # A server's context window: longer chat requests (`prompt_tokens`) answer 400.
        self.context_limit = context_limit
        self.rate_limit = rate_limit
        self.rate_limited = 0  # chat calls answered 429 because of rate_limit
        self.answer_model = answer_model  # the name answers give, whatever the request asked
        # What a real server adds: fields of each GET /models entry (vLLM: max_model_len) and
        # llama.cpp's GET /props (outside /v1); None serves no /props (404), as OpenAI does.
        self.model_fields = dict(model_fields or {})
        self.props = dict(props) if props is not None else None
        # One request at a time, as a single-slot local server: the others wait their turn.
        self._slot: threading.Lock | None = threading.Lock() if single_slot else None
        self.errors: list[str] = []
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._queue: deque[Answer] = deque()
        self._requests: list[RecordedRequest] = []
        self._ids = itertools.count(1)
        self._in_flight = 0
        self._chaos_rate = 0.0
        self._chaos_rng = random.Random(0)
        self._chaos_faults: tuple[str, ...] = tuple(CHAOS_FAULTS)
        self._stopping = threading.Event()
        # /v1/files and /v1/batches (see openai_batches); without them those paths answer 404
        self.batch_api = batch_api
        self.batches = BatchDesk(self._line_answer)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            raise RuntimeError("FakeOpenAIServer already started")
        self._stopping.clear()
        self._httpd = _Server((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-openai-serve",
            daemon=True,  # a server a test forgot to stop must not hold the interpreter open
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, abort slow answers, close open connections and join every thread."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.join_connections(timeout=5.0)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://host:port/v1``, what ``openai.OpenAI(base_url=...)`` wants."""
        if self._httpd is None:
            raise RuntimeError("FakeOpenAIServer is not running")
        return f"http://{self.host}:{self.port}/v1"

    # -- scripting -----------------------------------------------------------------------------

    def queue(self, *answers: Answer | str | Mapping[str, Any]) -> None:
        """Append answers, consumed in order by chat completion calls (before the handler)."""
        with self._lock:
            self._queue.extend(_as_answer(a) for a in answers)

    @property
    def pending(self) -> int:
        """Queued answers not consumed yet."""
        with self._lock:
            return len(self._queue)

    def chaos(self, rate: float, seed: int = 0, faults: Sequence[str] | None = None) -> None:
        """Fail ``rate`` of chat calls with a fault drawn from ``faults`` (keys of CHAOS_FAULTS)."""
        unknown = set(faults or ()) - set(CHAOS_FAULTS)
        if unknown:
            raise ValueError(f"unknown chaos faults: {sorted(unknown)}")
        with self._lock:
            self._chaos_rate = rate
            self._chaos_rng = random.Random(seed)
            self._chaos_faults = tuple(faults or CHAOS_FAULTS)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # -- request handling (called from connection threads) -------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _still_loading(self) -> bool:
        """Whether this request finds the model still loading (counts one of `loading`)."""
        with self._lock:
            if self.loading <= 0:
                return False
            self.loading -= 1
            return True

    def _next_answer(self, body: dict[str, Any]) -> tuple[Answer | None, str]:
        with self._lock:
            if self.rate_limit is not None and self._in_flight > self.rate_limit:
                self.rate_limited += 1
                return Fault.http(429, headers={"Retry-After": "0"}), "rate_limit"
            if self._chaos_rate > 0 and self._chaos_rng.random() < self._chaos_rate:
                name = self._chaos_rng.choice(self._chaos_faults)
                return CHAOS_FAULTS[name], f"chaos:{name}"
            if self._queue:
                return self._queue.popleft(), ""
            handler = self.handler
        if handler is None:
            return None, ""
        return _as_answer(handler(body)), ""

    def _line_answer(self, body: dict[str, Any]) -> tuple[int, Json]:
        """One batch line, answered as a chat call would be: (HTTP status, response body)."""
        try:
            answer, _ = self._next_answer(body)
        except Exception as exc:  # noqa: BLE001  (a test handler failed: that line fails)
            self.errors.append(f"fake OpenAI server: handler raised {exc!r}")
            return 500, _error_body(500, "handler error (fake server)")
        while isinstance(answer, Fault) and answer.kind == "slow":
            answer = answer.then or Reply({})
        if answer is None:
            self.errors.append("fake OpenAI server: no scripted answer for a batch line")
            return 500, _error_body(500, "no scripted answer (fake server)")
        if isinstance(answer, Fault):
            status = answer.status if answer.kind == "http" else 500
            return status, _error_body(status, f"Scripted fault: HTTP {status} (fake server).")
        completion, _ = self._completion(body, answer)
        return 200, completion

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _wait(self, seconds: float) -> bool:
        """Sleep unless the server stops first; True when the sleep ran to its end."""
        return seconds <= 0 or not self._stopping.wait(seconds)

    def _completion(self, body: dict[str, Any], reply: Reply) -> tuple[dict[str, Any], str]:
        text = reply.text()
        message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
        tools = body.get("tools") or []
        forced = _forced_tool(body.get("tool_choice"))
        outcome, finish = "reply", "stop"
        if reply.refusal is not None:
            message.update(content=None, refusal=reply.refusal)
            outcome = "refusal"
        elif reply.tool_call and tools:
            name = forced or tools[0].get("function", {}).get("name", "tool")
            call_id = f"call_fake{next(self._ids):06d}"
            call = {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": text or ""},
            }
            message.update(content=None, tool_calls=[call])
            outcome, finish = "tool_call", ("stop" if forced else "tool_calls")
        if reply.parts:
            thinking = [{"type": "reasoning", "text": reply.reasoning}] if reply.reasoning else []
            message["content"] = [*thinking, {"type": "text", "text": message["content"] or ""}]
        elif reply.reasoning is not None:
            message[reply.reasoning_field] = reply.reasoning
        delivered = text if reply.refusal is None else reply.refusal
        prompt = prompt_tokens(body)
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": len(delivered or "") // 4,
            "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": 0},
        }
        usage.update(reply.usage or {})
        if "total_tokens" not in (reply.usage or {}):
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        completion = {
            "id": f"chatcmpl-fake{next(self._ids):06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.answer_model or body.get("model") or self.models[0],
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": reply.finish_reason or finish,
                }
            ],
            "usage": usage,
        }
        return completion, outcome


def _as_answer(answer: Answer | str | Mapping[str, Any]) -> Answer:
    return answer if isinstance(answer, Reply | Fault) else Reply(answer)


def _forced_tool(tool_choice: Any) -> str | None:
    if isinstance(tool_choice, dict):
        return tool_choice.get("function", {}).get("name")
    return None


def prompt_tokens(body: Mapping[str, Any]) -> int:
    """The server's own count of a chat request's prompt tokens: four characters a token."""
    return len(RecordedRequest.text_of(body)) // 4


def over_context_body(tokens: int, limit: int) -> dict[str, Any]:
    """llama.cpp server's answer to a prompt longer than its context (``--ctx-size``)."""
    message = f"request ({tokens} tokens) exceeds the available context size ({limit} tokens)"
    error = {"code": 400, "message": f"{message}, try increasing it"}
    error.update(type="exceed_context_size_error", n_prompt_tokens=tokens, n_ctx=limit)
    return {"error": error}


LOADING_BODY = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}


def _error_body(status: int, message: str) -> dict[str, Any]:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    code = "rate_limit_exceeded" if status == 429 else None
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks its connections so that ``stop`` can close and join them."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], owner: FakeOpenAIServer) -> None:
        self.owner = owner
        self._conns: dict[threading.Thread, socket.socket] = {}
        self._conns_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name="fake-openai-conn",
            daemon=True,
        )
        with self._conns_lock:
            self._conns[thread] = request
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._conns_lock:
                self._conns.pop(threading.current_thread(), None)

    def close_connections(self) -> None:
        with self._conns_lock:
            sockets = list(self._conns.values())
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join_connections(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._conns_lock:
            threads = list(self._conns)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # client went away (timeout, reset): expected in tests
            return
        self.owner.errors.append(repr(exc))
        logger.exception("fake OpenAI server: error while handling a request")


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fake OpenAI server: " + format, *args)

    def _route(self) -> str:
        path = self.path.split("?", 1)[0].rstrip("/")
        return path.removeprefix("/v1")

    def _send(self, status: int, payload: Json, headers: Mapping[str, str] | None = None) -> None:
        if isinstance(payload, bytes):
            data, ctype = payload, "application/octet-stream"
        elif isinstance(payload, str):
            data, ctype = payload.encode(), "text/plain; charset=utf-8"
        else:
            data, ctype = json.dumps(payload).encode(), "application/json"
        extra = dict(headers or {})
        ctype = next((extra.pop(k) for k in list(extra) if k.lower() == "content-type"), ctype)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _begin(self) -> RecordedRequest:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        record = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw_body=raw,
            time=time.time(),
        )
        self.server.owner._record(record)
        return record

    def _authorized(self, record: RecordedRequest) -> bool:
        key = self.server.owner.require_api_key
        if key is None or record.headers.get("authorization") == f"Bearer {key}":
            return True
        record.outcome = "http 401"
        self._send(401, _error_body(401, "Incorrect API key provided (fake server)."))
        return False

    def _ready(self, record: RecordedRequest) -> bool:
        """False (answered 503, llama.cpp's body) while the model is still loading."""
        if not self.server.owner._still_loading():
            return True
        record.outcome = "loading"
        self._send(503, LOADING_BODY)
        return False

    def _batch_route(self, record: RecordedRequest) -> bool:
        """Serve /files and /batches (see openai_batches); False when the path is another."""
        route, owner = self._route(), self.server.owner
        parts = route.strip("/").split("/")
        if parts[0] not in ("files", "batches"):
            return False
        desk = owner.batches
        if not owner.batch_api:
            record.outcome = "http 404"
            self._send(404, _error_body(404, f"Unknown path {self.path} (fake server)."))
            return True
        answer: tuple[int, Any] = (
            404,
            _error_body(404, f"Unknown path {self.path} (fake server)."),
        )
        if self.command == "POST" and parts == ["files"]:
            answer = desk.upload(self.headers.get("Content-Type", ""), record.raw_body)
        elif (
            self.command == "GET"
            and len(parts) == 3
            and parts[0] == "files"
            and parts[2] == "content"
        ):
            data = desk.content(parts[1])
            answer = (200, data) if data is not None else answer
        elif self.command == "POST" and parts == ["batches"]:
            answer = desk.create(record.body)
        elif self.command == "GET" and len(parts) == 2 and parts[0] == "batches":
            answer = desk.retrieve(parts[1])
        elif self.command == "POST" and len(parts) == 3 and parts[2] == "cancel":
            answer = desk.cancel(parts[1])
        record.outcome = f"{'/'.join(parts[:1] + parts[2:])} {answer[0]}"
        self._send(*answer)
        return True

    def do_GET(self) -> None:
        record = self._begin()
        if not self._authorized(record) or not self._ready(record):
            return
        owner = self.server.owner
        if self.path.split("?", 1)[0].rstrip("/") == "/props" and owner.props is not None:
            record.outcome = "props"
            self._send(200, owner.props)
            return
        if self._batch_route(record):
            return
        if self._route() != "/models":
            record.outcome = "http 404"
            self._send(404, _error_body(404, f"Unknown path {self.path} (fake server)."))
            return
        data = [
            {"id": m, "object": "model", "created": 0, "owned_by": "fake", **owner.model_fields}
            for m in owner.models
        ]
        record.outcome = "models"
        self._send(200, {"object": "list", "data": data})

    def do_POST(self) -> None:
        record = self._begin()
        if not self._authorized(record) or not self._ready(record):
            return
        if self._batch_route(record):
            return
        if self._route() != "/chat/completions":
            record.outcome = "http 404"
            self._send(404, _error_body(404, f"Unknown path {self.path} (fake server)."))
            return
        body = record.body
        problem = None
        if not isinstance(body, dict):
            problem = "Request body is not a JSON object (fake server)."
        elif body.get("stream"):
            problem = "Streaming is not supported by the fake server; send stream=false."
        if problem is not None:
            record.outcome = "bad_request"
            self._send(400, _error_body(400, problem))
            return
        owner = self.server.owner
        tokens = prompt_tokens(body)
        if owner.context_limit is not None and tokens > owner.context_limit:
            record.outcome = "over_context"
            self._send(400, over_context_body(tokens, owner.context_limit))
            return
        slot = owner._slot or contextlib.nullcontext()
        with slot:
            self._serve_chat(record, body)

    def _serve_chat(self, record: RecordedRequest, body: dict[str, Any]) -> None:
        owner = self.server.owner
        owner._enter()
        try:
            try:
                answer, label = owner._next_answer(body)
            except Exception as exc:  # noqa: BLE001  (a test handler failed: answer 500, loudly)
                message = f"fake OpenAI server: handler raised {exc!r}"
                owner.errors.append(message)
                record.outcome = "handler_error"
                self._send(500, _error_body(500, message))
                return
            self._answer(record, body, answer, label)
        finally:
            record.seconds = time.time() - record.time
            owner._leave()

    def _answer(
        self, record: RecordedRequest, body: dict[str, Any], answer: Answer | None, label: str
    ) -> None:
        owner = self.server.owner
        if answer is None:
            message = "fake OpenAI server: no scripted answer (queue empty and no handler)"
            owner.errors.append(message)
            record.outcome = "no_answer"
            self._send(500, _error_body(500, message))
            return
        if isinstance(answer, Fault) and answer.kind == "slow":
            record.outcome = label or "slow"
            if not owner._wait(answer.seconds):
                self.close_connection = True
                return
            answer, label = answer.then or Reply({}), label or "slow"
            return self._answer(record, body, answer, label)
        if isinstance(answer, Fault) and answer.kind in ("trickle", "huge"):
            record.outcome = label or answer.kind
            self.close_connection = True
            self._stream_hostile(answer)
            return
        if isinstance(answer, Fault) and answer.kind == "drop":
            record.outcome = label or "drop"
            self.close_connection = True
            return
        if isinstance(answer, Fault):
            record.outcome = label or f"http {answer.status}"
            payload = (
                answer.body
                if answer.body is not None
                else _error_body(
                    answer.status, f"Scripted fault: HTTP {answer.status} (fake server)."
                )
            )
            self._send(answer.status, payload, answer.headers)
            return
        completion, outcome = owner._completion(body, answer)
        record.outcome = label or outcome
        delay = (
            owner.latency_per_call
            + owner.latency_per_output_token * completion["usage"]["completion_tokens"]
        )
        if not owner._wait(delay):
            self.close_connection = True
            return
        self._send(200, completion)

    def _stream_hostile(self, fault: Fault) -> None:
        """A body that trickles forever, or one of `fault.status` bytes; stops on hang-up."""
        owner = self.server.owner
        size = fault.status if fault.kind == "huge" else 100_000  # a long wait at a byte a second
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if fault.kind == "huge":  # no length: the client must count what arrives
                self.send_header("Connection", "close")
            else:
                self.send_header("Content-Length", str(size))
            self.end_headers()
            if fault.kind == "huge":
                chunk = b" " * 65536
                for start in range(0, size, len(chunk)):
                    self.wfile.write(chunk[: size - start])
                return
            while owner._wait(fault.seconds):
                self.wfile.write(b" ")
                self.wfile.flush()
        except OSError:
            return


# -- standalone: a generic answer for any paper-digest request -------------------------------


def request_schema(request: Mapping[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The JSON Schema the request asks the answer to follow, and whether to answer by tool call.

    Looks at ``tools`` (the forced or first tool's parameters), then ``response_format``
    (``json_schema``, or ``json_object`` with a llama.cpp-style ``schema``), then the largest
    JSON Schema object embedded in the messages (plain ``json_object`` dialect).
    """
    tools = request.get("tools") or []
    if tools:
        forced = _forced_tool(request.get("tool_choice"))
        chosen = next((t for t in tools if t.get("function", {}).get("name") == forced), tools[0])
        return dict(chosen.get("function", {}).get("parameters") or {}), True
    fmt = request.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return dict(fmt.get("json_schema", {}).get("schema") or {}), False
    if fmt.get("type") == "json_object":
        if isinstance(fmt.get("schema"), dict):
            return dict(fmt["schema"]), False
        return _schema_in_text(RecordedRequest.text_of(request)) or {}, False
    return None, False


def _schema_in_text(text: str) -> dict[str, Any] | None:
    decoder, best, start = json.JSONDecoder(), None, text.find("{")
    while start != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if (
            isinstance(value, dict)
            and "properties" in value
            and len(json.dumps(value)) > len(json.dumps(best or {}))
        ):
            best = value
        start = text.find("{", end)
    return best


def _echo_filler(request: Mapping[str, Any]) -> TextFiller:
    """Fill strings with consecutive runs of words from the last user message."""
    users = [m for m in request.get("messages", []) if m.get("role") == "user"]
    words = RecordedRequest.text_of({"messages": users[-1:]}).split() or ["…"]
    cursor = itertools.count(0, 12)

    def fill(name: str, min_length: int, max_length: int | None) -> str:
        start = next(cursor) % len(words)
        text = " ".join((words * 2)[start : start + 12])
        while len(text) < min_length:
            text = f"{text} {text}"
        return text if max_length is None else text[:max_length]

    return fill


def _plain_words(name: str, min_length: int, max_length: int | None) -> str:
    """Plain words (a bare "…" would be junk to the client's checks), padded and cut to fit."""
    del name
    text = "A few plain words"  # short: strict schemas do not say the length bound
    while len(text) < min_length:
        text += " and more"
    return text if max_length is None else text[:max_length]


def default_digest_handler(
    request: Mapping[str, Any], echo_mode: EchoMode = "placeholder"
) -> Reply:
    """A plausible answer to any request: a schema-valid JSON instance when a schema is asked for
    (every enum value, e.g. each paper id, assigned once across grouping arrays; each blurb
    written from its paper's abstract in the prompt), else short text.

    ``echo_mode="offline"`` fills strings with words echoed from the prompt instead of ``"…"``,
    so answers have realistic lengths (and token counts) for benchmarks.
    """
    schema, as_tool = request_schema(request)
    text = _echo_filler(request) if echo_mode == "offline" else _plain_words
    if schema is None:
        return Reply((text or placeholder_text)("content", 0, 200))
    value = schema_instance(schema, text=text)
    if isinstance(value, dict) and isinstance(value.get("blurbs"), list):
        # each blurb about its own paper, as a competent model writes it (the client checks)
        shown = {
            sid: plain_blurb(t, a) for sid, t, a in papers_in(RecordedRequest.text_of(request))
        }
        for entry in value["blurbs"]:
            if isinstance(entry, dict) and entry.get("paper_id") in shown:
                entry["blurb"] = shown[entry["paper_id"]]
    return Reply(value, tool_call=as_tool)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Fake OpenAI-compatible server (paper-digest tests)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8399)
    parser.add_argument("--latency-per-call", type=float, default=0.0)
    parser.add_argument("--latency-per-token", type=float, default=0.0)
    parser.add_argument("--echo-mode", choices=["placeholder", "offline"], default="placeholder")
    parser.add_argument("--chaos-rate", type=float, default=0.0)
    parser.add_argument("--chaos-seed", type=int, default=0)
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(
        args.host,
        args.port,
        latency_per_call=args.latency_per_call,
        latency_per_output_token=args.latency_per_token,
        handler=functools.partial(default_digest_handler, echo_mode=args.echo_mode),
    )
    if args.chaos_rate:
        server.chaos(args.chaos_rate, args.chaos_seed)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with server:
        print(f"fake OpenAI server on {server.base_url} (Ctrl-C to stop)", flush=True)
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        print("stopping", flush=True)


if __name__ == "__main__":
    main()
