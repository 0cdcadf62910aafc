"""Reading an answer: lenient JSON, then strict Pydantic validation (with the junk checks), and
the validation error as a message the model can act on in a re-ask."""

from __future__ import annotations

import copy
import logging
from typing import Any

from pydantic import BaseModel, ValidationError

from agent.summarize.llm.asking import lenient_json
from agent.summarize.llm.asking.junk import JunkContext
from agent.summarize.llm.asking.repair import clip

logger = logging.getLogger(__name__)

MAX_ERRORS_SHOWN = 8
MAX_ERROR_CHARS = 1_500


def validation_feedback(error: ValidationError) -> str:
    """A validation error as a short message a model can act on (and a reader can follow)."""
    lines = []
    for item in error.errors(include_url=False)[:MAX_ERRORS_SHOWN]:
        where = _location(item["loc"])
        kind = item["type"]
        ctx = item.get("ctx") or {}
        if kind == "literal_error" and isinstance(item["input"], str):  # string enums are ids
            text = f"unknown id {item['input']!r}: use only the ids given"
        elif kind == "literal_error":
            text = f"{item['input']!r} is not allowed: use one of {ctx.get('expected')}"
        elif kind == "string_too_long":
            text = (
                f"too long ({len(str(item['input']))} characters; at most {ctx.get('max_length')})"
            )
        elif kind == "too_long":
            text = f"too many items (at most {ctx.get('max_length')})"
        elif kind == "too_short":
            text = f"needs at least {ctx.get('min_length')} item(s); no empty lists"
        elif kind == "json_invalid":
            text = f"not valid JSON ({ctx.get('error', 'parse error')})"
        elif kind == "missing":
            text = "required field missing"
        elif kind == "extra_forbidden":
            text = "field not allowed"
        else:
            text = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"- {where}: {text}" if where else f"- {text}")
    hidden = error.error_count() - len(lines)
    if hidden > 0:
        lines.append(f"- and {hidden} more")
    return "\n".join(lines)[:MAX_ERROR_CHARS]


def _validate(schema: type[BaseModel], data: Any, context: JunkContext) -> BaseModel:
    """Validate strictly, except that strings over their length bound are clipped at a word
    boundary rather than re-asked (strict mode cannot enforce lengths; the bounds are only said
    to the model in the schema's descriptions)."""
    try:
        return schema.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if not errors or any(e["type"] != "string_too_long" for e in errors):
            raise
        data = copy.deepcopy(data)
        for error in errors:
            _clip_at(data, error["loc"], int((error.get("ctx") or {}).get("max_length", 0)))
        logger.info("clipped %d over-long string(s) in a %s answer", len(errors), schema.__name__)
        return schema.model_validate(data, context=context)


def check(schema: type[BaseModel], text: str, context: JunkContext) -> tuple[Any, str | None]:
    """(value, None) when `text` is a valid answer, else (None, the error for the re-ask)."""
    try:
        data = lenient_json.parse(text)
    except lenient_json.NotJson as exc:
        return None, f"- {exc}"
    try:
        return _validate(schema, data, context), None
    except ValidationError as exc:
        return None, validation_feedback(exc)


def _clip_at(data: Any, loc: tuple[Any, ...], max_chars: int) -> None:
    *path, last = loc
    node = data
    for part in path:
        node = node[part]
    node[last] = clip(node[last], max_chars)


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


__all__ = ["check", "validation_feedback"]
