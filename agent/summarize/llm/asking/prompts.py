"""The prompt files: loaded from a directory, versioned by content hash, rendered strictly.

Every prompt the model sees lives in `prompts/*.j2`. A prompt's version is the first 12 hex
digits of the sha256 of its file bytes; `PromptSet.version_of(...)` combines the versions of
the files one call uses, and goes into the cache key (`ChatRequest.prompt_version`).
Templates render with `StrictUndefined`: a missing variable is an error, never an empty string.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from agent.core.resources import prompts_dir
from agent.errors import ConfigError

REQUIRED = (
    "system",
    "grouping",
    "merge",
    "blurbs",
    "headline",
    "overview",
    "reask",
    "expand_query",
)

_TEMPLATE_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_NEUTRAL = str.maketrans({"<": "‹", ">": "›"})


def untrusted(text: str) -> str:
    """Text from a paper (or from a model that read one), made safe to put inside a fence:
    angle brackets become look-alikes so it cannot close `<paper>` or open a block of its own."""
    return " ".join(text.translate(_NEUTRAL).split())


@dataclass(frozen=True)
class PromptPaper:
    """A paper as a prompt lists it (`papers` of grouping.j2 and blurbs.j2): its short id, and
    its title and text already fenced with `untrusted`."""

    sid: str
    title: str
    text: str


def _version(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


@dataclass(frozen=True)
class PromptSet:
    """The prompts of one directory; `versions` maps a prompt name to its content hash."""

    directory: Path
    versions: dict[str, str]
    _templates: Mapping[str, jinja2.Template] = field(repr=False)
    _sources: Mapping[str, str] = field(default_factory=dict, repr=False)
    language: str = "English"  # the reader's language, given to every prompt as `language`

    def with_language(self, language: str) -> PromptSet:
        """The same prompts, told to write in `language` (a name such as 'Chinese')."""
        return PromptSet(self.directory, self.versions, self._templates, self._sources, language)

    @classmethod
    def load(cls, directory: Path | None = None) -> PromptSet:
        """Load every `*.j2` of `directory` (default: the bundled prompts). Raises ConfigError
        when a prompt the engine needs is missing or does not parse."""
        directory = directory or prompts_dir()
        env = jinja2.Environment(
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # plain-text prompts; untrusted text is fenced by `untrusted`
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        templates: dict[str, jinja2.Template] = {}
        sources: dict[str, str] = {}
        versions: dict[str, str] = {}
        for path in sorted(directory.glob("*.j2")):
            data = path.read_bytes()
            try:
                sources[path.stem] = data.decode("utf-8")
                templates[path.stem] = env.from_string(sources[path.stem])
            except (UnicodeDecodeError, jinja2.TemplateSyntaxError) as exc:
                raise ConfigError(f"prompt {path} does not parse: {exc}") from None
            versions[path.stem] = _version(data)
        missing = [name for name in REQUIRED if name not in templates]
        if missing:
            raise ConfigError(f"prompt directory {directory} lacks {', '.join(missing)} (.j2)")
        return cls(directory, versions, templates, sources)

    def render(self, name: str, **variables: Any) -> str:
        """Render one prompt; a variable the template uses but was not given raises
        `jinja2.UndefinedError`."""
        return self._templates[name].render(**{"language": self.language, **variables}).strip()

    def instruction_text(self, *names: str) -> str:
        """The fixed words of these prompts: their source without template tags, so without
        any of the data a rendering fills in (what `junk.copied_instructions` compares to)."""
        return "\n".join(_TEMPLATE_TAG.sub(" ", self._sources.get(n, "")) for n in names)

    def version_of(self, *names: str) -> str:
        """One version for the prompts a call uses (the cache key part)."""
        joined = ",".join(f"{name}={self.versions[name]}" for name in sorted(names))
        return _version(joined.encode())


__all__ = ["REQUIRED", "PromptPaper", "PromptSet", "untrusted"]
