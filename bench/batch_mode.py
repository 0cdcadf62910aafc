"""Batch mode against direct calls on the fake OpenAI server: requests, HTTP calls, batches
(each one a wait for the provider's turnaround), wall time and cost, for one day of N papers
of the sample (default 200), with 1 in RE_ASK_EVERY blurbs answers invalid the first time so
that the re-ask choice shows.

    .venv/bin/python bench/batch_mode.py [--papers 200] [--turnaround-polls 3] [--poll 0.1]

Direct calls get the fake's latency model (400 ms per call + 5 ms per output token, 8 in
flight). A batch is answered after `--turnaround-polls` polls `--poll` seconds apart: on the
fake that is a second or so; at a real provider it is minutes to hours, so read the "batches
waited on in a row" column as the number of turnarounds the run waits for. Prints numbers;
asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import SecretStr

from agent.config import LLMSettings, Settings
from agent.store import Store
from agent.summarize.llm import LLMEngine
from tests.fakes.openai_batches import BatchScript
from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest, Reply, request_schema
from tests.llm_answers import answer_from_schema, sample_papers

RE_ASK_EVERY = 3


def answer(body: dict[str, Any]) -> Reply:
    """Valid answers, except that every RE_ASK_EVERY-th blurbs request (by its prompt's hash)
    leaves a paper out on the first ask."""
    schema, _ = request_schema(body)
    assert schema is not None
    prompt = RecordedRequest.text_of(body)
    content = answer_from_schema(schema, themes=8, prompt=prompt)
    first = not any(m.get("role") == "assistant" for m in body["messages"])
    unlucky = int(hashlib.sha256(prompt.encode()).hexdigest(), 16) % RE_ASK_EVERY == 0
    if first and unlucky and len(content.get("blurbs", [])) > 1:
        content["blurbs"] = content["blurbs"][1:]
    return Reply(content)


def run(mode: str, papers: int, polls: int, poll: float) -> dict[str, Any]:
    with (
        FakeOpenAIServer(
            handler=answer, latency_per_call=0.4, latency_per_output_token=0.005
        ) as srv,
        tempfile.TemporaryDirectory() as home,
    ):
        srv.batches.script(*[BatchScript("complete", polls=polls)] * 20)
        llm = LLMSettings(
            model="gpt-4o-mini",
            base_url=srv.base_url,
            api_key=SecretStr("sk-bench"),
            dialect="json_schema",
            local_defaults=False,
            batch=mode != "direct",
            batch_reasks="batch" if mode == "batch, re-asks batched" else "direct",
            batch_poll_seconds=poll,
        )
        settings = Settings(home=Path(home), llm=llm)
        with Store.open(Path(home)) as store:
            started = time.monotonic()
            summary = asyncio.run(
                LLMEngine(settings.llm, store, batch=True).summarize(sample_papers(papers))
            )
            wall = time.monotonic() - started
        kinds = Counter(_kind(r) for r in srv.requests)
        batch = summary.model_run.batch if summary.model_run else None
        return {
            "mode": mode,
            "answers": summary.usage.calls,
            "direct": kinds["chat"],
            "batches": len(srv.batches.creates),
            "lines": srv.batches.lines_run,
            "http": sum(kinds.values()),
            "polls": kinds["retrieve"],
            "wall": wall,
            "cost": summary.usage.cost_usd,
            "list": batch.list_price_usd + (summary.usage.cost_usd - batch.cost_usd)
            if batch
            else summary.usage.cost_usd,
            "offline": summary.model_run.offline_blurbs if summary.model_run else 0,
        }


def _kind(request: RecordedRequest) -> str:
    path = request.path.split("?")[0]
    if path.endswith("/chat/completions"):
        return "chat"
    if path.endswith("/content"):
        return "download"
    if path.endswith("/files"):
        return "upload"
    if path.endswith("/batches"):
        return "create"
    return "retrieve" if "/batches/" in path else "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=200)
    parser.add_argument("--turnaround-polls", type=int, default=3)
    parser.add_argument("--poll", type=float, default=0.1)
    args = parser.parse_args()
    rows = [
        run(mode, args.papers, args.turnaround_polls, args.poll)
        for mode in ("direct", "batch, re-asks direct", "batch, re-asks batched")
    ]
    print(f"{args.papers} papers; 1 in {RE_ASK_EVERY} blurbs answers invalid at first")
    head = (
        f"{'mode':<24}{'answers':>8}{'direct':>8}{'batches':>8}{'lines':>7}{'HTTP':>6}"
        f"{'polls':>7}{'wall s':>8}{'cost $':>9}{'list $':>9}{'offline':>8}"
    )
    print(head)
    for r in rows:
        print(
            f"{r['mode']:<24}{r['answers']:>8}{r['direct']:>8}{r['batches']:>8}{r['lines']:>7}"
            f"{r['http']:>6}{r['polls']:>7}{r['wall']:>8.2f}{r['cost']:>9.4f}{r['list']:>9.4f}"
            f"{r['offline']:>8}"
        )
    print("batches = turnarounds waited for in a row (one per stage, plus one per re-ask round")
    print("when re-asks are batched); cost is at the batch price, list at the configured prices;")
    print("offline = blurbs the scripted answers still left out after the follow-up ask (the")
    print("same in every mode: it is the script, not the engine)")


if __name__ == "__main__":
    main()
