"""A small cron-like scheduler for `digest schedule`: run a job at each slot of a cron expression.

- Slots are computed by croniter in the given IANA time zone (zoneinfo), so "0 7 * * 1-5" means
  07:00 wall-clock time all year, on both sides of a DST change. A slot that falls into the
  spring-forward gap runs when the clock jumps; a slot in the repeated autumn hour runs once.
- `state_path` (JSON) records the last slot that ran. On start, when that slot is older than the
  most recent scheduled slot, the missed slot runs once (the machine was off or asleep at 07:00).
  With no state yet (first start) nothing is caught up: the first run is the next slot.
  After waking from a long sleep, only the latest due slot runs, not every missed one: that
  run reads the days it missed (`agent.pipeline.catch_up`), so one digest covers them.
- The state is written after the job returns, so a run cut short is run again on the next start;
  delivery itself is idempotent (the sent ledger), so that never duplicates an email.
- A job that raises is logged and the loop goes on; Ctrl-C or the `stop` event end it cleanly.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterBadDateError, CroniterError, croniter

from agent.core.atomic import write_atomic
from agent.errors import ConfigError

log = logging.getLogger(__name__)

MAX_SLEEP_SECONDS = 60.0  # re-read the clock at least this often (suspend, clock changes)
_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def closest_zones(tz: str, limit: int = 3) -> list[str]:
    """The IANA zone names `tz` most likely meant (Europe/Berlni -> Europe/Berlin)."""
    by_lower = {name.lower(): name for name in available_timezones()}
    wanted = tz.strip().lower().replace(" ", "_")
    if wanted in by_lower:
        return [by_lower[wanted]]
    near = difflib.get_close_matches(wanted, list(by_lower), n=limit, cutoff=0.75)
    if not near:  # a city alone ("Berlin"): the zones named after it
        cities = [key for key in by_lower if key.rsplit("/", 1)[-1] == wanted.rsplit("/", 1)[-1]]
        near = sorted(cities)[:limit]
    return [by_lower[key] for key in near]


def zone(tz: str | None) -> dt.tzinfo:
    """The IANA zone `tz`; None means this machine's zone (TZ, then /etc/localtime, then UTC)."""
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            close = closest_zones(tz)
            hint = (
                f"did you mean {' or '.join(close)}?"
                if close
                else "use an IANA name like Europe/Berlin"
            )
            raise ConfigError(f"unknown time zone {tz!r}; {hint}") from None
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            return ZoneInfo(env)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as handle:
            return ZoneInfo.from_file(handle, key="localtime")
    except (OSError, ValueError):
        return dt.UTC


def validate_cron(cron: str) -> str:
    """The expression, stripped; ConfigError (one line) unless it is 5 fields or a @macro."""
    expr = " ".join(cron.split())
    if expr.lower() not in _MACROS and len(expr.split(" ")) != 5:
        raise ConfigError(
            f"invalid cron expression {cron!r}: use 5 fields (minute hour day month weekday), "
            f"e.g. '0 7 * * 1-5'"
        )
    try:
        croniter(expr, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).get_next(dt.datetime)
    except CroniterBadDateError:
        raise ConfigError(f"cron expression {cron!r} never fires (e.g. 31 February)") from None
    except (CroniterError, ValueError, KeyError) as exc:
        raise ConfigError(f"invalid cron expression {cron!r}: {exc}") from None
    return expr


def _aware(moment: dt.datetime, tzinfo: dt.tzinfo) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tzinfo)
    return moment.astimezone(tzinfo)


def _repeated(slot: dt.datetime) -> bool:
    """True for the second occurrence of a wall-clock time in the hour repeated in autumn."""
    return slot.fold == 1 and slot.replace(fold=0).utcoffset() != slot.utcoffset()


def _next_after(expr: str, tzinfo: dt.tzinfo, after: dt.datetime) -> dt.datetime:
    """The first slot strictly after `after`, skipping the repeat of a wall-clock time (fold)."""
    slot = _aware(croniter(expr, _aware(after, tzinfo)).get_next(dt.datetime), tzinfo)
    while _repeated(slot):
        slot = _aware(croniter(expr, slot).get_next(dt.datetime), tzinfo)
    return slot


