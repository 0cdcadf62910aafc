"""JSON schemas as the endpoints take them: closed (strict-mode friendly) schemas, the schema
in the prompt for endpoints that cannot take it, and names OpenAI accepts."""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any

import jinja2
import pydantic

from agent.core.resources import prompts_dir


@functools.cache
def _schema_instruction() -> jinja2.Template:
    """prompts/schema_instruction.j2: appended to the last user message when the endpoint
    cannot take the schema itself (dialect `json_object`, LangChain models without
    structured output), so the model sees it."""
    path = prompts_dir() / "schema_instruction.j2"
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
    return environment.from_string(path.read_text(encoding="utf-8"))


# OpenAI's strict mode accepts only these string formats; length bounds go into the description.
_STRICT_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "contains")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def schema_name(name: str) -> str:
    """A name OpenAI accepts for a tool or a json_schema (``^[A-Za-z0-9_-]{1,64}$``)."""
    return (_NAME_CHARS.sub("_", name) or "answer")[:64]


def closed_json_schema(schema: type[pydantic.BaseModel], *, strict: bool) -> dict[str, Any]:
    """The JSON schema of `schema` with every object closed: ``additionalProperties: false``
    and all properties required.

    `strict=True` also makes it acceptable to OpenAI's strict mode: no ``default``, no
    ``minLength``/``maxLength`` (a max length is said in the description instead), only the
    supported string formats, and no ``$ref`` with sibling keys. Validation is done with the
    Pydantic model afterwards either way, so the bounds are still enforced.
    """
    root = copy.deepcopy(schema.model_json_schema())
    defs = dict(root.get("$defs", {}))
    return _close(root, defs, strict)


def _close(node: Any, defs: dict[str, Any], strict: bool) -> Any:
    """One schema node closed (see `closed_json_schema`), its sub-schemas first."""
    if not isinstance(node, dict):
        return node
    node = _inline_ref(dict(node), defs) if strict else dict(node)
    _close_children(node, defs, strict)
    if "properties" in node or (
        node.get("type") == "object" and "additionalProperties" not in node
    ):
        node["additionalProperties"] = False
        node["required"] = list(node.get("properties", {}))
    if strict:
        _strict_bounds(node)
    return node


def _inline_ref(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A ``$ref`` with sibling keys (which strict mode refuses) replaced by its definition."""
    ref = node.get("$ref")
    if not (isinstance(ref, str) and len(node) > 1 and ref.startswith("#/$defs/")):
        return node
    target = defs.get(ref.removeprefix("#/$defs/"), {})
    node.pop("$ref")
    return {**target, **node}


def _close_children(node: dict[str, Any], defs: dict[str, Any], strict: bool) -> None:
    for key in _SCHEMA_MAPS:
        if isinstance(node.get(key), dict):
            node[key] = {name: _close(sub, defs, strict) for name, sub in node[key].items()}
    for key in _SCHEMA_ONE:
        if isinstance(node.get(key), dict):
            node[key] = _close(node[key], defs, strict)
    for key in _SCHEMA_LISTS:
        if isinstance(node.get(key), list):
            node[key] = [_close(sub, defs, strict) for sub in node[key]]


def _strict_bounds(node: dict[str, Any]) -> None:
    """Drop what strict mode refuses: defaults, length bounds (a max length is said in the
    description instead) and unsupported string formats."""
    node.pop("default", None)
    node.pop("minLength", None)
    longest = node.pop("maxLength", None)
    if longest is not None:
        note = f"at most {longest} characters"
        node["description"] = f"{node['description']} ({note})" if node.get("description") else note
    if node.get("format") is not None and node["format"] not in _STRICT_FORMATS:
        node.pop("format")


def with_schema_in_prompt(
    messages: tuple[dict[str, str], ...] | list[dict[str, str]], schema: dict[str, Any]
) -> list[dict[str, str]]:
    """A copy of `messages` whose last user message ends with the JSON schema to follow."""
    text = _schema_instruction().render(schema=json.dumps(schema, ensure_ascii=False))
    out = [dict(message) for message in messages]
    for message in reversed(out):
        if message.get("role") == "user":
            message["content"] = f"{message.get('content') or ''}{text}"
            return out
    out.append({"role": "user", "content": text.lstrip()})
    return out


__all__ = ["closed_json_schema", "schema_name", "with_schema_in_prompt"]
