"""Several readers on one state ([readers.NAME] in the config): who they are, and each one's
settings (their own keys over the top-level ones, which are the defaults)."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.config import ReaderSettings, Settings
from agent.errors import ConfigError

READER_FOLDER_PREFIX = "reader-"


def reader_dir(date: dt.date, reader: str = "") -> Path:
    """A daily digest's folder under the archive (or --out): ``DATE`` for the single reader,
    ``DATE/reader-NAME`` for a named one."""
    day = Path(date.isoformat())
    return day / f"{READER_FOLDER_PREFIX}{reader}" if reader else day


SELECTION_KEYS = (
    "interests",
    "include_keywords",
    "exclude_keywords",
    "categories",
    "library",
    "authors",
    "not_interested",
    "max_papers",
    "relevance_threshold",
)


@dataclass(frozen=True)
class Reader:
    """One reader of a run; `name` is '' for the single reader of a config without [readers]."""

    name: str
    settings: Settings


def settings_for(settings: Settings, name: str) -> Settings:
    """The settings of reader `name`: their [readers.NAME] keys over the top-level ones."""
    own: ReaderSettings = settings.readers[name]
    updates: dict[str, Any] = own.model_dump(include=set(SELECTION_KEYS), exclude_none=True)
    if own.recipients is not None:
        updates["email"] = settings.email.model_copy(update={"recipients": list(own.recipients)})
    if own.language is not None:
        updates["llm"] = settings.llm.model_copy(update={"language": own.language})
    return settings.model_copy(update=updates)


def _unknown(settings: Settings, name: str) -> ConfigError:
    names = sorted(settings.readers)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else f"; the readers are {', '.join(names)}"
    return ConfigError(f"no reader {name!r} in the config{hint}")


def chosen_readers(settings: Settings, names: Sequence[str] = ()) -> list[Reader]:
    """The readers a run is for: those named (--reader), else every [readers.NAME], else the
    single reader of the top-level settings. An unknown name raises ConfigError (exit 2)."""
    if not settings.readers:
        if names:
            raise ConfigError(
                f"--reader {names[0]}: the config has no [readers.NAME] tables (see README: "
                "Several readers)"
            )
        return [Reader("", settings)]
    for name in names:
        if name not in settings.readers:
            raise _unknown(settings, name)
    wanted = list(dict.fromkeys(names)) or list(settings.readers)
    return [Reader(name, settings_for(settings, name)) for name in wanted]


def one_reader(settings: Settings, name: str | None, *, required: bool) -> Reader:
    """The reader of a one-reader command (`rate`, `topic`). With several readers and no name,
    `required` asks for --reader; otherwise the top-level settings are used."""
    if name is not None:
        return chosen_readers(settings, [name])[0]
    if len(settings.readers) == 1:
        return chosen_readers(settings)[0]
    if settings.readers and required:
        raise ConfigError(
            f"the config has several readers: say whose with --reader NAME "
            f"({', '.join(sorted(settings.readers))})"
        )
    return Reader("", settings)


__all__ = ["SELECTION_KEYS", "Reader", "chosen_readers", "one_reader", "settings_for"]
