"""A real loopback HTTP server that replays scripted responses and records every request.

    with ScriptedHttpServer() as server:
        server.add("/rss/cs.CL", Reply(200, body, {"ETag": '"v1"'}))   # fixed route
        server.enqueue(Reply(429, headers={"Retry-After": "1"}))        # one-shot, FIFO
        ... server.url ... server.requests[0].headers["user-agent"] ...

GET and POST are served alike (a POST's body is recorded). Queued replies are served first (in
order, whatever the path); then the route for the path;
otherwise 404 "no scripted response". `Reply(drop=True)` closes the connection without an
answer (a connection error for the client); `Reply(delay=...)` waits before answering.
`FakeClock` is the clock and sleep to inject into rate gates and retries: no real waiting.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0
    trickle: float = 0.0
    trickle_headers: bool = False
    endless: bool = False

    @property
    def payload(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    received: float = 0.0  # time.monotonic() when the request was read

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Span:
    """When the server held one request: read at `received`, answer begun at `answered`."""

    path: str
    received: float
    answered: float


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer (a deadline cut a trickling body) is what the tests
    provoke, not an error: no traceback on stderr, where an in-process CLI run would read it as
    its own."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # broken pipe, reset by the client
            return
        super().handle_error(request, client_address)


class LoopbackHttpServer:
    """A ThreadingHTTPServer on 127.0.0.1 (ephemeral port) in a daemon thread; a context
    manager. The fakes below subclass it and give it their request handler."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def root(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ScriptedHttpServer(LoopbackHttpServer):
    """ThreadingHTTPServer on 127.0.0.1 (ephemeral port) serving scripted replies."""

    def __init__(self) -> None:
        self._queue: deque[Reply] = deque()
        self._routes: dict[str, Reply] = {}
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self._active = 0
        self.max_concurrent = 0  # most requests in progress at once (received, not answered)
        self.spans: list[Span] = []  # each request's time on the server, in answer order
        super().__init__(self._handler_class())

    @property
    def url(self) -> str:
        return self.root

    def add(self, path: str, reply: Reply) -> None:
        """Serve `reply` for every request of `path` (query string ignored)."""
        with self._lock:
            self._routes[path] = reply

    def enqueue(self, *replies: Reply) -> None:
        """Serve these once each, in order, before any route."""
        with self._lock:
            self._queue.extend(replies)

    def _next_reply(self, path: str) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            return self._routes.get(path, Reply(404, b"no scripted response"))

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            self._active += 1
            self.max_concurrent = max(self.max_concurrent, self._active)

    def _done(self, request: RecordedRequest) -> None:
        with self._lock:
            self._active -= 1
            self.spans.append(Span(request.path, request.received, time.monotonic()))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._serve(b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._serve(self.rfile.read(min(length, 5_000_000)))

            def _serve(self, body: bytes) -> None:
                parts = urlsplit(self.path)
                request = RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    received=time.monotonic(),
                )
                server._record(request)
                reply = server._next_reply(parts.path)
                try:
                    if reply.delay:
                        time.sleep(reply.delay)
                finally:
                    # Counted as active until the answer starts: once the client has the
                    # answer it may send its next request, which must not look concurrent.
                    server._done(request)
                self._answer(reply)

            def _answer(self, reply: Reply) -> None:
                if reply.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                if reply.trickle or reply.endless:
                    self._hostile(reply)
                    return
                payload = reply.payload if reply.status not in (204, 304) else b""
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)

            def _hostile(self, reply: Reply) -> None:
                """Trickle or never end; stops when the client hangs up."""
                self.close_connection = True
                head = f"HTTP/1.1 {reply.status} OK\r\n".encode()
                if reply.endless:
                    head += b"Content-Type: application/json\r\n\r\n"
                else:
                    head += b"Content-Length: 100000\r\n\r\n"
                try:
                    if reply.trickle_headers:
                        for byte in head:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                    else:
                        self.wfile.write(head)
                    chunk = b"0" * 65536
                    while True:
                        if reply.endless:
                            self.wfile.write(chunk)
                        else:
                            self.wfile.write(b"[")
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                except OSError:
                    return

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet tests

        return Handler


class FakeClock:
    """A monotonic clock that moves only when slept on; every sleep is recorded."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.value = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self.value

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.value += seconds

    async def asleep(self, seconds: float) -> None:
        """`sleep` for the async client and gates: recorded, the clock moved, no real wait."""
        self.sleep(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.value += seconds


def recording_sleep(into: list[float]) -> Callable[[float], Awaitable[None]]:
    """An async sleep that only records what it was asked to wait."""

    async def sleep(seconds: float) -> None:
        into.append(seconds)

    return sleep


async def no_sleep(seconds: float) -> None:
    """An async sleep that returns at once."""
