"""Typed settings: a TOML file, then DIGEST_* environment variables, then CLI flags."""

from __future__ import annotations

import contextvars
import difflib
import logging
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from agent import config_keys
from agent.core import parsing
from agent.core.choices import Dialect, EngineChoice, SmtpSecurity, Thinking
from agent.core.one_line import one_line
from agent.core.urls import check_http_url
from agent.errors import ConfigError

logger = logging.getLogger(__name__)
CONFIG_ENV = "DIGEST_CONFIG"  # the config file, for cron and systemd (like --config)
# The table of the config file being loaded, as `_read_toml` read and parsed it (once).
_TOML: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("toml", default=None)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourcesSettings(Section):
    """Where papers come from, and the endpoints (overridable for mirrors and tests)."""

    default: list[str] = Field(
        default_factory=list,
        description="sources when no `--source` is given (`arxiv-rss:CATS`, `arxiv:QUERY`, "
        "`hf-daily`, `s2:QUERY`, `file:PATH`, `local`, `sample`); none: `digest daily` says "
        "so and exits 2",
    )
    arxiv_rss_url: str = Field(
        default="https://rss.arxiv.org/rss/",
        description="the arXiv RSS endpoint (mirrors, proxies, tests)",
    )
    arxiv_api_url: str = Field(
        default="https://export.arxiv.org/api/query",
        description="the arXiv API endpoint (mirrors, proxies, tests)",
    )
    hf_url: str = Field(
        default="https://huggingface.co/api/daily_papers",
        description="the Hugging Face daily papers endpoint (mirrors, proxies, tests)",
    )
    announce_types: list[str] = Field(
        default_factory=lambda: ["new", "cross"],
        description='arXiv RSS announce types kept; add "replace", "replace-cross" to see '
        "replacements",
    )
    arxiv_min_interval_seconds: float = Field(
        default=3.0, ge=0, description="spacing of requests across all arXiv endpoints"
    )
    arxiv_api_max_results: int = Field(
        default=200, ge=1, le=30000, description="paging limit of `arxiv:QUERY`"
    )
    catch_up_days: int = Field(
        default=7,
        ge=0,
        le=60,
        description="a dated source (`hf-daily`) also reads the days missed since its last "
        "good read (a failed or skipped run), at most this many days back; 0 reads only the "
        "digest date",
    )
    timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="one HTTP request of a source, as a whole (connect, headers, body), per "
        "attempt; also how long a FIFO given as a file may take",
    )
    max_attempts: int = Field(
        default=4, ge=1, le=10, description="attempts per request (retries with backoff)"
    )
    max_response_bytes: int = Field(
        default=50_000_000,
        ge=10_000,
        description="a response longer than this (or without end) fails that source",
    )
    user_agent: str = Field(
        default="paper-digest/0.1 (+https://github.com/paper-digest/paper-digest)",
        description="the User-Agent of every source request",
    )

    @field_validator("arxiv_rss_url", "arxiv_api_url", "hf_url", mode="after")
    @classmethod
    def _http(cls, value: str, info: ValidationInfo) -> str:
        return check_http_url(value, f"sources.{info.field_name}")


class Price(Section):
    """USD per million tokens."""

    input: float = Field(ge=0, description="USD per million input tokens")
    output: float = Field(ge=0, description="USD per million output tokens")
    cached_input: float | None = Field(
        default=None, ge=0, description="USD per million cached input tokens (none: `input`)"
    )


def _default_prices() -> dict[str, Price]:
    return {
        "gpt-4o-mini": Price(input=0.15, output=0.60, cached_input=0.075),
        "gpt-4o": Price(input=2.50, output=10.00, cached_input=1.25),
        "gpt-4.1-mini": Price(input=0.40, output=1.60, cached_input=0.10),
        "gpt-4.1-nano": Price(input=0.10, output=0.40, cached_input=0.025),
    }


_CLOCK_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_AFTER_START = re.compile(r"^(\d{1,5})\s*(m|min|minutes?|s|sec|seconds?)?$")
_MAX_DEADLINE_SECONDS = 24 * 3600


