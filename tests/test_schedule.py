"""The scheduler: cron slots in a time zone across DST, the missed slot, a fake-clock loop."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.errors import ConfigError
from agent.schedule import next_fire_times, run_schedule

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC


class FakeTime:
    """A clock that only moves when the scheduler sleeps."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += dt.timedelta(seconds=seconds)


def test_next_fire_times_across_the_spring_dst_change() -> None:
    # Thursday 2025-03-27 12:00 UTC; Berlin springs forward on Sunday 2025-03-30
    start = dt.datetime(2025, 3, 27, 12, 0, tzinfo=UTC)
    times = next_fire_times("0 7 * * 1-5", "Europe/Berlin", start, 4)
    assert [t.replace(tzinfo=None) for t in times] == [
        dt.datetime(2025, 3, 28, 7, 0),
        dt.datetime(2025, 3, 31, 7, 0),
        dt.datetime(2025, 4, 1, 7, 0),
        dt.datetime(2025, 4, 2, 7, 0),
    ]
    assert [t.astimezone(UTC).hour for t in times] == [6, 5, 5, 5]
    assert all(t.tzinfo is not None and t.tzinfo.key == "Europe/Berlin" for t in times)  # type: ignore[union-attr]


def test_autumn_repeated_hour_runs_once() -> None:
    start = dt.datetime(2025, 10, 25, 12, 0, tzinfo=UTC)
    times = next_fire_times("30 2 * * *", "Europe/Berlin", start, 3)
    assert [t.date() for t in times] == [
        dt.date(2025, 10, 26),
        dt.date(2025, 10, 27),
        dt.date(2025, 10, 28),
    ]


def test_invalid_cron_and_zone_are_config_errors() -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    for bad in ("61 7 * * *", "every morning", "0 7 * *", "0 7 * * * *"):
        with pytest.raises(ConfigError, match="invalid cron expression") as caught:
            next_fire_times(bad, "UTC", start, 1)
        assert "\n" not in str(caught.value)
    with pytest.raises(ConfigError, match="unknown time zone"):
        next_fire_times("0 7 * * *", "Mars/Olympus", start, 1)
    assert len(next_fire_times("@daily", None, start, 2)) == 2


def test_missed_slot_runs_once_on_start(tmp_path: Path) -> None:
    state = tmp_path / "schedule.json"
    state.write_text(json.dumps({"last_slot": "2025-03-27T07:00:00+01:00"}))
    # started Friday 09:30 Berlin: the 07:00 slot was missed
    fake = FakeTime(dt.datetime(2025, 3, 28, 9, 30, tzinfo=BERLIN))
    stop = threading.Event()
    ran: list[dt.datetime] = []

    def job(slot: dt.datetime) -> int:
        ran.append(slot)
        return 0

    def sleep(seconds: float) -> None:
        stop.set()  # stop instead of waiting for Monday

    runs = run_schedule(
        "0 7 * * 1-5",
        job,
        tz="Europe/Berlin",
        clock=fake.clock,
        sleep=sleep,
        state_path=state,
        stop=stop,
    )
    assert runs == 1
    assert ran == [dt.datetime(2025, 3, 28, 7, 0, tzinfo=BERLIN)]
    recorded = json.loads(state.read_text())
    assert dt.datetime.fromisoformat(recorded["last_slot"]) == ran[0]
    assert recorded["exit_code"] == 0

    # started again the same morning: nothing is missed any more
    stop.clear()
    assert (
        run_schedule(
            "0 7 * * 1-5",
            job,
            tz="Europe/Berlin",
            clock=fake.clock,
            sleep=sleep,
            state_path=state,
            stop=stop,
        )
        == 0
    )
    assert len(ran) == 1


def test_first_start_does_not_catch_up(tmp_path: Path) -> None:
    fake = FakeTime(dt.datetime(2025, 3, 28, 9, 30, tzinfo=BERLIN))
    stop = threading.Event()
    ran: list[dt.datetime] = []
    run_schedule(
        "0 7 * * 1-5",
        lambda slot: ran.append(slot) or 0,
        tz="Europe/Berlin",
        clock=fake.clock,
        sleep=lambda s: stop.set(),
        state_path=tmp_path / "s.json",
        stop=stop,
    )
    assert ran == []


