"""The `digest` command: parses arguments, calls the pipeline, prints. Nothing else lives here.

Start-up matters (`digest --help` should feel instant): only click is imported up front; the
settings, rich and every stage are imported inside the command that uses them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from agent.core.home import environment_error
from agent.core.one_line import one_line
from agent.core.safe_text import strip_hidden
from agent.core.wording import plural
from agent.errors import ConfigError, DigestError
from agent.init.command import init_options as _init_options
from agent.sources import SOURCE_HELP

if TYPE_CHECKING:
    from rich.console import Console

    from agent.config import Settings
    from agent.evals.relevance_rerank import RerankRun
    from agent.pipeline import DailyOptions, DailyOutcome, Progress
    from agent.topic import TopicOptions, TopicOutcome

F = TypeVar("F", bound=Callable[..., Any])


class _LazyConsole:
    """A rich Console made on first use, so that importing the CLI does not import rich."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
            # Lines to a log file or a pipe are never wrapped: a reader greps whole lines.
            self._console.soft_wrap = not self._console.is_terminal
        return getattr(self._console, name)


def escape(text: str) -> str:
    """rich.markup.escape, imported when first needed."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


# Emoji codes off: user text such as a paper title with ":x:" in it is printed as it is.
out: Console = _LazyConsole(highlight=False, emoji=False)  # type: ignore[assignment]
err: Console = _LazyConsole(stderr=True, highlight=False, emoji=False)  # type: ignore[assignment]
MAX_ERROR_CHARS = 1_000  # an error line quotes user input: a 100 KB id is not echoed whole


# Third-party loggers held to ERROR without --verbose: bibtexparser warns (over two lines) about a
# block it gives up on, just before our one-line "library ...: broken entry at line N" error.
QUIET_LIBRARY_LOGGERS = ("bibtexparser",)


def _configure_logging(verbose: bool) -> None:
    from agent.core import redact

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not verbose:  # what they warn about, our own one-line error says (or it does not matter)
        for name in QUIET_LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
    redact.install()  # every line printed: secrets and token-like URL parts masked


def _fail(exc: DigestError, verbose: bool) -> None:
    """One line on stderr (the traceback too with --verbose), then the error's exit code."""
    if verbose:
        err.print_exception()
    line = one_line(strip_hidden(str(exc)), MAX_ERROR_CHARS)  # no terminal escapes
    err.print(f"[bold red]error:[/] {escape(line)}", soft_wrap=True)
    sys.exit(exc.exit_code)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a `kill`, a service stop), raised where the program is, as Ctrl-C would be."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While a command runs, SIGTERM stops it as Ctrl-C does: the `finally` blocks close what
    is open (the SMTP connection, the lock, the state), nothing half-written stays, and the
    exit code is 130. A command that handles SIGTERM itself (`schedule`) sets its own."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def expected_errors(command: F) -> F:
    """Turn expected failures into one line on stderr and the error's exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        verbose = bool(kwargs.get("verbose"))
        try:
            with sigterm_as_interrupt():
                return command(*args, **kwargs)
        except DigestError as exc:
            _fail(exc, verbose)
        except (OSError, sqlite3.DatabaseError) as exc:  # a full disk, a damaged database
            known = environment_error(exc)
            if known is None:
                raise
            _fail(known, verbose)
        except KeyboardInterrupt as exc:
            stopped = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
            err.print(f"{stopped}: stopped cleanly; what was not finished runs next time")
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def common_options(command: F) -> F:
    """--config and --verbose, on every command."""
    command = click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="TOML config file (default: ./digest.toml when present).",
    )(command)
    command = click.option("--verbose", "-v", is_flag=True, help="Show details and tracebacks.")(
        command
    )
    return command


reader_option = click.option(
    "--reader",
    "reader",
    default=None,
    metavar="NAME",
    help="Whose: a reader of the config's [readers.NAME] tables.",
)

library_option = click.option(
    "--library",
    "library",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="PATH",
    help="Your papers (.bib, .ris, Zotero .csv, .txt of arXiv ids/DOIs), to rank by (repeatable; adds to the config's `library`).",
)


def settings_from(config_path: Path | None, verbose: bool, **overrides: Any) -> Settings:
    from agent.config import load_settings

    _configure_logging(verbose)
    return load_settings(config_path, **overrides)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="paper-digest")
def main() -> None:
    """paper-digest: new research papers, grouped into themes and explained in plain words.

    Data (state, cache, archive, outbox) lives under DIGEST_HOME (default: the user data
    directory, e.g. ~/.local/share/paper-digest). Settings come from digest.toml, then
    DIGEST_* environment variables, then these flags.
    """


@main.command(short_help="Build today's digest, write it and send it once.")
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="NAME",
    help="Where papers come from (repeatable; default: the config's [sources] default; with "
    f"none configured the run stops with exit 2, and --source sample builds the demo day): {SOURCE_HELP}.",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "offline", "llm"]),
    default=None,
    help="auto: the model when a key or base URL is configured, else the offline engine.",
)
@click.option(
    "--date",
    "date_",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Digest date YYYY-MM-DD (default: today). Papers in another date's digest are skipped.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write DIR/<date>/digest.{html,txt,eml,json} (default: DIGEST_HOME/archive).",
)
@click.option(
    "--max-papers",
    type=click.IntRange(1, 10_000),
    default=None,
    help="Summarise at most N papers (default 30); the rest are listed by title.",
)
@click.option(
    "--send/--no-send", default=None, help="Email the digest (default: when [email] is configured)."
)
@click.option("--force", is_flag=True, help="Send again even if this digest was already sent.")
@click.option("--no-cache", is_flag=True, help="Do not reuse cached model answers.")
@click.option(
    "--batch/--no-batch",
    default=None,
    help="Send the model requests through the provider's Batch API (about half price; waits "
    "up to [llm] batch_deadline). Default: [llm] batch.",
)
@library_option
@click.option(
    "--format",
    "formats",
    type=click.Choice(["md"]),
    multiple=True,
    help="Also write the digest in this format: md writes DIR/<date>/digest.md.",
)
@click.option(
    "--reader",
    "readers",
    multiple=True,
    metavar="NAME",
    help="Only this reader of the config's [readers.NAME] tables (repeatable; default: all).",
)
@common_options
@expected_errors
def daily(
    sources: tuple[str, ...],
    engine: str | None,
    date_: dt.datetime | None,
    out_dir: Path | None,
    max_papers: int | None,
    send: bool | None,
    force: bool,
    no_cache: bool,
    batch: bool | None,
    library: tuple[Path, ...],
    formats: tuple[str, ...],
    readers: tuple[str, ...],
    config_path: Path | None,
    verbose: bool,
) -> None:
    """Build today's digest: fetch, keep what is new, summarise, render, and send once.
    With [readers.NAME] tables, one digest per reader from one fetch."""
    from agent.pipeline import DailyOptions

    settings = settings_from(
        config_path,
        verbose,
        max_papers=max_papers,
        engine=engine,
        llm={"batch": batch} if batch is not None else None,
    )
    options = DailyOptions(
        date=(date_.date() if date_ else dt.date.today()),
        sources=sources,
        engine=settings.engine,
        out_dir=out_dir.resolve() if out_dir else None,
        send=send,
        force=force,
        use_cache=not no_cache,
        library=library,
        markdown="md" in formats,
    )
    with out.status("starting", spinner="dots") as status:
        outcome = daily_run(
            settings, options, readers, progress=lambda text: status.update(escape(text))
        )
    _print_daily(outcome)


def daily_run(
    settings: Settings,
    options: DailyOptions,
    readers: Sequence[str] = (),
    progress: Progress | None = None,
) -> DailyOutcome:
    """`digest daily` for the `readers` named (default: all, or the single reader), in one
    event loop: a local model server asked what it serves, planned (a bad setting stops here,
    exit 2), then under the run lock. A spooled digest is in the outcome (`delivery_error()`),
    not raised."""
    from agent.core.lock import run_lock
    from agent.pipeline import ignore, open_run, plan_daily, run_daily

    async def planned_and_run() -> DailyOutcome:
        served = await with_served_model(settings, options.engine)
        job = plan_daily(served, options, readers)
        with (
            run_lock(served.home),
            open_run(
                served,
                options.date,
                job.engine,
                use_cache=options.use_cache,
                progress=progress or ignore,
            ) as run,
        ):
            return await run_daily(run, job)

    return asyncio.run(planned_and_run())


async def with_served_model(settings: Settings, engine: str | None = None) -> Settings:
    """The settings with a local model server's own model and context window (asked once per
    process, before anything is planned), unless the run is offline."""
    if (engine or settings.engine) == "offline" or not settings.llm_configured:
        return settings
    from agent.summarize.llm import probe_local

    return await probe_local(settings)


def _print_daily(outcome: DailyOutcome) -> None:
    """The terminal summary; a spooled digest raises its DeliveryError after it (exit 4)."""
    from agent.terminal import print_daily_outcome, print_readers_outcome

    for line in outcome.outbox:
        out.print(line, markup=False, soft_wrap=True)
    if not outcome.named:
        print_daily_outcome(out, outcome.single())  # raises when the digest is spooled
        return
    print_readers_outcome(out, outcome)
    failure = outcome.delivery_error()
    if failure is not None:
        raise failure


@main.command(short_help="Find and explain the new papers on a topic.")
@click.argument("query")
@click.option(
    "--since", default="30d", show_default=True, help="How far back: 30d, 2w, 6m, 1y or a date."
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="NAME",
    help="Where to search (repeatable; default: local and arxiv). `arxiv` searches the arXiv API; `sample` the bundled demo day.",
)
@click.option(
    "--max-papers",
    type=click.IntRange(1, 500),
    default=20,
    show_default=True,
    help="Summarise at most N papers; the rest are listed.",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "offline", "llm"]),
    default=None,
    help="auto: the model when configured, else offline.",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["terminal", "html", "text", "md", "json"]),
    default="terminal",
    show_default=True,
    help="terminal prints; json prints digest JSON to stdout; html/text/md write a file.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where html/text/md files go (default: the archive).",
)
@click.option("--send", is_flag=True, help="Email the result through the delivery stage.")
@click.option("--no-cache", is_flag=True, help="Do not reuse cached model answers.")
@library_option
@reader_option
@common_options
@expected_errors
def topic(
    query: str,
    since: str,
    sources: tuple[str, ...],
    max_papers: int,
    engine: str | None,
    format_: str,
    out_dir: Path | None,
    send: bool,
    no_cache: bool,
    library: tuple[Path, ...],
    reader: str | None,
    config_path: Path | None,
    verbose: bool,
) -> None:
    """What is new on QUERY? Finds papers (stored, sample, arXiv), groups and explains them."""
    from agent.readers import one_reader
    from agent.terminal import print_digest
    from agent.topic import TopicOptions, emit_topic

    chosen = one_reader(settings_from(config_path, verbose, engine=engine), reader, required=False)
    settings = chosen.settings
    options = TopicOptions(
        query=query,
        since=since,
        sources=sources,
        max_papers=max_papers,
        engine=settings.engine,
        use_cache=not no_cache,
        send=send,
        library=library,
        reader=chosen.name,
    )
    quiet = format_ == "json"
    console = err if quiet else out
    with console.status("searching", spinner="dots") as status:
        outcome = topic_run(settings, options, progress=lambda text: status.update(escape(text)))
    if outcome.digest is None:
        err.print(f"[yellow]{escape(outcome.message)}[/]")
        return
    if format_ == "terminal":
        print_digest(out, outcome.digest)
    lines = emit_topic(outcome.digest, settings, options, format_=format_, out_dir=out_dir)
    for line in lines:
        if format_ == "json" and line.startswith("{"):
            click.echo(line)
        else:
            console.print(line, soft_wrap=True, markup=False)


def topic_run(
    settings: Settings, options: TopicOptions, progress: Progress | None = None
) -> TopicOutcome:
    """`digest topic` in one event loop: checked (exit 2 on a bad query or option), then run
    (no run lock: a topic marks nothing as seen)."""
    from agent.pipeline import ignore, open_run
    from agent.topic import plan_topic, run_topic

    async def planned_and_run() -> TopicOutcome:
        served = await with_served_model(settings, options.engine)
        job = plan_topic(served, options)
        with open_run(
            served, job.today, job.engine, use_cache=options.use_cache, progress=progress or ignore
        ) as run:
            return await run_topic(run, job)

    return asyncio.run(planned_and_run())


@main.command("init", short_help="Write a commented digest.toml from a few questions.")
@_init_options
@common_options
@expected_errors
def init_(
    config_path: Path | None,
    verbose: bool,
    force: bool,
    assume_defaults: bool,
    ask_anyway: bool,
    **answers: Any,
) -> None:
    """Write a commented digest.toml (here, or --config PATH) from a few questions, or from flags.

    Any answer flag (or --yes) makes it non-interactive; the rest keep their defaults. The SMTP
    password never goes into the file. Prints the cron / systemd line for the schedule.
    """
    from agent.init.command import run_init

    _configure_logging(verbose)
    run_init(
        out,
        config_path,
        force=force,
        assume_defaults=assume_defaults,
        flags=answers,
        served=_served_models,
        ask_anyway=ask_anyway,
    )


def _served_models(base_url: str) -> list[str] | None:
    """What a server lists at GET /models, asked on an event loop of its own: `init` is a
    sync, interactive command (a prompt must take Ctrl-C at once), so this is its edge."""
    from agent.summarize.llm import served_models

    return asyncio.run(served_models(base_url))


@main.command(short_help="Check every part of the setup now.")
@click.option(
    "--send-test",
    is_flag=True,
    help="Also send a one-line test email to the recipients (no ledger).",
)
@common_options
@expected_errors
def doctor(send_test: bool, config_path: Path | None, verbose: bool) -> None:
    """Check every part now, one line each: config, DIGEST_HOME, state, sources, model, SMTP,
    schedule. Nothing is sent or marked. Exit 0 when all are ok, 2 otherwise."""
    from agent.doctor import Check, DoctorOptions, exit_code, run_doctor
    from agent.doctor.run import print_check

    _configure_logging(verbose)

    async def check_and_print() -> list[Check]:
        checks = []
        with out.status("checking", spinner="dots") as status:
            options = DoctorOptions(config_path=config_path, send_test=send_test)
            async for check in run_doctor(options):
                status.stop()
                print_check(out, check)
                checks.append(check)
                status.start()
        return checks

    sys.exit(exit_code(asyncio.run(check_and_print())))


@main.command(short_help="Rate a paper up or down.")
@click.argument("paper_id", required=False)
@click.argument("verdict", required=False, type=click.Choice(["up", "down"]))
@click.option("--list", "list_", is_flag=True, help="List your ratings.")
@reader_option
@common_options
@expected_errors
def rate(
    paper_id: str | None,
    verdict: str | None,
    list_: bool,
    reader: str | None,
    config_path: Path | None,
    verbose: bool,
) -> None:
    """Rate a paper up or down (ID as shown in the terminal summary and the email); counts from
    the next run on: up like a library paper, down as a paper you do not want. With several
    [readers], say whose rating it is with --reader."""
    from agent.ratings import list_ratings, rate_paper
    from agent.readers import one_reader

    settings = settings_from(config_path, verbose)
    name = one_reader(settings, reader, required=True).name
    if list_:
        if paper_id or verdict:
            raise click.UsageError("--list takes no ID or verdict")
        lines = list_ratings(settings, name)
        for line in lines or ["No ratings yet: digest rate ID up|down"]:
            out.print(line, markup=False, soft_wrap=True)
        return
    if not paper_id or not verdict:
        raise click.UsageError("give a paper ID and up or down, e.g. digest rate 2401.12345 up")
    out.print(rate_paper(settings, paper_id, verdict, name), markup=False, soft_wrap=True)


@main.group(short_help="Send or list the messages not sent yet.")
def outbox() -> None:
    """Messages that could not be sent yet (spooled under DIGEST_HOME/outbox)."""


@outbox.command("flush")
@common_options
@expected_errors
def outbox_flush(config_path: Path | None, verbose: bool) -> None:
    """Send what is spooled; never sends a message twice. Exit 0 when all went, 4 otherwise."""
    from agent.core.lock import run_lock
    from agent.pipeline.flush import flush_spooled
    from agent.store import Store

    settings = settings_from(config_path, verbose)
    with run_lock(settings.home), Store.open(settings.home) as store:
        flushed = asyncio.run(flush_spooled(settings, store))
    report, hooks = flushed.email, flushed.hooks
    email_spooled = report.sent or report.skipped or report.failed
    if email_spooled or not (hooks.sent or hooks.skipped or hooks.errors):
        out.print(report.describe(), markup=False)  # "The outbox is empty." only when it is
    if hooks.sent:
        out.print(f"Posted {len(hooks.sent)} spooled webhook payload(s).", markup=False)
    for error in hooks.errors:
        out.print(f"webhook: {error}", markup=False)
    if report.failed or hooks.errors:
        sys.exit(4)


@outbox.command("list")
@common_options
@expected_errors
def outbox_list(config_path: Path | None, verbose: bool) -> None:
    """List spooled messages."""
    from agent.deliver.spool import spooled_entries
    from agent.deliver.webhooks import webhook_spool

    settings = settings_from(config_path, verbose)
    entries, broken = spooled_entries(settings.home / "outbox")
    hook_entries, hook_broken = spooled_entries(webhook_spool(settings.home / "outbox"))
    entries, broken = entries + hook_entries, broken + hook_broken
    if not entries and not broken:
        out.print("The outbox is empty.")
    for entry in entries:
        line = f"{entry.digest_key} → {entry.recipient}: {plural(entry.attempts, 'attempt')}, {entry.last_error}"
        out.print(f"{line}\n  {entry.eml}", markup=False)
    for path, reason in broken:
        out.print(f"{path}: {reason}", markup=False)


@main.command(short_help="Print or open the archive of past digests.")
@click.option("--open", "open_browser", is_flag=True, help="Open the archive index in a browser.")
@common_options
@expected_errors
def archive(open_browser: bool, config_path: Path | None, verbose: bool) -> None:
    """Print (or open) the archive of past digests: DIGEST_HOME/archive/index.html."""
    from agent.deliver.archive import rebuild_index

    settings = settings_from(config_path, verbose)
    index = rebuild_index(settings.home)
    out.print(str(index), markup=False)
    if open_browser:
        import webbrowser

        webbrowser.open(index.as_uri())


def reread(config_path: Path | None, verbose: bool, fire_time: dt.datetime) -> Settings:
    """The settings as the config says now, for one scheduled slot; a config that no longer
    loads is a ConfigError that says the slot is skipped."""
    try:
        return settings_from(config_path, verbose)
    except ConfigError as exc:
        raise ConfigError(
            f"{fire_time:%Y-%m-%d %H:%M}: the config no longer loads, so this slot is skipped "
            f"(nothing sent; the next slot reads it again): {exc}"
        ) from None


@main.command(short_help="Run daily at the cron times, in the foreground.")
@click.option(
    "--cron", default=None, help='When to run, e.g. "0 7 * * 1-5" (default: [schedule] cron).'
)
@click.option(
    "--tz",
    default=None,
    help="Time zone of the cron times, e.g. Europe/Berlin (default: [schedule] tz, else local).",
)
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Sources for each run.")
@common_options
@expected_errors
def schedule(
    cron: str | None,
    tz: str | None,
    sources: tuple[str, ...],
    config_path: Path | None,
    verbose: bool,
) -> None:
    """Stay in the foreground and run `daily` at the cron times; runs a missed slot on start."""
    from agent.pipeline import DailyOptions
    from agent.schedule import run_schedule

    settings = settings_from(config_path, verbose)
    cron = cron or settings.schedule.cron
    tz = tz or settings.schedule.tz
    if not cron:
        raise ConfigError(
            'no schedule: give --cron "0 7 * * 1-5" or set [schedule] cron in the config'
        )

    def job(fire_time: dt.datetime) -> int:
        try:
            now = reread(config_path, verbose, fire_time)  # each slot reads the config anew
            options = DailyOptions(date=fire_time.date(), sources=sources, engine=now.engine)
            outcome = daily_run(now, options)
            message = outcome.summary_line()
            failure = outcome.delivery_error()
            if failure is not None:
                raise failure
        except DigestError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}")
            return exc.exit_code
        out.print(f"{fire_time:%Y-%m-%d %H:%M}: {message}", markup=False)
        return 0

    from agent.schedule import next_fire_times

    upcoming = next_fire_times(cron, tz, dt.datetime.now(dt.UTC), 1)[0]  # ConfigError if invalid
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    out.print(
        f"Scheduled `digest daily` at '{cron}'{' in ' + tz if tz else ''}; "
        f"next run {upcoming:%Y-%m-%d %H:%M %Z}. Ctrl-C stops."
    )
    runs = run_schedule(
        cron,
        job,
        tz=tz,
        state_path=settings.home / "schedule.json",
        stop=stop,
        after_run=lambda upcoming: out.print(f"Next run: {upcoming:%Y-%m-%d %H:%M %Z}."),
    )
    out.print(f"Stopped after {plural(runs, 'run')}.")


@main.command(short_help="Score prompts and the selection on the eval cases.")
@click.option(
    "--cases",
    "cases_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory of eval cases (*.yaml; default: evals/cases of the checkout).",
)
@click.option(
    "--prompts",
    "prompts",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Candidate prompts directory (default: the bundled prompts/).",
)
@click.option(
    "--baseline",
    default=None,
    metavar="GIT_REF_OR_DIR",
    help="Baseline prompts: a directory, or a git ref whose prompts/ is used (default: HEAD).",
)
@click.option(
    "--engine",
    type=click.Choice(["offline", "llm"]),
    default=None,
    help="llm (default when a model is configured) or offline (a smoke run: prompts do not matter).",
)
@click.option(
    "--repeat",
    type=click.IntRange(1, 50),
    default=None,
    help="Run each case N times; the table shows mean and 95% bootstrap interval "
    "(default 1; 3 when the model is not deterministic and the prompts changed).",
)
@click.option(
    "--report",
    "report",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the report here: .md (Markdown) or .html (default: next to the run's JSONL).",
)
@click.option(
    "--judge",
    is_flag=True,
    help="Add the model-graded scorer (prompts/judge.j2; needs a model; cached).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory for the raw results JSONL (default: evals/runs, git-ignored).",
)
@click.option(
    "--tag", "tags", multiple=True, metavar="TAG", help="Only cases with this tag (repeatable)."
)
@click.option(
    "--relevance",
    "relevance_dir",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[DIR]",
    help="Run the ranking benchmark instead: reader profiles, simulated rating sessions, "
    "precision and nDCG per ranker (cases: DIR, default evals/relevance of the checkout).",
)
@click.option(
    "--rerank",
    is_flag=True,
    help="With --relevance: also measure day 1 after the configured model's rerank of the top "
    "[llm] rerank_candidates, as `[llm] rerank` does in a daily run (needs a model; cached).",
)
@common_options
@expected_errors
def eval(
    cases_dir: Path | None,
    prompts: Path | None,
    baseline: str | None,
    engine: str | None,
    repeat: int | None,
    report: Path | None,
    judge: bool,
    out_dir: Path | None,
    tags: tuple[str, ...],
    relevance_dir: str | None,
    rerank: bool,
    config_path: Path | None,
    verbose: bool,
) -> None:
    """Score candidate prompts against a baseline on the eval cases; exit 1 on a regression.
    With --relevance, score the ranking on the reader profiles instead; exit 1 when a profile
    misses its day-1 bar or ratings made a session worse; --rerank adds the model's rerank."""
    if rerank and relevance_dir is None:
        raise ConfigError("--rerank goes with --relevance: digest eval --relevance --rerank")
    if relevance_dir is not None:
        _relevance_benchmark(relevance_dir, settings_from(config_path, verbose) if rerank else None)
        return
    from agent.evals.report import print_table
    from agent.evals.session import EvalOptions, EvalOutcome, run_eval_session

    settings = settings_from(config_path, verbose)
    options = EvalOptions(
        cases_dir, prompts, baseline, engine, repeat, report, judge, out_dir, tags
    )
    with out.status("starting", spinner="dots") as status:

        def progress(text: str) -> None:
            status.update(text)
            if text.startswith("case "):  # one line per run on stderr: a long eval shows life
                err.print(text, markup=False, highlight=False)

        async def served_and_run() -> EvalOutcome:
            # The eval ignores `engine` in the settings, and a judge asks the model even when
            # the candidates run offline: only an offline eval without a judge skips the probe.
            offline = engine == "offline" and not judge
            served = await with_served_model(settings, "offline" if offline else "auto")
            return await run_eval_session(served, options, cwd=Path.cwd(), progress=progress)

        outcome = asyncio.run(served_and_run())
    print_table(out, outcome.comparison, labels=outcome.labels)
    out.print(f"report: {outcome.report}\nresults: {outcome.jsonl}", markup=False)
    if outcome.run.interrupted:
        sys.exit(130)  # stopped by Ctrl-C: what finished is reported
    if outcome.exit_code:
        sys.exit(outcome.exit_code)


