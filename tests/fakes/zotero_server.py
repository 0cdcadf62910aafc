"""A loopback fake of the Zotero web API (the part a library reader uses): top-level items of
a user's library or of one collection, paged with `start`/`limit`, behind an API key.

    with FakeZotero(user_id="123", api_key="secret", items=[...]) as zotero:
        ... ZoteroSettings(user_id="123", api_key="secret", base_url=zotero.url) ...
        zotero.requests  # (path, query, headers) of every request

The key may come as `Zotero-API-Key` or `Authorization: Bearer`, as the real API allows;
a wrong or missing key gets 403, like the real API; an unknown path 404.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.http_server import LoopbackHttpServer


def item(
    key: str,
    title: str,
    abstract: str = "",
    creators: tuple[str, ...] = (),
    kind: str = "journalArticle",
) -> dict[str, Any]:
    """One item as the API returns it (format=json): the fields under `data`."""
    people = []
    for name in creators:
        first, _, last = name.rpartition(" ")
        people.append({"creatorType": "author", "firstName": first, "lastName": last})
    return {
        "key": key,
        "version": 1,
        "data": {
            "key": key,
            "itemType": kind,
            "title": title,
            "abstractNote": abstract,
            "creators": people,
        },
    }


class FakeZotero(LoopbackHttpServer):
    def __init__(
        self,
        *,
        user_id: str,
        api_key: str,
        items: list[dict[str, Any]],
        collections: dict[str, list[dict[str, Any]]] | None = None,
        status: int | None = None,  # answer every request with this status instead
    ) -> None:
        self.user_id = user_id
        self.api_key = api_key
        self.items = items
        self.collections = collections or {}
        self.status = status
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        super().__init__(self._handler())

    @property
    def url(self) -> str:
        return self.root

    def _answer(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, Any]:
        if self.status is not None:
            return self.status, {"error": "scripted"}
        key = headers.get("zotero-api-key") or headers.get("authorization", "").removeprefix(
            "Bearer "
        )
        if key != self.api_key:  # the API takes either header
            return 403, "Forbidden"
        prefix = f"/users/{self.user_id}"
        if path == f"{prefix}/items/top":
            pool = self.items
        elif path.startswith(f"{prefix}/collections/") and path.endswith("/items/top"):
            key = path.removeprefix(f"{prefix}/collections/").removesuffix("/items/top")
            if key not in self.collections:
                return 404, "Collection not found"
            pool = self.collections[key]
        else:
            return 404, "Not found"
        start = int(query.get("start", ["0"])[0])
        limit = int(query.get("limit", ["25"])[0])
        return 200, pool[start : start + limit]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append((parts.path, query, headers))
                status, body = fake._answer(parts.path, query, headers)
                payload = (json.dumps(body) if not isinstance(body, str) else body).encode()
                self.send_response(status)
                kind = "application/json" if not isinstance(body, str) else "text/plain"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                if status == 200:
                    self.send_header("Total-Results", str(len(body)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return None

        return Handler
