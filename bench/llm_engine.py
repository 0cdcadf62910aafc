"""Calls, tokens and wall time of the LLM engine against the fake OpenAI server, with a latency
model (400 ms per call + 5 ms per output token), for 20, 200 and 2,000 papers of the sample
(ids synthesised past its 207), next to a one-call-per-paper baseline (what zotero-arxiv-daily
does: one TLDR call per paper, concurrency 4), and a cached re-run that must make 0 calls.

    .venv/bin/python bench/llm_engine.py [--sizes 20 200 2000] [--concurrency N (default: llm.concurrency)] [--no-baseline]

Input tokens are counted with tiktoken (cl100k) over each request's messages and its JSON
schema, as an OpenAI endpoint would bill them; output tokens are the server's (chars / 4).
Targets printed (never asserted): input tokens <= 1.3 x the abstracts' own tokens + 3,000, and
for 200 papers, wall time <= 2 x the slowest single call (issue 13; it was 3). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import BaseModel, Field, SecretStr

from agent.config import LLMSettings, Settings
from agent.models import Paper
from agent.store import Store
from agent.summarize.llm import (
    ChatRequest,
    LLMEngine,
    Shared,
    UsageMeter,
    build_chat_models,
    count_message_tokens,
    count_tokens,
)
from tests.fakes.blurb_writers import blurbs_answer
from tests.fakes.openai_server import (
    FakeOpenAIServer,
    RecordedRequest,
    Reply,
    request_schema,
)
from tests.llm_answers import sample_papers

LATENCY_PER_CALL = 0.4
LATENCY_PER_OUTPUT_TOKEN = 0.005
MODEL = "gpt-4o-mini"
COUNT_MODEL = "gpt-4o-mini"
SAMPLE_SIZE = len(sample_papers())

# The baseline's prompt, after zotero-arxiv-daily's TLDR call (it also adds the paper's
# introduction and conclusion from the PDF; with abstracts only, this is its lower bound).
BASELINE_SYSTEM = (
    "You are an assistant who perfectly summarizes scientific paper, and gives the core idea "
    "of the paper to the user."
)
BASELINE_USER = (
    "Given the title and abstract of a paper, generate a one-sentence TLDR summary in "
    "English:\n\nTitle: {title}\n\nAbstract: {abstract}"
)

WORDS = [
    "the",
    "model",
    "learns",
    "sparse",
    "attention",
    "patterns",
    "that",
    "cut",
    "memory",
    "while",
    "keeping",
    "accuracy",
    "on",
    "long",
    "inputs",
    "and",
    "the",
    "authors",
    "show",
    "gains",
    "across",
    "retrieval",
    "reasoning",
    "and",
    "translation",
    "benchmarks",
]


def words(count: int, start: int = 0) -> str:
    cycle = itertools.islice(itertools.cycle(WORDS), start, start + count)
    return " ".join(cycle).capitalize() + "."


# -- a model-like handler: realistic answer lengths ----------------------------------------------


def _enum(node: Any) -> list[str]:
    if isinstance(node, dict):
        if "enum" in node:
            return list(node["enum"])
        if isinstance(node.get("const"), str):  # a call of one paper: Literal["P1"]
            return [node["const"]]
        for value in node.values():
            if found := _enum(value):
                return found
    if isinstance(node, list):
        for value in node:
            if found := _enum(value):
                return found
    return []


def bench_answer(body: dict[str, Any]) -> Reply:
    schema, as_tool = request_schema(body)
    props = (schema or {}).get("properties", {})
    ids = _enum(schema)
    if "themes" in props:
        member = "theme_ids" if "theme_ids" in json.dumps(schema) else "paper_ids"
        cap = props["themes"].get("maxItems", 12)
        k = max(1, min(cap, round(len(ids) / (3 if member == "theme_ids" else 15))))
        size = -(-len(ids) // k)
        chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
        content: dict[str, Any] = {
            "themes": [
                {"title": words(6, i), "summary": words(25, i), member: chunk}
                for i, chunk in enumerate(chunks)
            ]
        }
    elif "blurbs" in props:  # each about its own paper, as the engine's checks require
        content = blurbs_answer(RecordedRequest.text_of(body), ids, why=True)
        content["summary"] = words(30)
    elif "headline" in props:
        content = {"headline": words(50)}
    elif "overview" in props:
        content = {"overview": words(110)}
    elif "tldr" in props:
        content = {"tldr": words(45)}
    else:
        content = {}
    return Reply(content, tool_call=as_tool)


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    calls: int
    input_tokens: int
    output_tokens: int
    wall: float
    slowest: float
    steps: str = ""


def slowest(requests: Sequence[RecordedRequest]) -> float:
    """The longest call as the server answered it (a wait for a concurrency slot is not in it)."""
    return max((r.seconds or 0.0 for r in requests), default=0.0)


def billed_input_tokens(requests: Sequence[RecordedRequest]) -> int:
    """tiktoken count of each request's messages plus its JSON schema."""
    total = 0
    for r in requests:
        schema, _ = request_schema(r.body)
        total += count_message_tokens(r.messages, COUNT_MODEL)
        total += count_tokens(json.dumps(schema), COUNT_MODEL) if schema else 0
    return total


def distinct_papers(count: int) -> list[Paper]:
    """The sample's papers, and past its 207 copies whose titles say which copy they are: the
    per-paper blurb cache would otherwise serve every copy the blurb of its original, and a
    2,000-paper day would cost as little as a 207-paper one."""
    papers = sample_papers(count)
    return [
        p
        if i < SAMPLE_SIZE
        else p.model_copy(update={"title": f"{p.title} (copy {i // SAMPLE_SIZE})"})
        for i, p in enumerate(papers)
    ]


