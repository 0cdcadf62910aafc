"""The fixed choices of some settings, shared by `config` and the command line.

Kept apart from `config` so that building the CLI (`digest --help`) does not import pydantic.
"""

from __future__ import annotations

from typing import Literal

EngineChoice = Literal["auto", "offline", "llm"]
Dialect = Literal["auto", "json_schema", "json_object_schema", "json_object", "tools"]
SmtpSecurity = Literal["starttls", "ssl", "none"]
Thinking = Literal["auto", "off"]
