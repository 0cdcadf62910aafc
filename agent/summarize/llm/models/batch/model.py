"""A chat model that answers through the provider's Batch API: requests that arrive together
(one pipeline stage: the grouping calls, then the blurbs calls with the headline) go out as one
batch, at the batch price.

How a request is answered::

    complete(request)
      batches off (no Batch API here, deadline passed)  -> a direct call
      a follow-up (a re-ask, or asking again after a cut-off or empty answer)
                                                        -> a direct call (llm.batch_reasks)
      else: joins the open round; the round closes once no request came for GATHER_SECONDS,
            and goes out as one batch (or picks up the batch an interrupted run submitted for
            the same request set); polled every llm.batch_poll_seconds until done or the
            deadline (then cancelled). Each request then gets its line's answer (as it came:
            cut off, empty or a refusal is the asker's to judge), or, when its line failed,
            expired or never ran, a direct call.

Validation, re-asks, the answer cache and the fallback chain are the callers' as for any
model: this class only changes how one request reaches the model and what it costs. Direct
calls go through the inner model, so they take the run's rate limit with the fallback's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pydantic
from openai.types.chat import ChatCompletion

from agent.config import LLMSettings
from agent.core import redact
from agent.core.wording import plural
from agent.models import BatchRun
from agent.store import BatchLedger, PendingBatch
from agent.summarize.llm.chat import ChatAnswer, ChatModel, ChatRequest
from agent.summarize.llm.errors import BudgetExceeded, CostCapReached, ModelUnavailable
from agent.summarize.llm.models import dialects
from agent.summarize.llm.models.batch.api import UNSUPPORTED_STATUS, BatchApi, BatchState
from agent.summarize.llm.models.batch.deadline import deadline_in_words, seconds_left
from agent.summarize.llm.models.batch.lines import (
    Line,
    LineResult,
    jsonl,
    line_for,
    parse_results,
)
from agent.summarize.llm.models.batch.lines import request_set as request_set_of
from agent.summarize.llm.models.openai_chat import OpenAIChatModel, answer_of
from agent.summarize.llm.run.tokens import estimate_input_tokens

logger = logging.getLogger(__name__)

GATHER_SECONDS = 0.25  # a round closes once no request joined it for this long
STALE_AFTER = dt.timedelta(hours=25)  # past the 24 h completion window: forget the batch
Clock = Callable[[], float]
Report = Callable[[str], None]


@dataclass
class _Waiting:
    request: ChatRequest
    line: Line
    dialect: str  # the dialect the line was written in (its answer is read in it)
    future: asyncio.Future[ChatAnswer | None]  # None: make a direct call


@dataclass
class _Round:
    loop: asyncio.AbstractEventLoop
    last_arrival: float
    waiting: list[_Waiting] = field(default_factory=list)
    closed: bool = False


class BatchStats:
    """What the batches of a run did so far, as a `models.BatchRun` that `add` moves on."""

    def __init__(self, price_factor: float) -> None:
        self.run = BatchRun(price_factor=price_factor)

    @property
    def price_factor(self) -> float:
        return self.run.price_factor

    def add(self, **counts: float) -> None:
        """Add to the counters (`batches=1`, `cost_usd=0.002`, ...)."""
        current = self.run.model_dump()
        update = {name: current[name] + value for name, value in counts.items()}
        self.run = self.run.model_copy(update=update)

    def note(self, text: str) -> None:
        if text not in self.run.notes:
            logger.warning("batch: %s", text)
            self.run = self.run.model_copy(update={"notes": (*self.run.notes, text)})

    def report(self) -> BatchRun:
        costs = {"cost_usd": round(self.run.cost_usd, 6)}
        costs["list_price_usd"] = round(self.run.list_price_usd, 6)
        return self.run.model_copy(update=costs)


def _copy_outcome(source: asyncio.Future[Any], target: asyncio.Future[Any]) -> None:
    """Give `target` what `source` (settled) got: its answer, None, or its error."""
    if target.done() or not source.done():
        return
    if source.cancelled():
        target.set_result(None)
    elif source.exception() is not None:
        target.set_exception(source.exception())  # type: ignore[arg-type]
    else:
        target.set_result(source.result())


class BatchChatModel(ChatModel):
    """`inner`'s requests, sent through the Batch API of its endpoint (see the module doc)."""

    def __init__(
        self,
        inner: OpenAIChatModel,
        llm: LLMSettings,
        *,
        store: BatchLedger | None,
        stats: BatchStats,
        report: Report | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.base_url = inner.base_url
        self.store = store
        self.meter = inner.meter
        self.stats = stats
        self.report = report  # hears "waiting for batch ..."
        self.endpoint = dialects.endpoint_of(llm.base_url)
        self.api = BatchApi(
            inner.new_client,
            inner.transport,
            max_answer_bytes=llm.max_answer_bytes,
            seconds_left=lambda: self._deadline - self._clock(),
        )
        self.poll_seconds = llm.batch_poll_seconds
        self.reasks = llm.batch_reasks
        self.deadline_text = deadline_in_words(llm.batch_deadline)
        self.gather_seconds = GATHER_SECONDS
        self._clock = clock
        deadline_seconds = seconds_left(llm.batch_deadline)
        self._deadline = clock() + deadline_seconds
        self._round: _Round | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._off: str | None = None  # why every request goes direct from now on
        self._pruned = False
        if deadline_seconds <= 0:
            self._turn_off(f"the batch deadline {self.deadline_text} had passed at the start")

    def __repr__(self) -> str:
        return f"BatchChatModel({self.inner!r})"

    def _turn_off(self, reason: str) -> None:
        if self._off is None:
            self._off = reason
            self.stats.note(f"{reason}; direct calls from then on")

    # -- answering ------------------------------------------------------------------------------

    async def complete(self, request: ChatRequest) -> ChatAnswer:
        if self._off is None and self._clock() >= self._deadline:
            self._turn_off(f"the batch deadline {self.deadline_text} passed")
        if self._off is not None or (self.reasks == "direct" and request.follow_up):
            return await self._direct(request)
        loop = asyncio.get_running_loop()
        dialect = self.inner.body_dialect
        waiting = _Waiting(
            request, line_for(self.inner.body(request)), dialect, loop.create_future()
        )
        self._open_round(loop).waiting.append(waiting)
        answer = await waiting.future
        return answer if answer is not None else await self._direct(request)

    async def _direct(self, request: ChatRequest) -> ChatAnswer:
        self.stats.add(direct=1)
        return await self.inner.complete(request)

    def _open_round(self, loop: asyncio.AbstractEventLoop) -> _Round:
        now = self._clock()
        current = self._round
        if current is None or current.closed or current.loop is not loop:
            current = self._round = _Round(loop, now)
            task = loop.create_task(self._run_round(current))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        current.last_arrival = now
        return current

    async def _run_round(self, round_: _Round) -> None:
        while (quiet := round_.last_arrival + self.gather_seconds - self._clock()) > 0:
            await asyncio.sleep(quiet)
        round_.closed = True
        if self._round is round_:
            self._round = None
        live = [w for w in round_.waiting if not w.future.done()]
        try:
            results = await self._results(live) if live and self._off is None else {}
            settled: dict[str, _Waiting] = {}  # one answer (and one charge) per line
            for waiting in live:
                first = settled.setdefault(waiting.line.custom_id, waiting)
                if first is waiting:
                    self._settle(waiting, results.get(waiting.line.custom_id))
                else:
                    _copy_outcome(first.future, waiting.future)
        except BaseException as exc:
            for waiting in live:
                if not waiting.future.done():
                    waiting.future.set_result(None)  # a direct call, whatever broke here
            if not isinstance(exc, Exception):
                raise
            logger.warning("batch: %s; direct calls instead", exc, exc_info=True)

    def _settle(self, waiting: _Waiting, result: LineResult | None) -> None:
        """Give a waiting request its answer, or None (a direct call)."""
        if waiting.future.done():
            return
        answer = None
        if result is not None and result.completion is not None:
            answer = self._answer(waiting, result.completion)
        if answer is not None:
            self.stats.add(requests=1)
        waiting.future.set_result(answer)

    def _answer(self, waiting: _Waiting, body: dict[str, Any]) -> ChatAnswer | None:
        """A line's completion as an answer at the batch price; None when it is not a chat
        completion (then a direct call)."""
        try:
            completion = ChatCompletion.model_validate(body)
        except pydantic.ValidationError:
            return None
        limit = waiting.request.max_output_tokens
        answer = answer_of(completion, waiting.dialect, self.name, output_limit=limit)
        factor = self.stats.price_factor
        self.meter.add(answer.model, answer.usage, factor)
        priced = self.meter.priced(answer.model, answer.usage, factor)
        list_price = self.meter.cost(answer.model, answer.usage)
        self.stats.add(cost_usd=priced.cost_usd, list_price_usd=list_price)
        return dataclasses.replace(answer, usage=priced)

    # -- one batch ------------------------------------------------------------------------------

    async def _results(self, live: list[_Waiting]) -> dict[str, LineResult]:
        """The result lines for these requests ({} for those that must go direct): from the
        pending batches of an earlier run that hold some of them, and one new batch for the
        rest, all waited for at once."""
        lines = list({w.line.custom_id: w.line for w in live}.values())
        wanted = {line.custom_id for line in lines}
        collecting = []
        for pending in self._pending(wanted):
            state = await self._resume(pending)
            if state is not None:
                mine = pending.ids & wanted
                wanted -= mine
                collecting.append(self._collect(state, pending.request_set, mine))
        rest = [line for line in lines if line.custom_id in wanted]
        refused = self._refused_by_budget(rest) if rest else None
        if refused is not None:
            self.stats.note(
                f"a batch of {plural(len(rest), 'request')} would pass {refused}; "
                "sent as direct calls, each checked against it"
            )
        elif rest:
            key = request_set_of(rest, self.endpoint)
            state = await self._submit(key, rest)
            if state is not None:
                collecting.append(self._collect(state, key, [line.custom_id for line in rest]))
        results: dict[str, LineResult] = {}
        for found in await asyncio.gather(*collecting):
            results.update(found)
        return results

    async def _collect(
        self, state: BatchState, key: str, ids: Iterable[str]
    ) -> dict[str, LineResult]:
        """Wait for a batch, then read the result lines of `ids` from its files."""
        state = await self._wait(state, key)
        ids = sorted(ids)
        results: dict[str, LineResult] = {}
        for file_id in (state.error_file_id, state.output_file_id):
            if file_id:
                try:
                    results.update(parse_results(await self.api.content(file_id, len(ids)), ids))
                except ModelUnavailable as exc:
                    self.stats.note(f"batch {state.id}: results not downloaded ({exc})")
        answered = sum(1 for r in results.values() if r.completion is not None)
        if state.status != "completed" or answered < len(ids):
            self.stats.note(self._outcome(state, answered, len(ids), results))
        if state.done:
            self._forget(key)
        return results

    def _outcome(
        self, state: BatchState, answered: int, total: int, results: dict[str, LineResult]
    ) -> str:
        first = next((r.error for r in results.values() if r.error), None) or state.errors
        why = f" ({first})" if first else ""
        left = total - answered
        return (
            f"batch {state.id} {state.status}: {answered} of {plural(total, 'request')} "
            f"answered{why}; {left} sent as direct calls"
        )

    def _refused_by_budget(self, lines: list[Line]) -> str | None:
        """Have the run's budget admit a batch of these lines (at the batch price); the limit
        it would pass ("the cost cap", "the run's budget") when it does not."""
        tokens_in = sum(estimate_input_tokens(line.body["messages"], self.name) for line in lines)
        tokens_out = sum(self._max_tokens(line.body) for line in lines)
        factor = self.stats.price_factor
        try:
            self.meter.check(self.name, tokens_in, tokens_out, calls=len(lines), factor=factor)
        except CostCapReached:
            return "the cost cap"
        except BudgetExceeded:
            return "the run's budget"
        return None

    @staticmethod
    def _max_tokens(body: dict[str, Any]) -> int:
        value = body.get("max_completion_tokens", body.get("max_tokens", 0))
        return int(value) if isinstance(value, int) else 0

    async def _resume(self, pending: PendingBatch) -> BatchState | None:
        """A batch an earlier run submitted, when the provider still has it."""
        try:
            state = await self.api.retrieve(pending.batch_id)
        except ModelUnavailable as exc:
            logger.info("batch: %s from an earlier run is gone (%s)", pending.batch_id, exc)
            self._forget(pending.request_set)
            return None
        self.stats.add(resumed=1)
        logger.info("batch: collecting %s, submitted by an earlier run", pending.batch_id)
        return state

    async def _submit(self, key: str, lines: list[Line]) -> BatchState | None:
        try:
            state = await self.api.submit(jsonl(lines), key)
        except ModelUnavailable as exc:
            if exc.status_code in UNSUPPORTED_STATUS:
                # redacted: the note is printed and kept in digest.json, and a base_url may
                # carry a password (user:pass@host) or a key in its query
                where = redact.redact(self.endpoint) if self.endpoint else "the endpoint"
                self._turn_off(f"{where} has no Batch API (HTTP {exc.status_code})")
            else:
                self.stats.note(f"batch not submitted ({exc}); sent as direct calls")
            return None
        self.stats.add(batches=1)
        logger.info("batch: submitted %s (%s)", state.id, plural(len(lines), "request"))
        self._remember(key, state.id, [line.custom_id for line in lines])
        return state

    async def _wait(self, state: BatchState, key: str) -> BatchState:
        """Poll until the batch is done or the deadline passes (then cancel it)."""
        while not state.done:
            left = self._deadline - self._clock()
            if left <= 0:
                self._turn_off(f"the batch deadline {self.deadline_text} passed")
                try:
                    state = await self.api.cancel(state.id)
                except ModelUnavailable as exc:
                    logger.warning("batch: %s not cancelled (%s)", state.id, exc)
                self._forget(key)
                return state
            if self.report is not None:
                self.report(
                    f"waiting for batch {state.id} ({state.status}; "
                    f"until {self.deadline_text} at the latest)"
                )
            await asyncio.sleep(min(self.poll_seconds, left))
            try:
                state = await self.api.retrieve(state.id)
            except ModelUnavailable as exc:
                logger.info("batch: %s not polled (%s); trying again", state.id, exc)
        return state

    # -- the pending-batch record -----------------------------------------------------------------

    def _pending(self, wanted: set[str]) -> list[PendingBatch]:
        """Recorded batches of this endpoint that hold some of the `wanted` requests."""
        if self.store is None:
            return []
        try:
            if not self._pruned:
                self._pruned = True
                self.store.forget_batches_before(dt.datetime.now(dt.UTC) - STALE_AFTER)
            found = self.store.pending_batches(self.endpoint)
        except (sqlite3.Error, ValueError) as exc:
            logger.warning("batch: pending batches unreadable (%s)", type(exc).__name__)
            return []
        return [pending for pending in found if pending.ids & wanted]

    def _remember(self, key: str, batch_id: str, ids: list[str]) -> None:
        if self.store is None:
            return
        try:
            self.store.remember_batch(key, self.endpoint, batch_id, ids)
        except sqlite3.Error as exc:
            logger.warning("batch: %s not recorded (%s)", batch_id, type(exc).__name__)

    def _forget(self, key: str) -> None:
        if self.store is None:
            return
        try:
            self.store.forget_batch(key)
        except sqlite3.Error as exc:
            logger.warning("batch: record not cleared (%s)", type(exc).__name__)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.api.aclose()
        await self.inner.aclose()


__all__ = ["GATHER_SECONDS", "BatchChatModel", "BatchStats"]