def _latest_at_or_before(expr: str, tzinfo: dt.tzinfo, moment: dt.datetime) -> dt.datetime:
    moment = _aware(moment, tzinfo)
    previous = _aware(croniter(expr, moment).get_prev(dt.datetime), tzinfo)
    while _repeated(previous):
        previous = _aware(croniter(expr, previous).get_prev(dt.datetime), tzinfo)
    following = _next_after(expr, tzinfo, previous)
    return following if following <= moment else previous


def next_fire_times(cron: str, tz: str | None, start: dt.datetime, n: int) -> list[dt.datetime]:
    """The next `n` slots strictly after `start`, as aware datetimes in the zone `tz`."""
    expr = validate_cron(cron)
    tzinfo = zone(tz)
    times: list[dt.datetime] = []
    cursor = _aware(start, tzinfo)
    for _ in range(n):
        cursor = _next_after(expr, tzinfo, cursor)
        times.append(cursor)
    return times


# state -----------------------------------------------------------------------------------------


def _read_last_slot(state_path: Path) -> dt.datetime | None:
    try:
        data = json.loads(state_path.read_text(encoding="utf-8"))
        return dt.datetime.fromisoformat(data["last_slot"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable schedule state %s: %s", state_path, exc)
        return None


def _write_state(state_path: Path, slot: dt.datetime, finished: dt.datetime, code: int) -> None:
    payload = {
        "last_slot": slot.isoformat(),
        "finished": finished.isoformat(),
        "exit_code": code,
    }
    write_atomic(state_path, json.dumps(payload, indent=2).encode("utf-8"))


# the loop --------------------------------------------------------------------------------------


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def run_schedule(
    cron: str,
    job: Callable[[dt.datetime], int],
    *,
    tz: str | None,
    state_path: Path,
    clock: Callable[[], dt.datetime] = _utc_now,
    sleep: Callable[[float], object] | None = None,
    stop: threading.Event | None = None,
    after_run: Callable[[dt.datetime], object] | None = None,
) -> int:
    """Run `job(slot)` at every slot of `cron` until `stop` is set or Ctrl-C; returns the runs.
    After each run, `after_run` is told when the next one is.

    `clock` returns the current time (aware; naive means the schedule's zone) and `sleep` waits;
    both are injectable for tests. By default the wait is `stop.wait` (so setting the event
    ends a wait at once) or `time.sleep` without an event.
    """
    expr = validate_cron(cron)
    tzinfo = zone(tz)
    stop = stop or threading.Event()
    wait: Callable[[float], object] = sleep if sleep is not None else stop.wait
    runs = 0
    told = 0  # the runs `after_run` was told the next slot after
    last = _read_last_slot(state_path)
    if last is not None:
        last = _aware(last, tzinfo)

    def run(slot: dt.datetime) -> None:
        nonlocal runs, last
        log.info("scheduled run for %s starting", slot.isoformat())
        started = time.monotonic()
        try:
            code = int(job(slot))
        except Exception:
            log.exception("scheduled run for %s failed", slot.isoformat())
            code = 1
        runs += 1
        last = slot
        _write_state(state_path, slot, _aware(clock(), tzinfo), code)
        log.info(
            "scheduled run for %s finished with exit code %d in %.1f s",
            slot.isoformat(),
            code,
            time.monotonic() - started,
        )

    try:
        now = _aware(clock(), tzinfo)
        latest = _latest_at_or_before(expr, tzinfo, now)
        if last is not None and last < latest:
            log.info("missed the slot at %s; running it now", latest.isoformat())
            run(latest)
        while not stop.is_set():
            now = _aware(clock(), tzinfo)
            reference = max(now, last) if last is not None else now
            upcoming = _next_after(expr, tzinfo, reference)
            log.info("next scheduled run at %s", upcoming.isoformat())
            if after_run is not None and told < runs:
                told = runs
                after_run(upcoming)
            while not stop.is_set():
                now = _aware(clock(), tzinfo)
                if now >= upcoming:
                    break
                wait(min((upcoming - now).total_seconds(), MAX_SLEEP_SECONDS))
            if stop.is_set():
                break
            # Woken late (suspend)? Run only the latest due slot, once (it catches up the days).
            due = max(upcoming, _latest_at_or_before(expr, tzinfo, now))
            run(due)
    except KeyboardInterrupt:
        log.info("schedule interrupted; stopping")
        return runs
    log.info("schedule stopped")
    return runs
