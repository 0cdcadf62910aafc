"""Several readers on one day against the fake OpenAI server: what blurbs, grouping and the
whole run cost as readers grow (1, 5, 10, 20 readers with different interests over one
200-paper day of the bundled sample), next to the blurbs of one reader whose selection is the
union of theirs. Latency model as bench/llm_engine.py (400 ms per call + 5 ms per output token).

    .venv/bin/python bench/readers.py [--readers 1 5 10 20] [--papers 200] [--latency 0.4]

Blurb tokens are the blurbs calls' input (tiktoken cl100k over messages and schema, as an
OpenAI endpoint bills them) plus output (the answers' tokens). Targets printed, never
asserted: blurb tokens <= 1.3 x the union's; grouping calls grow linearly with readers.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from llm_engine import (  # the bench directory, for its model-like answers
    COUNT_MODEL,
    LATENCY_PER_OUTPUT_TOKEN,
    MODEL,
    bench_answer,
    billed_input_tokens,
)
from pydantic import SecretStr

from agent.cli import daily_run
from agent.config import LLMSettings, ReaderSettings, Settings
from agent.models import Paper
from agent.pipeline import DailyOptions, reader_dir
from agent.store import Store
from agent.summarize.llm import LLMEngine, count_tokens
from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest, Reply
from tests.llm_answers import sample_papers

DAY = dt.date(2026, 11, 26)
INTERESTS = [
    "large language model reasoning",
    "image generation with diffusion models",
    "reinforcement learning agents",
    "speech and audio",
    "robot manipulation",
    "graph neural networks",
    "retrieval augmented generation",
    "code generation",
    "video understanding",
    "medical imaging",
    "efficient inference and quantization",
    "multimodal vision language models",
    "alignment and safety",
    "3D reconstruction and scenes",
    "time series forecasting",
    "recommendation systems",
    "federated learning and privacy",
    "mathematical reasoning and theorem proving",
    "benchmarks and evaluation",
    "optimization and training dynamics",
]


class Recorder:
    """The fake server's handler, noting each answer's output tokens by step."""

    def __init__(self) -> None:
        self.output: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Reply:
        reply = bench_answer(body)
        step = body["response_format"]["json_schema"]["name"]
        if step == "grouping" and isinstance(reply.content, dict):
            # Each reader's day gets its own theme titles (as a model would give), so that
            # their headline calls differ too and none is answered from another's cache.
            mark = f" {zlib.crc32(RecordedRequest.text_of(body).encode()) % 997}"
            themes = [{**t, "title": t["title"] + mark} for t in reply.content["themes"]]
            reply = dataclasses.replace(reply, content={"themes": themes})
        with self.lock:
            self.output[step] += count_tokens(reply.text() or "", COUNT_MODEL)
        return reply


def steps(requests: Sequence[RecordedRequest]) -> Counter[str]:
    return Counter(r.body["response_format"]["json_schema"]["name"] for r in requests)


def blurb_requests(requests: Sequence[RecordedRequest]) -> list[RecordedRequest]:
    return [r for r in requests if r.body["response_format"]["json_schema"]["name"] == "blurbs"]


def llm(srv: FakeOpenAIServer) -> LLMSettings:
    return LLMSettings(
        model=MODEL,
        base_url=srv.base_url,
        api_key=SecretStr("sk-bench-not-a-real-key"),
        dialect="json_schema",
        local_defaults=False,
        timeout_seconds=120,
        run_budget_seconds=3_600,
    )


def write_day(path: Path, papers: Sequence[Paper]) -> Path:
    path.write_text(
        "".join(
            json.dumps({"id": f"2611.{i:05d}", "title": p.title, "abstract": p.abstract}) + "\n"
            for i, p in enumerate(papers)
        ),
        encoding="utf-8",
    )
    return path


def selected(home: Path, name: str) -> list[str]:
    data = json.loads((home / "archive" / reader_dir(DAY, name) / "digest.json").read_text())
    return [p["id"] for theme in data["themes"] for p in theme["papers"]]


def run(srv: FakeOpenAIServer, rec: Recorder, tmp: Path, day: Path, readers: int) -> dict[str, Any]:
    home = tmp / f"home-{readers}"
    names = [f"r{i:02d}" for i in range(readers)]
    settings = Settings(
        home=home,
        llm=llm(srv),
        readers={
            n: ReaderSettings(interests=INTERESTS[i % len(INTERESTS)]) for i, n in enumerate(names)
        },
    )
    options = DailyOptions(date=DAY, sources=(f"file:{day}",), engine="llm", send=False)
    before, out_before = len(srv.chat_requests), rec.output["blurbs"]
    started = time.monotonic()
    outcome = daily_run(settings, options)
    wall = time.monotonic() - started
    cost = outcome.shared.cost_usd + sum(
        r.outcome.digest.usage.cost_usd
        for r in outcome.results
        if r.outcome is not None and r.outcome.digest is not None
    )
    requests = srv.chat_requests[before:]
    blurbs = billed_input_tokens(blurb_requests(requests)) + rec.output["blurbs"] - out_before
    union = sorted({pid for n in names for pid in selected(home, n)})
    return {"requests": requests, "blurbs": blurbs, "wall": wall, "union": union, "cost": cost}


def union_blurbs(
    srv: FakeOpenAIServer, rec: Recorder, tmp: Path, papers: dict[str, Paper], ids: list[str]
) -> int:
    """Blurb tokens of one reader whose selection is the union (a fresh state, no cache)."""
    home = tmp / f"union-{len(ids)}-{time.monotonic_ns()}"
    settings = Settings(home=home, llm=llm(srv))
    before, out_before = len(srv.chat_requests), rec.output["blurbs"]
    with Store.open(home) as store:
        asyncio.run(LLMEngine(settings.llm, store).summarize([papers[i] for i in ids]))
    requests = blurb_requests(srv.chat_requests[before:])
    return billed_input_tokens(requests) + rec.output["blurbs"] - out_before


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, nargs="+", default=[1, 5, 10, 20])
    parser.add_argument("--papers", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.4, help="seconds per call")
    args = parser.parse_args(argv)
    rec = Recorder()
    print(
        f"{args.papers} papers of the sample, max_papers 30 per reader; latency model "
        f"{args.latency * 1000:.0f} ms per call + {LATENCY_PER_OUTPUT_TOKEN * 1000:.0f} ms per "
        f"output token; concurrency {LLMSettings().concurrency}; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"{'readers':>7}{'union':>7}{'blurb tok':>11}{'union tok':>11}{'ratio':>7}"
        f"{'blurb calls':>12}{'grouping':>10}{'total calls':>12}{'wall s':>8}{'cost $':>9}"
    )
    with (
        FakeOpenAIServer(
            latency_per_call=args.latency,
            latency_per_output_token=LATENCY_PER_OUTPUT_TOKEN,
            handler=rec,
        ) as srv,
        tempfile.TemporaryDirectory() as tmp_name,
    ):
        tmp = Path(tmp_name)
        papers = sample_papers(args.papers)
        day = write_day(tmp / "day.jsonl", papers)
        by_id = {
            f"2611.{i:05d}": p.model_copy(update={"id": f"2611.{i:05d}", "source": f"file:{day}"})
            for i, p in enumerate(papers)
        }
        for count in args.readers:
            got = run(srv, rec, tmp, day, count)
            union = union_blurbs(srv, rec, tmp, by_id, got["union"])
            made = steps(got["requests"])
            ratio = got["blurbs"] / union if union else 0.0
            print(
                f"{count:>7}{len(got['union']):>7}{got['blurbs']:>11,}{union:>11,}{ratio:>7.2f}"
                f"{made['blurbs']:>12}{made['grouping']:>10}{len(got['requests']):>12}"
                f"{got['wall']:>8.1f}{got['cost']:>9.4f}"
            )
    print("target: ratio <= 1.3; grouping calls linear in readers (one per reader and day)")
    print(f"cost at the {MODEL} prices of the config (the engine's own estimate)")


if __name__ == "__main__":
    main()
