"""`digest init`'s flags and what it prints; the CLI registers the command with these."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, get_args

import click

from agent.core.choices import Dialect
from agent.core.redact import redact
from agent.errors import ConfigError, DigestError

if TYPE_CHECKING:  # the heavy modules load only when `digest init` runs
    from pydantic import SecretStr
    from rich.console import Console

    from agent.init.answers import InitAnswers
    from agent.init.questions import ServedModels
    from agent.init.write import InitResult

F = TypeVar("F", bound=Callable[..., Any])
DIALECTS = list(get_args(Dialect))

# flag name -> InitAnswers field; a flag given on the command line makes `init` non-interactive.
_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (
        ("--category", "categories"),
        {
            "multiple": True,
            "metavar": "CAT",
            "help": "arXiv category to follow, e.g. cs.CL (repeatable).",
        },
    ),
    (
        ("--hf-daily/--no-hf-daily", "hf_daily"),
        {"default": None, "help": "Add the Hugging Face daily papers (default: yes)."},
    ),
    (
        ("--interests",),
        {"default": None, "help": "What you care about, in a sentence (ranks the papers)."},
    ),
    (
        ("--library", "library"),
        {
            "multiple": True,
            "type": click.Path(path_type=Path, dir_okay=False),
            "help": "A file of papers you keep (repeatable).",
        },
    ),
    (
        ("--model",),
        {
            "type": click.Choice(["openai", "local", "none"]),
            "default": None,
            "help": "openai (key from OPENAI_API_KEY), local (an OpenAI-compatible --base-url) or none (offline).",
        },
    ),
    (
        ("--model-name",),
        {
            "default": None,
            "help": "The model's name (default: gpt-4o-mini; for --model local, the first "
            "the server lists).",
        },
    ),
    (
        ("--base-url",),
        {
            "default": None,
            "help": "A local OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1.",
        },
    ),
    (
        ("--dialect",),
        {
            "type": click.Choice(DIALECTS),
            "default": None,
            "help": "Structured-output dialect of the model.",
        },
    ),
    (
        ("--email/--no-email", "email"),
        {
            "default": None,
            "help": "Send the digest by email (needs --smtp-host, --sender, --recipient).",
        },
    ),
    (("--smtp-host",), {"default": None, "help": "SMTP server."}),
    (
        ("--smtp-port",),
        {"type": click.IntRange(1, 65535), "default": None, "help": "SMTP port (default 587)."},
    ),
    (
        ("--security",),
        {
            "type": click.Choice(["starttls", "ssl", "none"]),
            "default": None,
            "help": "starttls (default), ssl, or none (localhost only).",
        },
    ),
    (
        ("--username",),
        {"default": None, "help": "SMTP login name; the password goes in DIGEST_EMAIL__PASSWORD."},
    ),
    (("--sender",), {"default": None, "help": "From address."}),
    (
        ("--recipient", "recipients"),
        {"multiple": True, "metavar": "ADDRESS", "help": "Send to (repeatable)."},
    ),
    (
        ("--cron",),
        {
            "default": None,
            "help": 'When to run, e.g. "0 7 * * 1-5" (the default: 07:00 on weekdays).',
        },
    ),
    (
        ("--tz",),
        {
            "default": None,
            "help": "Time zone of the cron times, e.g. Europe/Berlin (default: local).",
        },
    ),
]
ANSWER_NAMES = [
    "categories",
    "hf_daily",
    "interests",
    "library",
    "model",
    "model_name",
    "base_url",
    "dialect",
    "email",
    "smtp_host",
    "smtp_port",
    "security",
    "username",
    "sender",
    "recipients",
    "cron",
    "tz",
]


def init_options(command: F) -> F:
    """The answer flags, --yes and --force."""
    for declarations, keywords in reversed(_OPTIONS):
        command = click.option(*declarations, **keywords)(command)
    command = click.option(
        "--yes",
        "-y",
        "assume_defaults",
        is_flag=True,
        help="Ask nothing: the defaults for every answer no flag gives.",
    )(command)
    command = click.option(
        "--ask",
        "ask_anyway",
        is_flag=True,
        help="Ask the questions even when flags give answers (they become the defaults).",
    )(command)
    command = click.option("--force", is_flag=True, help="Overwrite an existing config file.")(
        command
    )
    return command


class InitStopped(DigestError):
    """The questions were stopped (Ctrl-C: exit 130) or the input ended (exit 2)."""

    def __init__(self, message: str, *, interrupted: bool) -> None:
        super().__init__(message)
        self.exit_code = 130 if interrupted else 2


def resume_command(given: dict[str, Any], config_path: Path | None, *, force: bool) -> str:
    """`digest init --ask` with the answers given so far as flags (never the password)."""
    words = ["digest", "init", "--ask"]
    if config_path is not None:
        words += ["--config", str(config_path)]
    if force:
        words.append("--force")
    flags = {_field_of(decl): decl[0] for decl, _ in _OPTIONS}
    for name, value in given.items():
        flag = flags.get(name)
        if flag is None or value is None:
            continue
        if isinstance(value, bool):
            on, _, off = flag.partition("/")
            words.append(on if value else off)
        elif isinstance(value, list):
            for item in value:
                words += [flag, str(item)]
        else:
            words += [flag, str(value)]
    return shlex.join(words)


def _field_of(declarations: tuple[str, ...]) -> str:
    """The InitAnswers field a flag sets: its explicit name, else the flag's own."""
    if len(declarations) > 1:
        return declarations[1]
    return declarations[0].partition("/")[0].removeprefix("--").replace("-", "_")


