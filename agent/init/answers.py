"""What `digest init` needs to know, validated; the sources and the model follow from it."""

from __future__ import annotations

import re
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.config import Dialect, SmtpSecurity
from agent.core.urls import check_http_url

ModelKind = Literal["openai", "local", "none"]

# A short list to pick from; any arXiv category name is accepted.
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
_CATEGORY = re.compile(r"^[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?$")
DEFAULT_CRON = "0 7 * * 1-5"
DEFAULT_LOCAL_URL = "http://127.0.0.1:8080/v1"


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
    dialect: Dialect = "json_schema"
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
        for value in cleaned:
            if not _CATEGORY.match(value):
                raise ValueError(f"{value!r} is not an arXiv category (e.g. cs.CL, stat.ML)")
        return list(dict.fromkeys(cleaned))

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value, "the server URL")

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