def batch_deadline(value: object) -> str:
    """A batch deadline, normalised to "HH:MM" (local clock time) or "<n>s" (seconds after the
    start). "06:30", "6:30", "45m", "45 min", 45 and "45" (minutes) and "90s" are taken."""
    if isinstance(value, bool):  # pydantic turns a ValueError, not a TypeError, into a message
        raise ValueError('a deadline is a clock time ("06:30") or minutes ("45m")')  # noqa: TRY004
    text = str(value).strip().lower()
    clock = _CLOCK_TIME.match(text)
    if clock:
        return f"{int(clock.group(1)):02d}:{clock.group(2)}"
    after = _AFTER_START.match(text)
    if after is None:
        raise ValueError(
            f'{str(value)[:40]!r} is not a deadline: use a clock time ("06:30") or minutes ("45m")'
        )
    seconds = int(after.group(1)) * (1 if (after.group(2) or "m").startswith("s") else 60)
    if not 1 <= seconds <= _MAX_DEADLINE_SECONDS:
        raise ValueError("a deadline after the start must be between 1 second and 24 hours")
    return f"{seconds}s"


class LLMSettings(Section):
    """The language-model engine: endpoint, dialect, limits, prices."""

    model: str = Field(default="gpt-4o-mini", description="the model's name at the endpoint")
    base_url: str | None = Field(
        default=None,
        description="an OpenAI-compatible endpoint, e.g. a local server "
        "(`OPENAI_BASE_URL` is honoured too); none: OpenAI",
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="the endpoint's key, a secret (`OPENAI_API_KEY` is honoured too); "
        "no key and no base URL: the offline engine",
    )
    dialect: Dialect = Field(
        default="auto",
        description="structured-output form: `json_schema`, `json_object_schema` (llama.cpp), "
        "`json_object`, `tools`, or `auto` (the first the server does not reject, remembered)",
    )
    thinking: Thinking = Field(
        default="auto",
        description="a reasoning model's thinking (Qwen3, DeepSeek-R1, gpt-oss): `auto` sends "
        "nothing about it; `off` asks the server not to think (`chat_template_kwargs` "
        "`enable_thinking: false` for llama.cpp and vLLM, `reasoning_effort: none` for Ollama "
        "and OpenAI), dropping for the run a field the server refuses",
    )
    temperature: float = Field(default=0.2, ge=0, le=2, description="sampling temperature")
    seed: int | None = Field(
        default=None,
        description="sent when set, so servers that take it repeat; `digest eval` sets one "
        "(and temperature 0)",
    )
    local_defaults: bool | None = Field(
        default=None,
        description="`true`/`false` forces the local-server defaults (concurrency 1, longer "
        "timeouts, smaller budgets, no built-in prices) on or off; unset, they apply when "
        "`base_url` is a loopback or private address",
    )
    timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="one model call as a whole, a trickling answer included",
    )
    max_attempts: int = Field(default=4, ge=1, le=10, description="attempts per model call")
    max_retry_wait_seconds: float = Field(
        default=30.0, ge=0, description="the longest wait between two attempts"
    )
    run_budget_seconds: float = Field(
        default=600.0,
        gt=0,
        description="model time per run, from its first model work, every reader included; "
        "calls in flight are cancelled when it is spent and the offline engine finishes",
    )
    max_answer_bytes: int = Field(
        default=1_000_000,
        ge=10_000,
        description="a longer model answer is refused (not retried)",
    )
    concurrency: int = Field(
        default=16,
        ge=1,
        le=64,
        description="most model calls in flight; halved when the provider answers 429, one "
        "added back after as many successes",
    )
    circuit_breaker_failures: int = Field(
        default=3,
        ge=1,
        description="consecutive failed calls after which the rest of the run goes straight to "
        "the fallback",
    )
    max_reasks: int = Field(
        default=2, ge=0, le=5, description="validation re-asks before the deterministic repair"
    )
    context_window: int = Field(
        default=128_000,
        ge=2_048,
        description="the model's context, in tokens; calls are sized to fit it (a server that "
        "refuses a longer request teaches the run its real window, which the run then says)",
    )
    input_budget_tokens: int = Field(
        default=24_000, ge=1_000, description="input tokens per call; bigger days are batched"
    )
    max_output_tokens: int = Field(default=8_192, ge=256, description="output tokens per call")
    fallback_model: str | None = Field(
        default=None, description="the second link of the chain, before the offline engine"
    )
    fallback_base_url: str | None = Field(
        default=None, description="the fallback model's endpoint (none: `base_url`)"
    )
    chat_model: str | None = Field(
        default=None,
        description='any LangChain chat model by import path, "module:Class"',
    )
    chat_model_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="keyword arguments for `chat_model`"
    )
    prices: dict[str, Price] = Field(
        default_factory=_default_prices,
        description="USD per million tokens per model (`[llm.prices.MODEL]` with `input`, "
        "`output`, `cached_input`), for the cost estimate and the cap",
        json_schema_extra={"shown_default": "gpt-4o-mini, gpt-4o, gpt-4.1-mini, gpt-4.1-nano"},
    )
    max_cost_usd: float | None = Field(
        default=None,
        ge=0,
        description="cost cap of the run (every reader, the relevance pass and the shared "
        "blurbs together); past it, the offline engine writes the rest",
    )
    max_calls: int | None = Field(
        default=None,
        ge=1,
        description="model calls per run, counted as they start (cache hits are free); past "
        "it, offline",
    )
    max_total_tokens: int | None = Field(
        default=None, ge=1, description="input plus output tokens per run; past it, offline"
    )
    cache: bool = Field(
        default=True, description="the answer cache (`--no-cache` skips it for one run)"
    )
    rerank: bool = Field(
        default=False,
        description="a model relevance pass over the top candidates of the offline ranking",
    )
    rerank_candidates: int = Field(
        default=60, ge=2, le=500, description="how many candidates the relevance pass scores"
    )
    language: str = Field(
        default="English",
        description="the reader's language, a name or a code (`zh`, `de`, `Deutsch`): themes, "
        "summaries, blurbs and headline in it; the offline engine writes English only",
    )
    batch: bool = Field(
        default=False,
        description="`digest daily` through the provider's Batch API (about half price, "
        "answers within hours)",
    )
    batch_deadline: str = Field(
        default="60m",
        validate_default=True,
        description="past it, a pending batch is cancelled and direct calls finish: a local "
        'clock time ("06:30") or minutes after the model work starts ("45m", 45)',
    )
    batch_poll_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="how often a batch's status is asked for"
    )
    batch_price_factor: float = Field(
        default=0.5, gt=0, le=1, description="the batch price, as a fraction of `prices`"
    )
    batch_reasks: Literal["direct", "batch"] = Field(
        default="direct", description="re-asks of batched answers: `direct` calls or a new `batch`"
    )

    @field_validator("batch_deadline", mode="before")
    @classmethod
    def _batch_deadline(cls, value: object) -> str:
        return batch_deadline(value)

    @field_validator("base_url", "fallback_base_url", mode="after")
    @classmethod
    def _http(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else check_http_url(value, f"llm.{info.field_name}")

    @field_validator("language", mode="after")
    @classmethod
    def _language(cls, value: str) -> str:
        from agent.core.language import language_name

        return language_name(value)

    @property
    def configured(self) -> bool:
        """True when a key or a base URL (or a custom chat model) makes the model usable."""
        return bool(self.api_key or self.base_url or self.chat_model)


class ZoteroSettings(Section):
    """The Zotero web API as a library source (read through the bounded HTTP client)."""

    user_id: str | None = Field(
        default=None,
        pattern=r"^\d{1,12}$",
        description="the numeric Zotero user or group id; set, the library is read on every run",
    )
    library_type: Literal["user", "group"] = Field(default="user", description="`user` or `group`")
    api_key: SecretStr | None = Field(
        default=None, description="the Zotero API key, a secret (`DIGEST_ZOTERO__API_KEY`)"
    )
    collections: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,32}$")]] = Field(
        default_factory=list, description="collection keys to read; empty: everything"
    )
    base_url: str = Field(
        default="https://api.zotero.org", description="the Zotero API (tests and proxies)"
    )
    timeout_seconds: float = Field(default=30.0, gt=0, description="one page, connect to last byte")
    budget_seconds: float = Field(
        default=120.0, gt=0, description="the whole read: pages, retries and waits"
    )
    max_response_bytes: int = Field(
        default=20_000_000, ge=10_000, description="the largest page read"
    )
    max_items: int = Field(default=5_000, ge=1, le=100_000, description="the most items read")

    @field_validator("base_url", mode="after")
    @classmethod
    def _http(cls, value: str) -> str:
        return check_http_url(value, "zotero.base_url")

    @property
    def configured(self) -> bool:
        return bool(self.user_id)


