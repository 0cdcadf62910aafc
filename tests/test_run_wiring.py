"""How a run is wired (issue 25): the store's Protocols match the SQLite store, a stage works
with nothing but the small store it names, one run context shares one model budget and one
rate limit whose seconds count from the first model work, one orchestrator writes one run
record for one reader or many, and `asyncio.run` is called at the command edge only."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import inspect
import json
from pathlib import Path
from typing import Protocol

import pytest
from pydantic import SecretStr

import agent
from agent.config import LLMSettings, ReaderSettings, Settings, load_settings
from agent.deliver import deliver
from agent.pipeline import DailyOptions, open_run
from agent.storage import protocols
from agent.store import Store
from agent.summarize import choose_engine
from tests.fakes.smtp_server import KEY, digest_message, settings_for, smtp_server
from tests.runs import run_daily

DAY = dt.date(2026, 11, 23)
PACKAGE = Path(agent.__file__).parent


def _protocols() -> list[type]:
    return [
        value
        for name in protocols.__all__
        if isinstance(value := getattr(protocols, name), type) and issubclass(value, Protocol)
    ]


def _members(protocol: type) -> list[str]:
    return [
        name
        for klass in protocol.__mro__
        if klass is not Protocol and klass.__module__ == protocols.__name__
        for name, value in vars(klass).items()
        if inspect.isfunction(value) and not name.startswith("_")
    ]


@pytest.mark.parametrize("protocol", _protocols(), ids=lambda p: p.__name__)
def test_the_sqlite_store_has_each_protocol_method_with_its_signature(protocol: type) -> None:
    members = _members(protocol)
    assert members, f"{protocol.__name__} names no method"
    for name in members:
        wanted = inspect.signature(getattr(protocol, name))
        found = inspect.signature(getattr(Store, name))
        assert found == wanted, f"Store.{name}{found} is not {protocol.__name__}.{name}{wanted}"


class _Ledger:
    """A sent ledger in a dict: all the deliver stage may use of the store."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], str] = {}

    def already_sent(self, digest_key: str, recipient: str) -> bool:
        return (digest_key, recipient.lower()) in self.rows

    def record_sent(self, digest_key: str, recipient: str, message_id: str) -> None:
        self.rows[(digest_key, recipient.lower())] = message_id

    def forget_sent(self, digest_key: str, recipient: str | None = None) -> None:
        self.rows = {
            k: v
            for k, v in self.rows.items()
            if k[0] != digest_key or (recipient is not None and k[1] != recipient)
        }


def test_the_deliver_stage_needs_nothing_of_the_store_but_a_sent_ledger(tmp_path: Path) -> None:
    ledger = _Ledger()
    with smtp_server() as server:
        settings = settings_for(server.port)
        first = deliver(
            digest_message(), digest_key=KEY, settings=settings, store=ledger, outbox_dir=tmp_path
        )
        again = deliver(
            digest_message(), digest_key=KEY, settings=settings, store=ledger, outbox_dir=tmp_path
        )
    assert first.sent == ["reader@example.com"] and again.skipped == ["reader@example.com"]
    assert len(server.messages) == 1
    assert list(ledger.rows) == [(KEY, "reader@example.com")]


def _model_settings(tmp_path: Path, **llm: object) -> Settings:
    values: dict[str, object] = {
        "api_key": SecretStr("sk-wiring"),
        "base_url": "https://models.example.org/v1",
        "local_defaults": False,
        "run_budget_seconds": 600.0,
    }
    values.update(llm)
    return Settings(home=tmp_path, llm=LLMSettings.model_validate(values))


def test_every_engine_of_a_run_shares_its_budget_and_rate_limit(tmp_path: Path) -> None:
    settings = _model_settings(tmp_path, concurrency=7)
    german = settings.model_copy(
        update={"llm": settings.llm.model_copy(update={"language": "German"})}
    )
    with open_run(settings, DAY, choose_engine("llm", settings)) as run:
        relevance, digest = run.model_engine(settings), run.model_engine(german, batch=True)
        assert relevance.meter.budget is digest.meter.budget is run.budget
        assert relevance.limit is digest.limit
        assert relevance.limit.maximum == 7
        relevance.limit.throttled()  # a 429 in the relevance pass ...
        assert digest.limit.limit == 3  # ... holds for the digest's calls too