def settings_for(srv: FakeOpenAIServer, home: Path, concurrency: int) -> Settings:
    return Settings(
        home=home,
        llm=LLMSettings(
            model=MODEL,
            base_url=srv.base_url,
            api_key=SecretStr("sk-bench-not-a-real-key"),
            # A hosted provider, as the latency model stands for: the loopback address would
            # otherwise switch on the local-server defaults (one slot, small budgets).
            local_defaults=False,
            dialect="json_schema",
            concurrency=concurrency,
            timeout_seconds=120,
            run_budget_seconds=3_600,
        ),
    )


def run_engine(
    srv: FakeOpenAIServer, papers: Sequence[Paper], store: Store, settings: Settings, label: str
) -> Row:
    before = len(srv.chat_requests)
    engine = LLMEngine(settings.llm, store)
    started = time.monotonic()
    summary = asyncio.run(engine.summarize(papers))
    wall = time.monotonic() - started
    requests = srv.chat_requests[before:]
    placed = sorted(b.paper_id for t in summary.themes for b in t.papers)
    assert placed == sorted(p.id for p in papers), "incomplete digest"
    steps = Counter(r.body["response_format"]["json_schema"]["name"] for r in requests)
    return Row(
        label,
        len(requests),
        billed_input_tokens(requests),
        summary.usage.output_tokens,
        wall,
        slowest(requests),
        ", ".join(f"{k} {v}" for k, v in sorted(steps.items())) + f"; {len(summary.themes)} themes",
    )


class Tldr(BaseModel):
    tldr: str = Field(max_length=600)


def run_baseline(srv: FakeOpenAIServer, papers: Sequence[Paper], settings: Settings) -> Row:
    before = len(srv.chat_requests)
    meter = UsageMeter(settings.llm.prices)
    (model,) = build_chat_models(settings.llm, None, Shared(meter), use_cache=False)

    async def go() -> None:
        semaphore = asyncio.Semaphore(4)

        async def one(p: Paper) -> None:
            user = BASELINE_USER.format(title=p.title, abstract=p.abstract)
            request = ChatRequest(
                step="tldr",
                messages=(
                    {"role": "system", "content": BASELINE_SYSTEM},
                    {"role": "user", "content": user},
                ),
                schema=Tldr,
                schema_name="tldr",
                max_output_tokens=300,
                prompt_version="baseline",
            )
            async with semaphore:
                await model.complete(request)

        try:
            await asyncio.gather(*(one(p) for p in papers))
        finally:
            await model.aclose()

    started = time.monotonic()
    asyncio.run(go())
    wall = time.monotonic() - started
    requests = srv.chat_requests[before:]
    return Row(
        "one call per paper",
        len(requests),
        billed_input_tokens(requests),
        meter.total().output_tokens,
        wall,
        slowest(requests),
        "tldr only: no themes, no headline",
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 200, 2000])
    parser.add_argument("--concurrency", type=int, default=LLMSettings().concurrency)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    print(
        f"latency model: {LATENCY_PER_CALL * 1000:.0f} ms per call + "
        f"{LATENCY_PER_OUTPUT_TOKEN * 1000:.0f} ms per output token; "
        f"engine concurrency {args.concurrency}, baseline concurrency 4"
    )
    header = f"{'papers':>6}  {'run':<20}{'calls':>6}{'input tok':>11}{'output tok':>11}{'wall s':>8}{'slowest':>9}"
    with (
        FakeOpenAIServer(
            latency_per_call=LATENCY_PER_CALL,
            latency_per_output_token=LATENCY_PER_OUTPUT_TOKEN,
            handler=bench_answer,
        ) as srv,
        tempfile.TemporaryDirectory() as tmp,
    ):
        for size in args.sizes:
            papers = distinct_papers(size)
            abstracts = sum(count_tokens(p.abstract, COUNT_MODEL) for p in papers)
            titles = sum(count_tokens(p.title, COUNT_MODEL) for p in papers)
            home = Path(tmp) / f"home-{size}"
            settings = settings_for(srv, home, args.concurrency)
            rows = []
            with Store.open(home) as store:
                rows.append(run_engine(srv, papers, store, settings, "engine"))
                rows.append(run_engine(srv, papers, store, settings, "engine, cached re-run"))
            if not args.no_baseline:
                rows.append(run_baseline(srv, papers, settings))
            print()
            print(f"{size} papers: abstracts {abstracts:,} tokens (titles {titles:,} more)")
            print(header)
            for r in rows:
                print(
                    f"{size:>6}  {r.label:<20}{r.calls:>6}{r.input_tokens:>11,}"
                    f"{r.output_tokens:>11,}{r.wall:>8.1f}{r.slowest:>9.1f}   {r.steps}"
                )
            engine = rows[0]
            limit = 1.3 * abstracts + 3_000
            verdict = "ok" if engine.input_tokens <= limit else "OVER"
            print(
                f"  target input <= 1.3 x abstracts + 3,000 = {limit:,.0f}: "
                f"{engine.input_tokens:,} ({engine.input_tokens / abstracts:.2f} x abstracts) {verdict}"
            )
            ratio = engine.wall / engine.slowest if engine.slowest else 0.0
            verdict = f" (target <= 2: {'ok' if ratio <= 2 else 'OVER'})" if size == 200 else ""
            print(f"  wall / slowest call = {ratio:.2f}{verdict}")
            print(f"  cached re-run calls: {rows[1].calls} (target 0)")


if __name__ == "__main__":
    main()