def check_address(value: str) -> str:
    """One address, "name@host" or "Name <name@host>", checked with email-validator."""
    if "\r" in value or "\n" in value:
        raise PydanticCustomError("address", "a line break in an address is not allowed")
    if not value.strip():
        raise PydanticCustomError("address", "an empty address")
    if value.count("@") > 1 and ("," in value or ";" in value):
        raise PydanticCustomError(
            "address",
            "{value} holds more than one address; list each one separately",
            {"value": repr(value)},
        )
    try:
        validate_email(value.strip())
    except PydanticCustomError as exc:
        reason = exc.message().removeprefix("value is not a valid email address: ")
        raise PydanticCustomError(
            "address",
            "{value} is not a valid email address ({reason})",
            {"value": repr(value), "reason": reason},
        ) from None
    return value.strip()


Address = Annotated[str, AfterValidator(check_address)]


def check_category(value: str) -> str:
    """One arXiv category as arXiv spells it: a wrong case is corrected, with a warning that
    names both (a filter on `cs.Cl` keeps no paper); an unknown name is an error that
    suggests the closest ones."""
    from agent.taxonomy import arxiv_spelling, category_problem

    spelt = arxiv_spelling(value)
    if spelt is None:
        raise PydanticCustomError("category", "{problem}", {"problem": category_problem(value)})
    if spelt != value:
        logger.warning(
            "categories: %s read as %s, arXiv's spelling (write %s in the config)",
            one_line(repr(value), 80),
            spelt,
            spelt,
        )
    return spelt


