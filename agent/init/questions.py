"""The interactive part of `digest init`: one question per choice, each with a default."""

from __future__ import annotations

import os
from typing import Any, get_args

import click
from pydantic import SecretStr, ValidationError

from agent.config import Dialect
from agent.init.answers import COMMON_CATEGORIES, DEFAULT_LOCAL_URL, InitAnswers


def _split(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


def _retry(field: str, value: Any, answers: InitAnswers) -> str | None:
    """The validation error of one answer, as one line, or None when it is fine."""
    try:
        InitAnswers.model_validate({**answers.model_dump(), field: value})
    except ValidationError as exc:
        return exc.errors()[0]["msg"].removeprefix("Value error, ")
    return None


def _ask_list(
    field: str, text: str, default: list[str], answers: InitAnswers, *, required: bool = False
) -> list[str]:
    """A list answer, asked again until it is valid; '-' (or nothing, without a default) is
    none, which a `required` question does not take."""
    while True:
        value = _split(
            click.prompt(text, default=" ".join(default), show_default=bool(default))
            if default
            else click.prompt(text, default="", show_default=False)
        )
        if value in ([], ["-"]):
            if not required:
                return []
            click.echo("  give at least one")
            continue
        problem = _retry(field, value, answers)
        if problem is None:
            return value
        click.echo(f"  {problem}")


def _ask_checked(field: str, text: str, default: str, answers: InitAnswers) -> str:
    """One answer, asked again until it is valid."""
    while True:
        value = click.prompt(text, default=default).strip()
        problem = _retry(field, value, answers)
        if problem is None:
            return value
        click.echo(f"  {problem}")


def _sources(a: dict[str, Any], answers: InitAnswers) -> None:
    click.echo("Fields to follow (arXiv categories), e.g.:")
    for name, meaning in COMMON_CATEGORIES.items():
        click.echo(f"  {name:<9} {meaning}")
    a["categories"] = _ask_list(
        "categories", "Categories (space-separated; '-' for none)", answers.categories, answers
    )
    a["hf_daily"] = click.confirm("Add the Hugging Face daily papers?", default=answers.hf_daily)
    a["interests"] = click.prompt(
        "Your interests, in a sentence (empty: rank by upvotes and recency)",
        default=answers.interests,
        show_default=False,
    ).strip()
    library = click.prompt(
        "A library file of papers you keep (.bib, .json; empty: none)",
        default="",
        show_default=False,
    ).strip()
    a["library"] = [library] if library else []


def _model(a: dict[str, Any], answers: InitAnswers) -> None:
    has_key = bool(os.environ.get("OPENAI_API_KEY"))
    default = "openai" if has_key else answers.model
    click.echo(
        "Model: openai (the key from OPENAI_API_KEY"
        f"{', which is set' if has_key else ', not set in this shell'}), local (an "
        "OpenAI-compatible server such as llama.cpp), or none (the offline engine)."
    )
    a["model"] = click.prompt(
        "Model", type=click.Choice(["openai", "local", "none"]), default=default
    )
    if a["model"] == "local":
        a["base_url"] = _ask_checked(
            "base_url", "Server URL", answers.base_url or DEFAULT_LOCAL_URL, answers
        )
        a["model_name"] = click.prompt("Model name", default=answers.model_name)
        a["dialect"] = click.prompt(
            "Structured-output dialect",
            type=click.Choice(list(get_args(Dialect))),
            default="json_object_schema",
        )
    elif a["model"] == "openai":
        a["model_name"] = click.prompt("Model name", default=answers.model_name)


def _email(a: dict[str, Any], answers: InitAnswers) -> SecretStr | None:
    a["email"] = click.confirm("Send the digest by email?", default=True)
    if not a["email"]:
        return None
    a["smtp_host"] = click.prompt("SMTP server", default=answers.smtp_host or None)
    a["security"] = click.prompt(
        "Security", type=click.Choice(["starttls", "ssl", "none"]), default=answers.security
    )
    port = {"starttls": 587, "ssl": 465, "none": 25}[a["security"]]
    a["smtp_port"] = click.prompt("Port", type=click.IntRange(1, 65535), default=port)
    a["username"] = (
        click.prompt("Login name (empty: no login)", default="", show_default=False).strip() or None
    )
    a["recipients"] = _ask_list(
        "recipients", "Send to (addresses)", answers.recipients, answers, required=True
    )
    a["sender"] = click.prompt(
        "From", default=answers.sender or f"Paper digest <{a['recipients'][0]}>"
    )
    if not a["username"]:
        return None
    password = click.prompt(
        "Password (kept in digest.env beside the config, readable by you only; empty: set "
        "DIGEST_EMAIL__PASSWORD yourself)",
        default="",
        hide_input=True,
        show_default=False,
    )
    return SecretStr(password) if password else None


def ask(answers: InitAnswers) -> tuple[InitAnswers, SecretStr | None]:
    """Ask every question, the current answers as defaults; returns the answers and the SMTP
    password (None: not given, it stays the user's to set in the environment)."""
    a: dict[str, Any] = answers.model_dump()
    _sources(a, answers)
    _model(a, answers)
    password = _email(a, answers)
    a["cron"] = click.prompt(
        "When to run (cron: minute hour day month weekday)", default=answers.cron
    )
    tz = click.prompt(
        "Time zone (empty: this machine's)", default=answers.tz or "", show_default=False
    )
    a["tz"] = tz.strip() or None
    return InitAnswers.model_validate(a), password


__all__ = ["ask"]