def test_loop_runs_at_the_right_times_and_stops_on_the_event(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agent.schedule")
    fake = FakeTime(dt.datetime(2025, 3, 27, 12, 0, tzinfo=UTC))
    stop = threading.Event()
    ran: list[tuple[dt.datetime, dt.datetime]] = []

    def job(slot: dt.datetime) -> int:
        ran.append((slot, fake.now))
        fake.now += dt.timedelta(minutes=3)  # the run takes a while
        if len(ran) == 2:
            raise RuntimeError("the feed was down")  # logged, the loop goes on
        if len(ran) == 3:
            stop.set()
        return 0

    told: list[dt.datetime] = []
    runs = run_schedule(
        "0 7 * * 1-5",
        job,
        tz="Europe/Berlin",
        clock=fake.clock,
        sleep=fake.sleep,
        state_path=tmp_path / "s.json",
        stop=stop,
        after_run=told.append,
    )
    assert runs == 3
    expected = [
        dt.datetime(2025, 3, 28, 7, 0, tzinfo=BERLIN),
        dt.datetime(2025, 3, 31, 7, 0, tzinfo=BERLIN),
        dt.datetime(2025, 4, 1, 7, 0, tzinfo=BERLIN),
    ]
    assert [slot for slot, _ in ran] == expected
    assert [when for _, when in ran] == expected  # run exactly when due, not late
    assert told == expected[1:]  # after each run (the third one stopped the loop): the next
    assert max(fake.sleeps) <= 60  # re-reads the clock at least every minute
    assert "the feed was down" in caplog.text
    assert "exit code 1" in caplog.text
    assert json.loads((tmp_path / "s.json").read_text())["exit_code"] == 0


def test_wakes_late_runs_only_the_latest_slot(tmp_path: Path) -> None:
    fake = FakeTime(dt.datetime(2025, 3, 27, 12, 0, tzinfo=UTC))
    stop = threading.Event()
    ran: list[dt.datetime] = []

    def suspend_then_sleep(seconds: float) -> None:
        if not ran and fake.now < dt.datetime(2025, 3, 31, tzinfo=UTC):
            fake.now = dt.datetime(2025, 4, 2, 12, 0, tzinfo=UTC)  # the laptop slept for days
        else:
            fake.sleep(seconds)

    def job(slot: dt.datetime) -> int:
        ran.append(slot)
        stop.set()
        return 0

    run_schedule(
        "0 7 * * 1-5",
        job,
        tz="Europe/Berlin",
        clock=fake.clock,
        sleep=suspend_then_sleep,
        state_path=tmp_path / "s.json",
        stop=stop,
    )
    assert ran == [dt.datetime(2025, 4, 2, 7, 0, tzinfo=BERLIN)]


def test_keyboard_interrupt_stops_cleanly(tmp_path: Path) -> None:
    fake = FakeTime(dt.datetime(2025, 3, 27, 12, 0, tzinfo=UTC))

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    assert (
        run_schedule(
            "0 7 * * 1-5",
            lambda slot: 0,
            tz="Europe/Berlin",
            clock=fake.clock,
            sleep=interrupted,
            state_path=tmp_path / "s.json",
        )
        == 0
    )


def test_real_stop_event_ends_a_real_wait(tmp_path: Path) -> None:
    stop = threading.Event()
    timer = threading.Timer(0.2, stop.set)
    timer.start()
    try:
        runs = run_schedule(
            "0 7 * * 1-5", lambda slot: 0, tz="UTC", state_path=tmp_path / "s.json", stop=stop
        )
    finally:
        timer.cancel()
    assert runs == 0


def test_a_cron_that_never_fires_is_a_config_error() -> None:
    from agent.errors import ConfigError
    from agent.schedule import validate_cron

    with pytest.raises(ConfigError, match="never fires"):
        validate_cron("0 0 31 2 *")