ArxivCategory = Annotated[str, AfterValidator(check_category)]


class EmailSettings(Section):
    """SMTP delivery. Nothing is sent unless smtp_host, sender and recipients are set."""

    smtp_host: str | None = Field(default=None, description="the SMTP server; none: no email")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="the SMTP port")
    security: SmtpSecurity = Field(
        default="starttls", description="`starttls`, `ssl` or `none` (localhost only)"
    )
    username: str | None = Field(default=None, description="the SMTP login (AUTH)")
    password: SecretStr | None = Field(
        default=None,
        description="the SMTP password, a secret: set `DIGEST_EMAIL__PASSWORD` rather than "
        "writing it in the file",
    )
    sender: Address | None = Field(
        default=None,
        description='the From address, "name@host" or "Name <name@host>", checked when the '
        "settings load",
    )
    recipients: list[Address] = Field(
        default_factory=list, description="the To addresses, one address per entry"
    )
    one_message_per_recipient: bool = Field(
        default=True, description="false: one message, the recipients in BCC"
    )
    list_unsubscribe: str | None = Field(
        default=None, description="the `List-Unsubscribe` header, e.g. `<mailto:...>`"
    )
    timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="each attempt's whole SMTP exchange, connect to QUIT (a trickling banner "
        "included)",
    )
    max_attempts: int = Field(
        default=4, ge=1, le=10, description="attempts per message before it is spooled"
    )
    send_empty_note: bool = Field(
        default=False, description="mail a short note on days with nothing new"
    )
    max_html_bytes: int = Field(
        default=100_000,
        ge=10_000,
        description="size cap of the HTML part and of the text part (Gmail clips at about "
        "102 KB); the `.eml` is kept under three times it",
    )

    @property
    def configured(self) -> bool:
        return bool(self.smtp_host and self.sender and self.recipients)


class ScheduleSettings(Section):
    """When the daily run is meant to happen (`digest schedule`, `digest doctor`, `digest init`)."""

    cron: str | None = Field(
        default=None,
        description='when the daily run happens, in cron syntax ("0 7 * * 1-5": 07:00 on '
        "weekdays): `digest schedule` runs it, `digest doctor` shows the next run",
    )
    tz: str | None = Field(
        default=None, description="the IANA time zone of the cron times; none: this machine's"
    )


class WebhookSettings(Section):
    """One webhook channel: Slack (Block Kit), Discord or a generic JSON POST of digest.json.

    The URL carries the channel's secret token (Slack, Discord), so it is a SecretStr: never
    logged, never spooled; the ledger and the outbox know the webhook by its `name`."""

    name: str = Field(
        min_length=1,
        max_length=60,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="the ledger and the outbox know the webhook by this name",
    )
    kind: Literal["slack", "discord", "json"] = Field(
        default="json",
        description="`slack` (Block Kit), `discord` (embeds) or `json` (digest.json POSTed)",
    )
    url: SecretStr = Field(
        description="the webhook's URL, a secret (it carries the channel's token): never "
        "logged or spooled"
    )
    timeout_seconds: float = Field(default=15.0, gt=0, description="one post, as a whole")
    max_attempts: int = Field(default=4, ge=1, le=10, description="attempts per post")

    @field_validator("url", mode="after")
    @classmethod
    def _http(cls, value: SecretStr) -> SecretStr:
        return SecretStr(check_http_url(value.get_secret_value(), "a webhook url"))


