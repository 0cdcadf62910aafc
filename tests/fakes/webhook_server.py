"""A loopback webhook receiver: records every POST (path, headers, JSON body) and answers with
scripted statuses (then 200). A real HTTP server on 127.0.0.1, like Slack's or Discord's."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.http_server import LoopbackHttpServer


@dataclass(frozen=True)
class Posted:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookServer(LoopbackHttpServer):
    def __init__(self) -> None:
        self.posts: list[Posted] = []
        self._replies: deque[tuple[int, dict[str, str]]] = deque()
        self._lock = threading.Lock()
        super().__init__(self._handler())

    def url(self, path: str = "/hook") -> str:
        return f"{self.root}{path}"

    def fail(self, *statuses: int, headers: dict[str, str] | None = None) -> None:
        """Answer the next POSTs with these statuses, then 200 again."""
        with self._lock:
            self._replies.extend((s, headers or {}) for s in statuses)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, 5_000_000))
                with server._lock:
                    server.posts.append(
                        Posted(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    status, headers = server._replies.popleft() if server._replies else (200, {})
                payload = b"ok"
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return None

        return Handler
