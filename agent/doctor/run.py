"""Run the checks in order, yielding each line as it is known; print them."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from agent.core.console_text import shown
from agent.doctor.checks import Check
from agent.doctor.local import check_config, check_home, check_state
from agent.doctor.mail import check_smtp, send_test
from agent.doctor.model import check_model
from agent.doctor.selection import check_category_filters, check_libraries
from agent.doctor.sources import check_sources
from agent.doctor.when import check_schedule

_STYLE = {"ok": "green", "warning": "yellow", "failed": "bold red"}


@dataclass(frozen=True)
class DoctorOptions:
    config_path: Path | None = None
    send_test: bool = False
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    ssl_context: ssl.SSLContext | None = None  # tests: trust a loopback server's certificate


async def run_doctor(options: DoctorOptions) -> AsyncIterator[Check]:
    """Every part, in the order a run meets them. Nothing is sent (unless `send_test`), nothing
    marked, no state written. The sources (all at the same time) and the model are checked on
    the async client; SMTP (smtplib) is checked in place once they are done: nothing else is
    running then, so nothing waits on it."""
    config, settings = check_config(options.config_path)
    yield config
    if settings is None:
        return
    home = check_home(settings.home)
    yield home
    if home.status == "ok":
        yield check_state(settings.home)
    for check in check_libraries(settings):  # the files only: nothing is looked up
        yield check
    for check in check_category_filters(settings):
        yield check
    day = options.now.astimezone().date()
    async for check in check_sources(settings, day):
        yield check
    async for check in check_model(settings):
        yield check
    smtp = check_smtp(settings.email, ssl_context=options.ssl_context)
    yield smtp
    if options.send_test:
        if smtp.status == "failed":
            yield Check.failed("test email", "not sent: the SMTP check failed", "fix SMTP first")
        else:
            yield send_test(settings.email, ssl_context=options.ssl_context)
    yield check_schedule(settings.schedule, options.now)


def print_check(console: Console, check: Check) -> None:
    """`ok      part: detail` and, for the others, an indented `fix: …`."""
    style = _STYLE[check.status]
    console.print(
        f"[{style}]{check.status:<7}[/] [bold]{shown(check.part)}[/]: {shown(check.detail)}",
        soft_wrap=True,
    )
    if check.fix:
        console.print(f"        [dim]fix:[/] {shown(check.fix)}", soft_wrap=True)


__all__ = ["DoctorOptions", "print_check", "run_doctor"]
