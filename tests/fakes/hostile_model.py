"""Model-side misbehaviour of issue 23, shared by its tests and its bench script: a model that
writes every address an abstract asks for into its prose, and a Batch API whose status call
hangs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest, Reply, request_schema
from tests.llm_answers import answer_from_schema

ADDRESSES = [
    "See evil.example/phish for the code.",
    "Details at bit.ly/3xYz today.",
    "A mirror on 203.0.113.5/x now.",
    "Write to attacker@evil-phish.com please.",
]


def complying_model(body: dict[str, Any]) -> Reply:
    """A fake-server handler: valid answers whose every prose field carries an address."""
    schema, as_tool = request_schema(body)
    assert schema is not None
    answer = answer_from_schema(schema, prompt=RecordedRequest.text_of(body))
    for i, blurb in enumerate(answer.get("blurbs", [])):
        blurb["blurb"] = f"They report a result. {ADDRESSES[i % len(ADDRESSES)]}"
        blurb["why_it_matters"] = ADDRESSES[(i + 1) % len(ADDRESSES)]
    for key in ("headline", "overview", "summary"):
        if key in answer:
            answer[key] = f"Today's papers. {ADDRESSES[0]}"
    for theme in answer.get("themes", []):
        theme["summary"] = ADDRESSES[3]
    return Reply(answer, tool_call=as_tool)


@contextmanager
def hanging_batch_status(srv: FakeOpenAIServer, seconds: float = 3600) -> Iterator[None]:
    """While inside, every Batch API status call (GET /batches/ID) hangs (up to `seconds`)."""
    release = threading.Event()
    answer = srv.batches.retrieve

    def hang(batch_id: str) -> Any:
        release.wait(seconds)
        return answer(batch_id)

    srv.batches.retrieve = hang  # type: ignore[method-assign]
    try:
        yield
    finally:
        release.set()
        srv.batches.retrieve = answer  # type: ignore[method-assign]
