"""The interactive part of `digest init`: one question per choice, each with a default.

Every answer is checked as it is given: a bad one is asked again (with the closest valid
values as the new default), never carried to the end where it would cost all the others.
Ctrl-C (or the end of the input) stops with `Stopped`, which carries what was answered.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, get_args

import click
from pydantic import SecretStr, ValidationError

from agent.config import Dialect
from agent.core.redact import redact
from agent.init.answers import COMMON_CATEGORIES, DEFAULT_LOCAL_URL, InitAnswers
from agent.schedule import closest_zones
from agent.taxonomy import closest_categories

Suggest = Callable[[Any], str | None]
NO_EMAIL = (
    "No email for now: digests are written to DIGEST_HOME/archive. Fill in [email] in the "
    "config later (docs/configuration.md lists its keys)."
)


class Stopped(Exception):
    """Ctrl-C or the end of the input during the questions; `answers` holds what was answered."""

    def __init__(self, answers: dict[str, Any], *, interrupted: bool) -> None:
        super().__init__("digest init stopped before the last question")
        self.answers = answers
        self.interrupted = interrupted


def _split(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


def _validated(field: str, value: Any, a: dict[str, Any]) -> tuple[Any, str | None]:
    """The answer as the answers keep it (paths resolved, cron tidied) and None, or the
    validation error of this answer as one line."""
    try:
        return getattr(InitAnswers.model_validate({**a, field: value}), field), None
    except ValidationError as exc:
        for error in exc.errors():
            if error["loc"] and error["loc"][0] == field:
                return value, str(error["msg"]).removeprefix("Value error, ")
        return value, None  # another answer's problem: the end of the questions says it


ServedModels = Callable[[str], list[str] | None]
"""The models a server at a base URL lists (GET /models), None when it lists none: the command
asks it on its event loop (`agent.cli`), the questions stay plain sync prompts."""


class _Asker:
    """The questions' answers so far (`a`), which of them the user gave (`given`), and how to
    ask a server what it serves (`served`)."""

    def __init__(self, answers: InitAnswers, served: ServedModels) -> None:
        self.a: dict[str, Any] = answers.model_dump()
        self.given: dict[str, Any] = {}
        self.served = served

    def set(self, field: str, value: Any) -> Any:
        self.a[field] = self.given[field] = value
        return value

    def checked(
        self,
        field: str,
        text: str,
        default: str,
        *,
        parse: Callable[[str], Any] = str.strip,
        suggest: Suggest | None = None,
        show_default: bool = True,
    ) -> Any:
        """One answer, asked again until it is valid; a close valid value becomes the default."""
        while True:
            raw = click.prompt(text, default=default, show_default=show_default and bool(default))
            value, problem = _validated(field, parse(raw), self.a)
            if problem is None:
                return self.set(field, value)
            click.echo(f"  {problem}")
            better = suggest(value) if suggest else None
            if better:
                default, show_default = better, True


def _none_or_list(text: str) -> list[str]:
    parts = _split(text)
    return [] if parts == ["-"] else parts


def _closest_categories(values: list[str]) -> str | None:
    """Each name as its closest category; one with none close is left out."""
    fixed = [close[0] for close in map(closest_categories, values) if close]
    return " ".join(dict.fromkeys(fixed)) or None


def _closest_zone(value: str | None) -> str | None:
    close = closest_zones(value) if value else []
    return close[0] if close else None


def _sources(q: _Asker) -> None:
    click.echo("Fields to follow (arXiv categories), e.g.:")
    for name, meaning in COMMON_CATEGORIES.items():
        click.echo(f"  {name:<9} {meaning}")
    q.checked(
        "categories",
        "Categories (space-separated; '-' for none)",
        " ".join(q.a["categories"]),
        parse=_none_or_list,
        suggest=_closest_categories,
    )
    q.set("hf_daily", click.confirm("Add the Hugging Face daily papers?", default=q.a["hf_daily"]))
    q.set(
        "interests",
        click.prompt(
            "Your interests, in a sentence (empty: rank by upvotes and recency)",
            default=q.a["interests"],
            show_default=False,
        ).strip(),
    )
    q.checked(
        "library",
        "A library file of papers you keep (.bib, .ris, Zotero .csv, .txt of ids, .json; "
        "empty: none)",
        " ".join(str(p) for p in q.a["library"][:1]),
        parse=lambda text: [text.strip()] if text.strip() not in ("", "-") else [],
        show_default=True,
    )


def _model_name(q: _Asker, answers: InitAnswers) -> None:
    """The names the server lists (GET /models), the first as the default; with no list, an
    empty answer means no name (each run uses the model the server lists then), since a
    hosted model's name means nothing there."""
    listed = q.served(q.a["base_url"]) or []
    if listed:
        click.echo(f"  The server lists: {', '.join(listed[:10])}")
    else:
        click.echo(
            f"  No model list from {redact(q.a['base_url'])}/models now (is the server running?): "
            "type the name it serves, or Enter for none (each run asks the server)."
        )
    given = answers.model_name if "model_name" in answers.model_fields_set else None
    default = given or (listed[0] if listed else "")
    name = click.prompt("Model name", default=default, show_default=bool(default)).strip()
    q.set("model_name", name)