def test_the_run_budget_counts_its_seconds_from_the_first_model_work(tmp_path: Path) -> None:
    now = [1_000.0]
    settings = _model_settings(tmp_path, run_budget_seconds=600.0)
    with open_run(settings, DAY, choose_engine("llm", settings)) as made:
        run = type(made)(made.settings, made.store, made.date, made.engine, clock=lambda: now[0])
        now[0] += 250.0  # reading the libraries and fetching the sources took 250 s
        budget = run.budget
        assert budget is not None and budget.seconds_left() == 600.0
        now[0] += 100.0
        assert run.budget is budget and budget.seconds_left() == 500.0


def test_the_offline_engine_has_no_model_budget(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with open_run(settings, DAY, choose_engine("offline", settings)) as run:
        assert run.budget is None


def _feed(tmp_path: Path) -> str:
    path = tmp_path / "day.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"2611.2000{i}", "title": f"Retrieval paper {i}", "abstract": "x."})
            + "\n"
            for i in range(3)
        ),
        encoding="utf-8",
    )
    return f"file:{path}"


def test_one_reader_and_several_get_one_run_record_each_from_the_same_orchestrator(
    tmp_path: Path,
) -> None:
    from agent.cli import daily_run

    options = DailyOptions(date=DAY, sources=(_feed(tmp_path),), engine="offline", send=False)
    single = load_settings(None, home=tmp_path / "one", engine="offline")
    outcome = run_daily(single, options)
    readers = single.model_copy(
        update={
            "home": tmp_path / "two",
            "readers": {"ann": ReaderSettings(), "bo": ReaderSettings(max_papers=1)},
        }
    )
    several = daily_run(readers, options)
    with Store.open(single.home) as store:
        [one] = store.runs()
    with Store.open(readers.home) as store:
        [two] = store.runs()
    assert (one["status"], one["counts"]) == ("written", {"selected": 3, "also_new": 0})
    assert one["message"] == outcome.message
    assert (two["status"], two["counts"]) == ("written", {"ann": 3, "bo": 1})
    assert (
        two["message"].startswith("ann: digest written")
        and "; bo: digest written" in two["message"]
    )
    assert [r.reader for r in several.results] == ["ann", "bo"] and several.named


def _asyncio_calls(names: tuple[str, ...]) -> list[str]:
    """The modules of agent/ that call `asyncio.<name>` (or import it by name), one entry a
    call, found by walking each module's syntax tree."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            func = node.func if isinstance(node, ast.Call) else None
            if (
                isinstance(func, ast.Attribute)
                and func.attr in names
                and isinstance(func.value, ast.Name)
                and func.value.id == "asyncio"
            ) or (
                isinstance(node, ast.ImportFrom)
                and node.module == "asyncio"
                and any(alias.name in names for alias in node.names)
            ):
                found.append(str(path.relative_to(PACKAGE)))
    return found


def test_asyncio_run_is_called_at_the_command_edge_only() -> None:
    """One event loop per command, made in cli.py; everything below is a coroutine or plain
    sync code, so no module can start a loop of its own (or a loop on a helper thread)."""
    found = _asyncio_calls(("run", "run_until_complete", "new_event_loop", "Runner"))
    assert found and set(found) == {"cli.py"}, found


def test_no_network_code_runs_on_a_worker_thread() -> None:
    """`asyncio.to_thread` only for a file source, which may be a FIFO that blocks: every
    request is awaited on the command's loop."""
    assert _asyncio_calls(("to_thread",)) == ["sources/local.py"]


def test_the_bounded_client_answers_on_the_callers_event_loop() -> None:
    from agent.core.http import HttpClient, Limits
    from tests.fakes.http_server import Reply, ScriptedHttpServer

    async def probe(url: str) -> bytes:
        answer = await HttpClient().request("GET", url, limits=Limits(timeout=5, max_bytes=1000))
        return answer.content

    with ScriptedHttpServer() as server:
        server.add("/models", Reply(200, b'{"data": []}'))
        assert asyncio.run(probe(f"{server.url}/models")) == b'{"data": []}'


def test_a_daily_outcome_reprs_in_one_short_line_whatever_the_day() -> None:
    """asyncio.run reprs its finished task, result included, when it puts the SIGINT handler
    back (Python 3.11): the outcome's repr must not spell out every source and paper."""
    from agent.models import SourceHealth, Usage
    from agent.pipeline.daily import DailyOutcome, ReaderResult

    health = tuple(SourceHealth(name=f"feed-{i}", status="ok", count=i) for i in range(2_000))
    outcome = DailyOutcome(
        results=(ReaderResult("ana", None, spooled="SMTP down"),),
        health=health,
        engine_reason="offline: " + "x" * 5_000,
        shared=Usage(),
    )
    assert repr(outcome) == "DailyOutcome(status='spooled', readers=[ana=spooled])"