RelevanceThreshold = Literal["auto", "off"] | Annotated[float, Field(ge=-5.0, le=10.0)]


_AS_TOP = "this reader's `%s`; unset: the top-level one"


class ReaderSettings(Section):
    """One reader of a shared run (`[readers.NAME]`): their own selection, recipients and
    language. A key left out takes the top-level setting."""

    interests: str | None = Field(default=None, description=_AS_TOP % "interests")
    include_keywords: list[str] | None = Field(
        default=None, description=_AS_TOP % "include_keywords"
    )
    exclude_keywords: list[str] | None = Field(
        default=None, description=_AS_TOP % "exclude_keywords"
    )
    categories: list[ArxivCategory] | None = Field(default=None, description=_AS_TOP % "categories")
    library: list[str] | None = Field(default=None, description=_AS_TOP % "library")
    authors: list[str] | None = Field(default=None, description=_AS_TOP % "authors")
    not_interested: str | None = Field(default=None, description=_AS_TOP % "not_interested")
    max_papers: int | None = Field(
        default=None, ge=1, le=10_000, description=_AS_TOP % "max_papers"
    )
    relevance_threshold: RelevanceThreshold | None = Field(
        default=None, description=_AS_TOP % "relevance_threshold"
    )
    recipients: list[Address] | None = Field(
        default=None, description="this reader's email recipients; unset: `[email] recipients`"
    )
    language: str | None = Field(default=None, description="this reader's `[llm] language`")

    @field_validator("language", mode="after")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        from agent.core.language import language_name

        return language_name(value) if value is not None else None


class SelectionSettings(Section):
    """The select stage's section (`Settings.selection`): what it reads of one reader's
    settings, the top-level keys (or a [readers.NAME]'s over them). No defaults of its own:
    it is made from a `Settings`, whose defaults these are."""

    interests: str
    include_keywords: list[str]
    exclude_keywords: list[str]
    categories: list[str]
    library: list[str]
    authors: list[str]
    not_interested: str
    max_papers: int
    relevance_threshold: RelevanceThreshold
    show_updated: bool
    zotero: ZoteroSettings


READER_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$"


