"""What `digest init` needs to know, validated; the sources and the model follow from it."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parseaddr
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.config import Dialect, SmtpSecurity
from agent.core.redact import redact
from agent.core.urls import check_http_url
from agent.taxonomy import category_problem

ModelKind = Literal["openai", "local", "none"]
T = TypeVar("T")

# A short list to pick from; any name of arXiv's taxonomy (agent/data/arxiv-categories.tsv).
COMMON_CATEGORIES: dict[str, str] = {
    "cs.CL": "computation and language (NLP)",
    "cs.LG": "machine learning",
    "cs.AI": "artificial intelligence",
    "cs.CV": "computer vision",
    "cs.IR": "information retrieval",
    "cs.RO": "robotics",
    "stat.ML": "statistics: machine learning",
    "q-bio.NC": "neurons and cognition",
}
DEFAULT_CRON = "0 7 * * 1-5"
DEFAULT_LOCAL_URL = "http://127.0.0.1:8080/v1"


def _checked(check: Callable[[str], T], value: str) -> T:
    """`check(value)`, its ConfigError as the ValueError a validator raises."""
    from agent.errors import ConfigError

    try:
        return check(value)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


class InitAnswers(BaseModel):
    """The answers to `digest init`'s questions; every field has the default a newcomer gets."""

    model_config = ConfigDict(extra="forbid")

    categories: list[str] = Field(default_factory=lambda: ["cs.CL"])
    hf_daily: bool = True
    interests: str = Field(default="", max_length=2_000)
    library: list[Path] = Field(default_factory=list)
    model: ModelKind = "none"
    model_name: str = "gpt-4o-mini"
    base_url: str | None = None
    dialect: Dialect = "auto"  # what a run takes by default: the first form the server accepts
    email: bool = False
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    security: SmtpSecurity = "starttls"
    username: str | None = None
    sender: str | None = None
    recipients: list[str] = Field(default_factory=list)
    cron: str = DEFAULT_CRON
    tz: str | None = None

    @field_validator("categories")
    @classmethod
    def _categories(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip() for value in values for v in value.replace("+", ",").split(",")]
        cleaned = [v for v in cleaned if v]
        problems = [p for p in map(category_problem, cleaned) if p]
        if problems:
            raise ValueError("; ".join(problems))
        return list(dict.fromkeys(cleaned))

    @field_validator("library")
    @classmethod
    def _library(cls, values: list[Path]) -> list[Path]:
        """Each file exists, reads and parses now; kept as an absolute path, since cron and
        systemd run in another directory."""
        from agent.errors import ConfigError
        from agent.select.library import describe_library_file

        paths = [path.expanduser().resolve() for path in values]
        for path in paths:
            try:
                describe_library_file(path)
            except ConfigError as exc:
                raise ValueError(str(exc).removeprefix("library ")) from None
        return list(dict.fromkeys(paths))

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_http_url(value, "the server URL")
        except ValueError:
            shown = redact(value.strip())[:80]  # no user:password@ or query echoed
            raise ValueError(
                f"{shown!r} is not an http(s) URL (e.g. {DEFAULT_LOCAL_URL})"
            ) from None

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from agent.schedule import validate_cron

        return _checked(validate_cron, value)

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        from agent.schedule import zone

        value = (value or "").strip() or None
        if value is not None:
            _checked(zone, value)
        return value

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, values: list[str]) -> list[str]:
        for value in values:
            address = parseaddr(value)[1]
            if "@" not in address or " " in address:
                raise ValueError(f"{value!r} is not an email address")
        return values

    def sources(self) -> list[str]:
        """The source specs these answers mean; the bundled sample when nothing is followed."""
        specs = [f"arxiv-rss:{'+'.join(self.categories)}"] if self.categories else []
        if self.hf_daily:
            specs.append("hf-daily")
        return specs or ["sample"]

    def problems(self) -> list[str]:
        """What is missing for the choices made (one line each); empty when complete."""
        found: list[str] = []
        if self.model == "local" and not self.base_url:
            found.append("a local model needs --base-url (e.g. http://127.0.0.1:8080/v1)")
        if self.email:
            if not self.smtp_host:
                found.append("email needs --smtp-host")
            if not self.sender:
                found.append("email needs --sender")
            if not self.recipients:
                found.append("email needs at least one --recipient")
        return found


__all__ = ["COMMON_CATEGORIES", "DEFAULT_CRON", "DEFAULT_LOCAL_URL", "InitAnswers", "ModelKind"]
