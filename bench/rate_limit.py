"""Does the adaptive rate limit (halve on 429, grow back) pay, against a plain semaphore?

The model engine runs one day of the sample against the fake OpenAI server standing for a
provider that rate-limits, once with the run's `AdaptiveLimit` and once with the same limit
pinned at `llm.concurrency` (a plain semaphore: `AdaptiveLimit(n, minimum=n)`). Everything else
is the default transport: 4 attempts, Retry-After honoured, backoff with jitter, circuit breaker
after 3 failed calls. Two kinds of provider:

- ``concN``: answers 429 (``Retry-After: 0``) to a call that arrives while N are in flight, as a
  per-key concurrency limit does;
- ``rpsR`` / ``rpsR-nohint``: a token bucket of R requests a second (burst R), answering 429
  with the wait until the next token in ``retry-after-ms``, or with no hint at all.

It prints, per provider and limit: the wall time, the requests made, the 429s, the steps that
fell back and the blurbs the offline engine wrote (the cost of a limit that does not back off).
Latency model as bench/llm_engine.py (400 ms a call + 5 ms an output token). Numbers only.

    .venv/bin/python bench/rate_limit.py [--papers 200] [--providers conc2 conc4 rps4 rps4-nohint]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.summarize.llm import LLMEngine, Shared, UsageMeter, build_chat_models, run_budget
from agent.summarize.llm.run.limit import AdaptiveLimit
from bench.llm_engine import bench_answer, distinct_papers, settings_for
from tests.fakes.openai_server import FakeOpenAIServer, Fault, Reply

LATENCY_PER_CALL = 0.4
LATENCY_PER_OUTPUT_TOKEN = 0.005


class Bucket:
    """A request-rate limit: `rate` tokens a second, at most `rate` banked; 429 when empty."""

    def __init__(self, rate: float, *, hint: bool) -> None:
        self.rate, self.tokens, self.hint = rate, rate, hint
        self.at = time.monotonic()
        self.limited = 0
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Reply | Fault:
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens < 1:
                self.limited += 1
                wait_ms = int((1 - self.tokens) / self.rate * 1000)
                headers = {"retry-after-ms": str(wait_ms)} if self.hint else {}
                return Fault.http(429, headers=headers)
            self.tokens -= 1
        return bench_answer(body)


def provider(name: str) -> tuple[dict[str, Any], Callable[[FakeOpenAIServer], int]]:
    """The fake server's arguments for a provider, and how to read its 429 count."""
    if name.startswith("conc"):
        return {"rate_limit": int(name[4:]), "handler": bench_answer}, lambda srv: srv.rate_limited
    rate, _, nohint = name[3:].partition("-")
    bucket = Bucket(float(rate), hint=not nohint)
    return {"handler": bucket}, lambda srv: bucket.limited


def run(name: str, adaptive: bool, papers: int, concurrency: int) -> str:
    kwargs, limited = provider(name)
    with (
        FakeOpenAIServer(
            latency_per_call=LATENCY_PER_CALL,
            latency_per_output_token=LATENCY_PER_OUTPUT_TOKEN,
            **kwargs,
        ) as srv,
        tempfile.TemporaryDirectory() as tmp,
    ):
        settings = settings_for(srv, Path(tmp), concurrency)
        limit = AdaptiveLimit(concurrency, minimum=1 if adaptive else concurrency)
        meter = UsageMeter(settings.llm.prices, run_budget(settings.llm))
        models = build_chat_models(settings.llm, None, Shared(meter, limit), use_cache=False)
        engine = LLMEngine(settings.llm, None, models=models, meter=meter)
        started = time.monotonic()
        summary = asyncio.run(engine.summarize(distinct_papers(papers)))
        wall = time.monotonic() - started
        offline = sum(b.engine == "offline" for t in summary.themes for b in t.papers)
        fell_back = sum(n.fallback == "offline engine" for n in summary.degraded)
        return (
            f"{name:<12}{'adaptive' if adaptive else 'semaphore':<11}{wall:>7.1f}"
            f"{len(srv.chat_requests):>10}{limited(srv):>7}{fell_back:>11}{offline:>9}"
            f"{limit.lowest:>8}"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--providers", nargs="+", default=["conc2", "conc4", "rps4", "rps4-nohint"])
    args = parser.parse_args(argv)
    print(
        f"{args.papers} papers, llm.concurrency {args.concurrency}; latency "
        f"{LATENCY_PER_CALL * 1000:.0f} ms a call + {LATENCY_PER_OUTPUT_TOKEN * 1000:.0f} ms "
        "an output token"
    )
    print(
        f"{'provider':<12}{'limit':<11}{'wall s':>7}{'requests':>10}{'429s':>7}"
        f"{'fell back':>11}{'offline':>9}{'lowest':>8}"
    )
    for name in args.providers:
        for adaptive in (True, False):
            print(run(name, adaptive, args.papers, args.concurrency), flush=True)


if __name__ == "__main__":
    main()