class Settings(BaseSettings):
    """All settings. Precedence: CLI flags > DIGEST_* env > TOML file > defaults."""

    model_config = SettingsConfigDict(
        env_prefix="DIGEST_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    home: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("paper-digest")),
        description="`DIGEST_HOME`: the state database, the caches, the archive, the outbox",
        json_schema_extra={
            "shown_default": "the user data directory (~/.local/share/paper-digest on Linux)"
        },
    )
    out_dir: Path | None = Field(
        default=None,
        description="where `digest daily` writes `<date>/digest.*` (`--out` wins); none: "
        "`home/archive`",
    )
    engine: EngineChoice = Field(
        default="auto", description="`auto`, `offline` or `llm` (`--engine` wins)"
    )
    max_papers: int = Field(
        default=30, ge=1, le=10_000, description="papers summarised; the rest are listed by title"
    )
    relevance_threshold: RelevanceThreshold = Field(
        default="auto",
        description="with a library or up-ratings, only papers this close to you are picks "
        "(the rest go to Also new): `auto` learns the bar from your papers, `off` fills "
        "`max_papers`, a number is a bar in standard deviations above the day's mean",
    )
    interests: str = Field(
        default="", description="what you care about, in free text: papers are ranked by it"
    )
    include_keywords: list[str] = Field(
        default_factory=list, description="keywords that lift a paper"
    )
    exclude_keywords: list[str] = Field(
        default_factory=list, description="keywords that drop a paper"
    )
    categories: list[ArxivCategory] = Field(
        default_factory=list,
        description="arXiv categories to keep (`cs.CL`; a wrong case is corrected with a "
        "warning, an unknown name is an error); empty: all",
    )
    show_updated: bool = Field(
        default=True, description="list new versions of digested papers in a short section"
    )
    library: list[str] = Field(
        default_factory=list,
        description="your papers: `.bib`, `.ris`, Zotero `.csv`, `.txt` of arXiv ids or DOIs, "
        "`.json(l)` papers (`--library` adds more)",
    )
    authors: list[str] = Field(
        default_factory=list, description="followed authors: their papers are always selected"
    )
    not_interested: str = Field(
        default="", description="free text of what you do not want: it pushes papers down"
    )
    zotero: ZoteroSettings = Field(
        default_factory=ZoteroSettings, description="the Zotero web API as a library"
    )
    sources: SourcesSettings = Field(
        default_factory=SourcesSettings, description="where papers come from"
    )
    llm: LLMSettings = Field(default_factory=LLMSettings, description="the language model")
    email: EmailSettings = Field(default_factory=EmailSettings, description="SMTP delivery")
    schedule: ScheduleSettings = Field(
        default_factory=ScheduleSettings, description="when the daily run happens"
    )
    webhooks: list[WebhookSettings] = Field(
        default_factory=list,
        description="chat channels, one `[[webhooks]]` table each (`DIGEST_WEBHOOKS`: a JSON list)",
    )
    readers: dict[str, ReaderSettings] = Field(
        default_factory=dict,
        description="several readers of one run, one `[readers.NAME]` table each",
    )

    @field_validator("readers", mode="after")
    @classmethod
    def _reader_names(cls, value: dict[str, ReaderSettings]) -> dict[str, ReaderSettings]:
        for name in value:
            if not re.match(READER_NAME, name):
                raise ValueError(
                    f"reader name {name!r}: use letters, digits, '.', '_' or '-' (at most 60)"
                )
        return value

    @field_validator("webhooks", mode="after")
    @classmethod
    def _unique_names(cls, value: list[WebhookSettings]) -> list[WebhookSettings]:
        names = [hook.name for hook in value]
        if len(names) != len(set(names)):
            raise ValueError("every [[webhooks]] entry needs its own name")
        return value

    @field_validator("home", "out_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = _TOML.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, _KnownEnv(settings_cls)]
        if toml is not None:
            # what TomlConfigSettingsSource gives, without opening the file again
            sources.append(InitSettingsSource(settings_cls, init_kwargs=toml))
        return tuple(sources)

    @property
    def selection(self) -> SelectionSettings:
        """The select stage's section of these settings."""
        fields = set(SelectionSettings.model_fields)
        return SelectionSettings.model_validate(self.model_dump(include=fields))

    @property
    def llm_configured(self) -> bool:
        """True when a key or a base URL (or a custom chat model) makes the model engine usable."""
        return self.llm.configured


def model_needed(what: str) -> ConfigError:
    """The error for `what` (a command's option) asked for with no model configured."""
    return ConfigError(
        f"{what} needs a model: set OPENAI_API_KEY (or DIGEST_LLM__API_KEY) or llm.base_url "
        "for a local OpenAI-compatible server"
    )


MAX_SETTING_CHARS = 1_000_000  # one DIGEST_* value, or the config file
MAX_SETTING_DEPTH = 16  # no setting nests deeper than a few levels


class _KnownEnv(EnvSettingsSource):
    """DIGEST_* variables as pydantic-settings reads them, less the unknown ones (warned about
    and ignored, as the warning says), with JSON values read depth- and size-capped."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        loaded = super()._load_env_vars()
        unknown = {name.lower() for name in unknown_env_names(os.environ)}
        return {name: value for name, value in loaded.items() if name.lower() not in unknown}

    def decode_complex_value(self, field_name: str, field: FieldInfo | None, value: Any) -> Any:
        if not isinstance(value, str):
            return super().decode_complex_value(field_name, field, value)  # type: ignore[arg-type]
        return parsing.loads(
            value, what="the value", max_chars=MAX_SETTING_CHARS, max_depth=MAX_SETTING_DEPTH
        )


def _honour_openai_env(settings: Settings) -> Settings:
    """Fill the model key and base URL from OPENAI_API_KEY / OPENAI_BASE_URL, as the SDK does."""
    updates: dict[str, Any] = {}
    if settings.llm.api_key is None and os.environ.get("OPENAI_API_KEY"):
        updates["api_key"] = SecretStr(os.environ["OPENAI_API_KEY"])
    if settings.llm.base_url is None and os.environ.get("OPENAI_BASE_URL"):
        try:
            updates["base_url"] = check_http_url(os.environ["OPENAI_BASE_URL"], "OPENAI_BASE_URL")
        except ValueError as exc:
            raise ConfigError(f"bad environment setting: {exc}") from None
    if not updates:
        return settings
    return settings.model_copy(update={"llm": settings.llm.model_copy(update=updates)})


def _env_names(model: type[BaseModel], prefix: str, depth: int) -> tuple[set[str], set[str]]:
    """(setting names, names of dict settings that take any sub-key) under `prefix`."""
    names: set[str] = set()
    open_tables: set[str] = set()
    for name, field in model.model_fields.items():
        key = f"{prefix}{name.upper()}"
        names.add(key)
        kind = field.annotation
        if typing.get_origin(kind) is dict:
            open_tables.add(key)
        elif depth > 0 and isinstance(kind, type) and issubclass(kind, BaseModel):
            inner, inner_open = _env_names(kind, f"{key}__", depth - 1)
            names |= inner
            open_tables |= inner_open
    return names, open_tables


def unknown_env_names(environ: Mapping[str, str]) -> list[str]:
    """The DIGEST_* variables that are not settings (sorted)."""
    known, open_tables = _env_names(Settings, "DIGEST_", 1)
    known.add(CONFIG_ENV)
    unknown = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith("DIGEST_") or upper in known:
            continue
        if any(upper.startswith(f"{table}__") for table in open_tables):
            continue
        unknown.append(name)
    return unknown


def unknown_env_warnings(environ: Mapping[str, str]) -> list[str]:
    """One warning per DIGEST_* variable that is not a setting, naming the closest real one."""
    known, _ = _env_names(Settings, "DIGEST_", 1)
    warnings = []
    for name in unknown_env_names(environ):
        close = difflib.get_close_matches(name.upper(), sorted(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        warnings.append(
            f"environment variable {one_line(name, 80)} is not a setting and is ignored{hint}"
        )
    return warnings


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The text and the parsed table of the TOML file at `path`, read once. ConfigError unless
    it is valid, at most MAX_SETTING_CHARS long and nested at most MAX_SETTING_DEPTH deep
    (checked in linear time before parsing)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_SETTING_CHARS + 1)
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror or exc}") from None
    if len(raw) > MAX_SETTING_CHARS:
        raise ConfigError(f"config file {path} is over {MAX_SETTING_CHARS:,} bytes; refused")
    try:
        parsing.check_nesting(text, "the file", limit=MAX_SETTING_DEPTH, toml=True)
        data = tomllib.loads(text)
    except parsing.JsonError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {one_line(exc, 200)}") from None
    return text, data


def config_file(config_path: Path | None) -> Path | None:
    """The file `digest` reads: --config, else $DIGEST_CONFIG, else ./digest.toml when present,
    else none (defaults and DIGEST_* variables only)."""
    if config_path is not None:
        return config_path
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]).expanduser()
    candidate = Path.cwd() / "digest.toml"
    return candidate if candidate.is_file() else None


def load_settings(config_path: Path | None = None, **overrides: Any) -> Settings:
    """Load settings; `config_path` None means ./digest.toml when it exists. Raises ConfigError."""
    for warning in unknown_env_warnings(os.environ):
        logger.warning("%s", warning)
    given = config_path is not None or bool(os.environ.get(CONFIG_ENV))
    config_path = config_file(config_path)
    if given and config_path is not None and not config_path.is_file():
        raise ConfigError(f"config file not found: {config_path}")
    text, data = _read_toml(config_path) if config_path is not None else ("", {})
    clean = {key: value for key, value in overrides.items() if value is not None}
    token = _TOML.set(data if config_path is not None else None)
    try:
        settings = Settings(**clean)
    except ValidationError as exc:
        raise config_keys.describe(exc, Settings, config_path, text, os.environ) from None
    except SettingsError as exc:  # e.g. DIGEST_EMAIL__RECIPIENTS that is not a JSON list
        field = re.search(r'field "([^"]+)"', str(exc))
        prefix = f"DIGEST_{field.group(1).upper()}" if field else "DIGEST_"
        names = [
            n for n in os.environ if n.upper() == prefix or n.upper().startswith(prefix + "__")
        ]
        where = f" {names[0]}" if len(names) == 1 else f" ({prefix}…)" if field else ""
        cause = one_line(exc.__cause__, 200) if exc.__cause__ else one_line(exc, 200)
        raise ConfigError(
            f"bad environment setting{where}: not valid JSON ({cause}); lists and tables are "
            """written as JSON, e.g. '["a@example.org"]'"""
        ) from None
    finally:
        _TOML.reset(token)
    return _honour_openai_env(settings)