def answers_from_flags(flags: dict[str, Any]) -> tuple[InitAnswers, bool]:
    """The answers the flags give (defaults for the rest) and whether any flag gave one."""
    from pydantic import ValidationError

    from agent.init.answers import InitAnswers

    given = {
        name: (list(value) if isinstance(value, tuple) else value)
        for name, value in flags.items()
        if name in ANSWER_NAMES and value not in (None, ())
    }
    if "email" not in given and given.get("smtp_host"):
        given["email"] = True
    from_flags = bool(given)
    if "model" not in given and given.get("base_url"):
        given["model"] = "local"
    elif "model" not in given and os.environ.get("OPENAI_API_KEY"):
        given["model"] = "openai"  # what a run would use anyway: the SDK's key is honoured
    try:
        return InitAnswers.model_validate(given), from_flags
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"digest init: {where}: {first['msg'].removeprefix('Value error, ')}"
        ) from None


def _listed_model(console: Console, answers: InitAnswers, served: ServedModels) -> InitAnswers:
    """For `--model local` without --model-name: the first model the server lists; when it
    lists none now, no name at all (each run asks the server), never a hosted model's."""
    from rich.markup import escape

    if answers.model != "local" or not answers.base_url or "model_name" in answers.model_fields_set:
        return answers
    listed = served(answers.base_url)
    if not listed:
        console.print(
            f"[yellow]No model list from {escape(redact(answers.base_url))}/models now[/]: wrote no "
            "model; each run uses the one the server lists (or give --model-name).",
            soft_wrap=True,
        )
        return answers.model_copy(update={"model_name": ""})
    console.print(f"Model: {escape(listed[0])} (the first the server lists)", soft_wrap=True)
    return answers.model_copy(update={"model_name": listed[0]})


def run_init(
    console: Console,
    config_path: Path | None,
    *,
    force: bool,
    assume_defaults: bool,
    flags: dict[str, Any],
    served: ServedModels,
    ask_anyway: bool = False,
) -> InitResult:
    """Ask (unless flags or --yes answer), write the config, print what to do next."""
    from agent.init.questions import Stopped, ask
    from agent.init.write import write_config

    path = config_path or Path.cwd() / "digest.toml"
    if path.exists() and not force:  # before any question: say it at once
        raise ConfigError(f"{path} exists; use --force to overwrite it (or --config OTHER.toml)")
    answers, from_flags = answers_from_flags(flags)
    password: SecretStr | None = None
    if ask_anyway or not (from_flags or assume_defaults):
        try:
            answers, password = ask(answers, served)
        except Stopped as stop:
            flagged = answers.model_dump(include=answers.model_fields_set)
            given = {**flagged, **stop.answers}
            how = "interrupted" if stop.interrupted else "the input ended"
            resume = resume_command(given, config_path, force=force)
            again = f"go on with your answers as defaults: {resume}" if given else "run it again"
            raise InitStopped(
                f"{how} before the last question: nothing written; {again}",
                interrupted=stop.interrupted,
            ) from None
    else:
        answers = _listed_model(console, answers, served)
    result = write_config(answers, path, force=force, password=password)
    print_next_steps(console, result, answers)
    return result


def print_next_steps(console: Console, result: InitResult, answers: InitAnswers) -> None:
    from rich.markup import escape

    from agent.init.write import PASSWORD_VARIABLE

    console.print(f"[green]Wrote {escape(str(result.config))}[/]", soft_wrap=True)
    if result.env_file is not None:
        console.print(
            f"The SMTP password is in {escape(str(result.env_file))} (mode 600).", soft_wrap=True
        )
    elif answers.email and answers.username:
        console.print(f"Set the SMTP password in the environment: export {PASSWORD_VARIABLE}=…")
    if answers.model == "openai":
        console.print("The model key is read from OPENAI_API_KEY in the environment.")
    secrets_in_shell = answers.model == "openai" or (answers.username and result.env_file is None)
    if secrets_in_shell:
        console.print(
            "cron and systemd do not see your shell's variables: keep them in an env file "
            "(chmod 600) that the job loads, as examples/cron.txt shows.",
            soft_wrap=True,
        )
    config = escape(str(result.config))
    console.print("\nNext:", soft_wrap=True)
    console.print(f"  digest doctor --config {config}      # check every part now", soft_wrap=True)
    console.print(
        f"  digest daily --config {config} --no-send   # build today's digest", soft_wrap=True
    )
    print_schedule(console, result, answers)
    console.print(f"or in the foreground: digest schedule --config {config}", soft_wrap=True)


def print_schedule(console: Console, result: InitResult, answers: InitAnswers) -> None:
    """The crontab lines, the systemd timer's lines (or why there are none)."""
    from rich.markup import escape

    console.print("\nSchedule it with cron (crontab -e, at the end):", soft_wrap=True)
    for line in result.crontab:
        console.print(f"  {escape(line)}", soft_wrap=True)
    if answers.tz:
        console.print(
            f"  (CRON_TZ={escape(answers.tz)} applies to the lines after it; cronie (Fedora, RHEL, "
            "Arch) honours it, other crons use the machine's zone: there, use the systemd timer)",
            soft_wrap=True,
        )
    if result.on_calendar is None:
        console.print(
            f"No systemd timer: OnCalendar cannot say '{escape(answers.cron)}' (e.g. cron runs on "
            "the day of the month OR the weekday, systemd only on both).",
            soft_wrap=True,
        )
        return
    console.print("or with a systemd user timer (examples/systemd/):", soft_wrap=True)
    console.print(
        f"  in paper-digest.timer:   OnCalendar={escape(result.on_calendar)}", soft_wrap=True
    )
    for line in result.unit_environment:
        console.print(f"  in paper-digest.service: {escape(line)}", soft_wrap=True)


__all__ = ["init_options", "print_schedule", "resume_command", "run_init"]