def _model(q: _Asker, answers: InitAnswers) -> None:
    has_key = bool(os.environ.get("OPENAI_API_KEY"))
    default = "openai" if has_key and "model" not in answers.model_fields_set else q.a["model"]
    click.echo(
        "Model: openai (the key from OPENAI_API_KEY"
        f"{', which is set' if has_key else ', not set in this shell'}), local (an "
        "OpenAI-compatible server such as llama.cpp), or none (the offline engine)."
    )
    model = q.set(
        "model",
        click.prompt("Model", type=click.Choice(["openai", "local", "none"]), default=default),
    )
    if model == "local":
        q.checked("base_url", "Server URL", q.a["base_url"] or DEFAULT_LOCAL_URL)
        _model_name(q, answers)
        q.set(
            "dialect",
            click.prompt(
                "Structured-output dialect (auto: the first form the server takes)",
                type=click.Choice(list(get_args(Dialect))),
                default=q.a["dialect"],
            ),
        )
    elif model == "openai":
        q.set("model_name", click.prompt("Model name", default=q.a["model_name"]))


def _recipients(q: _Asker) -> bool:
    """At least one address, or '-' for no email after all; False for that."""
    while True:
        text = click.prompt(
            "Send to (addresses; '-': no email after all)",
            default=" ".join(q.a["recipients"]),
            show_default=bool(q.a["recipients"]),
        )
        values = _split(text)
        if values == ["-"]:
            return False
        problem = (
            _validated("recipients", values, q.a)[1] if values else "give at least one address"
        )
        if problem is None:
            q.set("recipients", values)
            return True
        click.echo(f"  {problem}")


def _email(q: _Asker) -> SecretStr | None:
    default = q.a["email"] if "email" in q.given or q.a["smtp_host"] else True
    if not q.set("email", click.confirm("Send the digest by email?", default=default)):
        return None
    host = click.prompt(
        "SMTP server (empty: no email for now)",
        default=q.a["smtp_host"] or "",
        show_default=bool(q.a["smtp_host"]),
    ).strip()
    if not host:
        q.set("email", False)
        click.echo(f"  {NO_EMAIL}")
        return None
    q.set("smtp_host", host)
    security = q.set(
        "security",
        click.prompt(
            "Security", type=click.Choice(["starttls", "ssl", "none"]), default=q.a["security"]
        ),
    )
    port = {"starttls": 587, "ssl": 465, "none": 25}[security]
    q.set("smtp_port", click.prompt("Port", type=click.IntRange(1, 65535), default=port))
    q.set(
        "username",
        click.prompt(
            "Login name (empty: no login)", default=q.a["username"] or "", show_default=False
        ).strip()
        or None,
    )
    if not _recipients(q):
        q.set("email", False)
        click.echo(f"  {NO_EMAIL}")
        return None
    q.set(
        "sender",
        click.prompt("From", default=q.a["sender"] or f"Paper digest <{q.a['recipients'][0]}>"),
    )
    if not q.a["username"]:
        return None
    password = click.prompt(
        "Password (kept in digest.env beside the config, readable by you only; empty: set "
        "DIGEST_EMAIL__PASSWORD yourself)",
        default="",
        hide_input=True,
        show_default=False,
    )
    return SecretStr(password) if password else None


def ask(answers: InitAnswers, served: ServedModels) -> tuple[InitAnswers, SecretStr | None]:
    """Ask every question, the current answers as defaults; returns the answers and the SMTP
    password (None: not given, it stays the user's to set in the environment). Raises
    `Stopped` with the answers given so far on Ctrl-C or at the end of the input."""
    q = _Asker(answers, served)
    try:
        _sources(q)
        _model(q, answers)
        password = _email(q)
        q.checked("cron", "When to run (cron: minute hour day month weekday)", q.a["cron"])
        q.checked(
            "tz",
            "Time zone (empty: this machine's)",
            q.a["tz"] or "",
            parse=lambda text: text.strip() or None,
            suggest=_closest_zone,
        )
    except click.Abort as exc:
        interrupted = not isinstance(exc.__context__, EOFError)
        raise Stopped(q.given, interrupted=interrupted) from None
    return InitAnswers.model_validate(q.a), password


__all__ = ["ServedModels", "Stopped", "ask"]
