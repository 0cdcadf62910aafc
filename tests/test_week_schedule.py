"""`digest schedule` kept in the foreground for the week (the README's way to run it every
morning), while the user edits the config between two mornings. The scheduler runs on a clock
that moves only when it sleeps (`run_schedule` takes one), so a week of 07:00 slots takes no
waiting; everything else is the real command: the config file, the loopback arXiv feed, the
state database and the log lines."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import agent.schedule
from agent.cli import main
from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.week_world import Item, feed, write_config

RAN = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}: (.*)$", re.MULTILINE)
TUE = dt.date(2026, 12, 1)


def test_each_scheduled_slot_reads_the_config_anew_and_skips_one_that_no_longer_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schedule runs Tuesday's missed slot at start with max_papers = 30 (8 papers
    summarised); the user lowers it to 3 and Wednesday's slot summarises 3; a typo on
    Wednesday evening (`max_paper = 3`) makes Thursday's slot a one-line error in the log,
    sending nothing, and the scheduler goes on; fixed, Friday's slot runs with 3 again. (The
    config was read once at start: every slot ran with max_papers = 30, and a typo went
    unnoticed until the process was restarted.)"""
    with ScriptedHttpServer() as rss:
        config = write_config(tmp_path, rss.url, None)
        good = config.read_text()
        state = tmp_path / "state"
        state.mkdir()
        last = {"last_slot": "2026-11-30T07:00:00+00:00", "exit_code": 0}
        (state / "schedule.json").write_text(json.dumps(last))
        for name in [n for n in os.environ if n.startswith(("DIGEST_", "OPENAI_"))]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("DIGEST_HOME", str(state))
        monkeypatch.setenv("DIGEST_CONFIG", str(config))
        monkeypatch.setenv("COLUMNS", "200")
        edits = [
            good.replace("max_papers = 30", "max_papers = 3"),
            good.replace("max_papers = 30", "max_paper = 3"),
            good.replace("max_papers = 30", "max_papers = 3"),
        ]
        day = iter(TUE + dt.timedelta(days=n) for n in range(4))
        items = iter(range(0, 40, 8))

        def next_morning() -> None:
            """The feed of the next slot's day: eight papers never seen before."""
            start = next(items)
            rss.add("/rss/cs.CL", Reply(200, feed(next(day), [Item(i) for i in range(start, start + 8)])))  # fmt: skip

        next_morning()

        def between_slots() -> None:
            if not edits:
                raise StopSchedule
            config.write_text(edits.pop(0))
            next_morning()

        _on_a_clock_from(monkeypatch, dt.datetime(2026, 12, 1, 7, 30, tzinfo=dt.UTC), between_slots)
        result = CliRunner().invoke(main, ["schedule", "--cron", "0 7 * * *", "--tz", "UTC"])
    assert result.exit_code == 0, result.output
    runs = RAN.findall(result.stdout)
    assert len(runs) == 3, result.output
    assert runs[0].startswith("digest written: 8 papers in "), runs[0]
    assert runs[1].startswith("digest written: 3 papers in ") and runs[1].endswith(
        ", 5 more listed by title"
    ), runs[1]
    assert runs[2].startswith("digest written: 3 papers in "), runs[2]
    assert result.stderr == (
        f"error: 2026-12-03 07:00: the config no longer loads, so this slot is skipped (nothing "
        f"sent; the next slot reads it again): bad config in {config}: line 2: max_paper: "
        "unknown key, did you mean max_papers?\n"
    )
    assert "Stopped after 4 runs." in result.stdout
    archived = sorted(p.name for p in (state / "archive").iterdir() if p.is_dir())
    assert archived == ["2026-12-01", "2026-12-02", "2026-12-04"]


class StopSchedule(Exception):
    """Raised between two slots to end the test's schedule (as Ctrl-C would)."""


def _on_a_clock_from(
    monkeypatch: pytest.MonkeyPatch, start: dt.datetime, between_slots: Callable[[], None]
) -> None:
    """`digest schedule` on a clock that moves only when the scheduler sleeps, calling
    `between_slots` after each slot (StopSchedule from it stops the schedule)."""
    real = agent.schedule.run_schedule
    now = [start]

    def sleep(seconds: float) -> None:
        now[0] += dt.timedelta(seconds=seconds)

    def on_the_clock(cron: str, job: Callable[[dt.datetime], int], **kwargs: Any) -> int:
        stop, told = kwargs["stop"], kwargs.pop("after_run")

        def after_run(upcoming: dt.datetime) -> None:
            told(upcoming)
            try:
                between_slots()
            except StopSchedule:
                stop.set()

        return real(cron, job, clock=lambda: now[0], sleep=sleep, after_run=after_run, **kwargs)

    monkeypatch.setattr(agent.schedule, "run_schedule", on_the_clock)
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # the test process keeps its own