def _relevance_benchmark(directory: str, rerank: Settings | None = None) -> None:
    """`digest eval --relevance [DIR]`: the table, and exit 1 when the shipped ranker fails;
    with `rerank` (--rerank: the settings of its model), the model's rerank of day 1 after it
    (a measure: it does not change the exit code)."""
    from agent.evals.relevance import default_relevance_dir
    from agent.evals.relevance_report import failures, print_relevance, print_rerank
    from agent.evals.sessions import run_sessions

    if rerank is not None and not rerank.llm_configured:
        from agent.config import model_needed

        raise model_needed("--rerank")
    cases = Path(directory).expanduser().resolve() if directory else default_relevance_dir()
    if not cases.is_dir():
        raise ConfigError(f"--relevance {cases}: no such directory of relevance cases")
    with out.status("running the rating sessions", spinner="dots"):
        results = run_sessions(cases)
    if not results:
        raise ConfigError(f"--relevance {cases}: no relevance cases (*.yaml) there")
    print_relevance(out, results)
    if rerank is not None:
        from agent.evals.relevance_rerank import rerank_benchmark

        profiles = list({r.case.name: r.case for r in results}.values())

        async def served_and_reranked() -> RerankRun:
            return await rerank_benchmark(await with_served_model(rerank, "auto"), profiles)

        with out.status("asking the model to rerank each profile's day 1", spinner="dots"):
            reranked = asyncio.run(served_and_reranked())
        print_rerank(out, reranked)
    if failures(results):
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
