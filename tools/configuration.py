"""Write every settings key into docs/configuration.md from the settings model, so the page
cannot drift from the code.

    .venv/bin/python tools/configuration.py          # rewrite the generated parts (make configuration)
    .venv/bin/python tools/configuration.py --check  # exit 1 when they are stale (a test runs it)

Two parts are generated, each between its markers in docs/configuration.md (the prose around
them is written by hand):

- `keys`: one table per TOML table (the top level, `[sources]`, `[llm]`, ...), a row per key:
  the key, its TOML table, its environment variable, its type, its default and its meaning
  (the field's `description=` in agent/config.py);
- `example`: examples/digest.toml, the example config (a test loads it as settings).
"""

from __future__ import annotations

import json
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path

import annotated_types
import generated_parts  # tools/ is on the path: this script's own folder
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.config import Settings
from agent.config_keys import unwrap

DOC = ROOT / "docs" / "configuration.md"
EXAMPLE = ROOT / "examples" / "digest.toml"


class Table(typing.NamedTuple):
    """One TOML table of the settings: its header, its model, its environment prefix."""

    header: str  # "" for the top level, "[llm]", "[[webhooks]]", "[readers.NAME]"
    model: type[BaseModel]
    env: str  # "DIGEST_LLM__"; "" when its keys are set in the environment only as JSON
    json_env: str  # the variable that takes the whole table as JSON, when env is ""


def tables(model: type[BaseModel] = Settings) -> Iterator[Table]:
    """Every table of the settings, the top level first, in the order of the fields."""
    yield Table("", model, "DIGEST_", "")
    for name, field in model.model_fields.items():
        kind = unwrap(field.annotation)
        origin, args = typing.get_origin(kind), typing.get_args(kind)
        if is_model(kind):
            yield Table(f"[{name}]", kind, f"DIGEST_{name.upper()}__", "")
            for inner, inner_field in kind.model_fields.items():
                inner_kind = unwrap(inner_field.annotation)
                if typing.get_origin(inner_kind) is dict and is_model(
                    typing.get_args(inner_kind)[1]
                ):
                    header = f"[{name}.{inner}.NAME]"
                    json_env = f"DIGEST_{name.upper()}__{inner.upper()}"
                    yield Table(header, typing.get_args(inner_kind)[1], "", json_env)
        elif origin is list and is_model(args[0]):
            yield Table(f"[[{name}]]", args[0], "", f"DIGEST_{name.upper()}")
        elif origin is dict and is_model(args[1]):
            yield Table(f"[{name}.NAME]", args[1], f"DIGEST_{name.upper()}__NAME__", "")


def is_model(kind: object) -> typing.TypeGuard[type[BaseModel]]:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", Path: "path"}


def type_name(kind: object) -> str:
    """A reader's name for a settings type: "list of strings", "`auto`, `off` or number"."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Annotated:
        if any(getattr(extra, "func", None) for extra in args[1:]):  # an AfterValidator
            return "email address"
        return type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        names = [name for arg in args if arg is not type(None) for name in choices(arg)]
        text = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
        return f"{text}, optional" if type(None) in args else text
    if origin is typing.Literal:
        values = choices(kind)
        return ", ".join(values[:-1]) + f" or {values[-1]}" if len(values) > 1 else values[0]
    if origin is list:
        name = type_name(args[0])
        return f"list of {name}{'es' if name.endswith('s') else 's'}"
    if origin is dict:
        return "table"
    if kind is SecretStr:
        return "string (secret)"
    return NAMES.get(kind, getattr(kind, "__name__", str(kind)))  # type: ignore[call-overload]


def choices(kind: object) -> list[str]:
    """The values of a Literal (`auto`, `off`), else the type's name, as one item."""
    if typing.get_origin(kind) is typing.Literal:
        return [f"`{value}`" for value in typing.get_args(kind)]
    return [type_name(kind)]


def bounds(field: FieldInfo) -> str:
    """The field's numeric bounds, e.g. " (1 to 10)", " (> 0)"."""
    low = high = ""
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            low = f"{item.ge:,}"
        elif isinstance(item, annotated_types.Gt):
            low = f"> {item.gt:,}"
        elif isinstance(item, annotated_types.Le):
            high = f"{item.le:,}"
    if low and high:
        return f" ({low}, ≤ {high})" if low.startswith(">") else f" ({low} to {high})"
    if low:
        return f" ({low if low.startswith('>') else '≥ ' + low})"
    return f" (≤ {high})" if high else ""


def default_text(field: FieldInfo) -> str:
    """The default as it would be written in TOML ("–" when the key must be given)."""
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "shown_default" in extra:
        return str(extra["shown_default"])
    if field.is_required():
        return "– (required)"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, BaseModel):
        return "–"
    return "`" + json.dumps(value, ensure_ascii=False) + "`"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def env_name(table: Table, key: str, kind: object) -> str:
    if not table.env:
        return f"`{table.json_env}` (JSON)"
    composite = typing.get_origin(unwrap(kind)) in (list, dict)
    return f"`{table.env}{key.upper()}`" + (" (JSON)" if composite else "")


def key_table(table: Table) -> list[str]:
    """A section for one TOML table: its heading, its model's docstring, a row per key."""
    title = table.header or "Top level"
    doc = (table.model.__doc__ or "").strip().split("\n\n")[0]
    rows = [
        f"### {title}",
        "",
        " ".join(line.strip() for line in doc.splitlines()),
        "",
        "| key | TOML table | environment variable | type | default | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for key, field in table.model.model_fields.items():
        kind = field.annotation
        if table.header == "" and is_model(unwrap(kind)) or is_table_of_models(kind):
            continue  # a table of its own, below
        row = [
            f"`{key}`",
            f"`{table.header}`" if table.header else "(top level)",
            env_name(table, key, kind),
            type_name(kind) + bounds(field),
            default_text(field),
            field.description or "",
        ]
        rows.append("| " + " | ".join(cell(part) for part in row) + " |")
    return [*rows, ""]


def is_table_of_models(kind: object) -> bool:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    return (origin is list and is_model(args[0])) or (origin is dict and is_model(args[-1]))


def missing_descriptions(model: type[BaseModel] = Settings) -> list[str]:
    """Every key (as `[table] key`) whose field has no description."""
    return [
        f"{table.header or '(top level)'} {key}"
        for table in tables(model)
        for key, field in table.model.model_fields.items()
        if not (field.description or "").strip()
    ]


def generated() -> dict[str, str]:
    """The text of each generated part, by name."""
    keys = [line for table in tables() for line in key_table(table)]
    example = ["```toml", EXAMPLE.read_text(encoding="utf-8").rstrip("\n"), "```"]
    return {"keys": "\n".join(keys).rstrip("\n"), "example": "\n".join(example)}


def rewrite(text: str, parts: dict[str, str]) -> str:
    """`text` with each marked part replaced by its fresh version (markers kept)."""
    return generated_parts.rewrite(DOC, text, parts, tool="configuration")


def main(argv: list[str]) -> int:
    missing = missing_descriptions()
    if missing:
        print("keys without a description= in agent/config.py: " + ", ".join(missing))
        return 1
    shown = str(DOC.relative_to(ROOT))
    return generated_parts.refresh(
        DOC, generated(), tool="configuration", check="--check" in argv, shown=shown
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
