"""The pipeline: the stages in order (sources, select, summarize, render, deliver) for one run.

`run` is the run context every step takes (`Run`, made by the command with `open_run`);
`fetch` reads the sources, `pick` one reader's selection, `assemble` the digest, `send` its
delivery, `reader` one reader's whole digest, `flush` the outbox (first in a daily run, and
`digest outbox flush`), and `daily` the one orchestrator of
`digest daily` for one reader or many. `digest topic` (agent.topic) uses the same steps.
"""

from agent.pipeline.assemble import SAMPLE_NOTICE, build_digest, matched_notice
from agent.pipeline.daily import (
    NO_SOURCES,
    DailyJob,
    DailyOptions,
    DailyOutcome,
    ReaderResult,
    plan_daily,
    run_daily,
)
from agent.pipeline.fetch import EMPTY_DAY, EMPTY_SEARCH, FetchOutcome, fetch_all
from agent.pipeline.reader import RunOutcome, Written
from agent.pipeline.run import Progress, Run, ignore, open_run
from agent.pipeline.send import Delivery, digest_key, mark_flushed_digests, send_digest
from agent.readers import reader_dir

__all__ = [
    "EMPTY_DAY",
    "EMPTY_SEARCH",
    "NO_SOURCES",
    "SAMPLE_NOTICE",
    "DailyJob",
    "DailyOptions",
    "DailyOutcome",
    "Delivery",
    "FetchOutcome",
    "Progress",
    "ReaderResult",
    "Run",
    "RunOutcome",
    "Written",
    "build_digest",
    "digest_key",
    "fetch_all",
    "ignore",
    "mark_flushed_digests",
    "matched_notice",
    "open_run",
    "plan_daily",
    "reader_dir",
    "run_daily",
    "send_digest",
]
