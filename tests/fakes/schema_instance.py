"""Build a small JSON instance that is valid for a JSON Schema.

Used by the fake OpenAI server's default handler (benchmarks, standalone runs) to answer any
structured-output request with something the client's Pydantic models accept.

The walk is deliberately simple and deterministic:

- ``$ref`` (``#/$defs/...``, ``#/definitions/...``) is followed, ``allOf`` is merged, ``anyOf`` /
  ``oneOf`` / type lists take their first non-null branch, ``const`` wins, an enum gives its first
  value.
- Objects get their ``required`` properties (all properties when the schema lists none).
- Arrays get ``minItems`` items; strings are ``"…"`` padded to ``minLength`` and cut to
  ``maxLength``; numbers honour ``minimum`` / ``exclusiveMinimum`` / ``maximum``.
- **Covering enums.** When an array's items are objects holding an enum (directly, as an array
  of enum values, or further down through nested arrays of objects), all the enum's values are
  distributed across the array's items so that each value appears exactly once, in order, in
  contiguous chunks that respect the ``minItems`` / ``maxItems`` bounds on the way. So a grouping
  schema such as ``{"themes": [{"paper_ids": [enum P1..Pn]}]}`` or
  ``{"themes": [{"papers": [{"paper_id": enum P1..Pn}]}]}`` is answered with every paper id
  assigned once. An enum is distributed once per instance; a later array covering the same enum
  only gets its minimal items. When ``maxItems`` makes full coverage impossible, the schema wins
  and the overflow values are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

JsonSchema = Mapping[str, Any]
TextFiller = Callable[[str, int, int | None], str]
"""``(property name, min length, max length or None) -> text`` for string fields."""

_MAX_DEPTH = 32
_PLACEHOLDER = "…"
_PAD = "lorem ipsum dolor sit amet "
_FORMATS = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "uri": "https://example.org/",
    "email": "someone@example.org",
}


def schema_instance(schema: JsonSchema, *, text: TextFiller | None = None) -> Any:
    """Return a minimal instance of ``schema``; ``text`` fills string fields (default ``"…"``)."""
    return _Builder(schema, text or placeholder_text).build(schema, "", None, 0)


def placeholder_text(name: str, min_length: int, max_length: int | None) -> str:
    """``"…"`` padded with filler words up to ``min_length``, cut to ``max_length``."""
    del name
    value = _PLACEHOLDER
    if len(value) < min_length:
        value = (_PAD * (min_length // len(_PAD) + 1))[:min_length]
    return value if max_length is None else value[:max_length]


class _Cover:
    """An enum some part of a schema holds, and how many of its values one instance can hold."""

    def __init__(self, values: tuple[Any, ...], low: int, high: int | None) -> None:
        self.values, self.low, self.high = values, low, high


class _Builder:
    def __init__(self, root: JsonSchema, text: TextFiller) -> None:
        self._root = root
        self._text = text
        self._distributed: set[tuple[str, ...]] = set()

    # -- schema normalisation ------------------------------------------------------------------

    def resolve(self, schema: Any, depth: int = 0) -> dict[str, Any]:
        """Follow ``$ref``, merge ``allOf``, pick the first non-null ``anyOf``/``oneOf`` branch."""
        if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
            return {}
        out = dict(schema)
        if "$ref" in out:
            target = self._lookup(out.pop("$ref"))
            out = {**self.resolve(target, depth + 1), **out}
        for key in ("anyOf", "oneOf"):
            if key in out:
                branches = [self.resolve(b, depth + 1) for b in out.pop(key)]
                chosen = next(
                    (b for b in branches if b.get("type") != "null"),
                    branches[0] if branches else {},
                )
                out = {**chosen, **out}
        if "allOf" in out:
            merged: dict[str, Any] = {}
            for part in out.pop("allOf"):
                part = self.resolve(part, depth + 1)
                props = {**merged.get("properties", {}), **part.get("properties", {})}
                required = [*merged.get("required", []), *part.get("required", [])]
                merged.update(part)
                if props:
                    merged["properties"] = props
                if required:
                    merged["required"] = required
            out = {**merged, **out}
        kind = out.get("type")
        if isinstance(kind, list):
            out["type"] = next((t for t in kind if t != "null"), "null")
        return out

    def _lookup(self, ref: str) -> Any:
        if not ref.startswith("#"):
            return {}
        node: Any = self._root
        for part in ref.lstrip("#").strip("/").split("/"):
            if not part:
                continue
            part = part.replace("~1", "/").replace("~0", "~")
            node = node.get(part, {}) if isinstance(node, Mapping) else {}
        return node

    @staticmethod
    def kind(schema: Mapping[str, Any]) -> str | None:
        if "type" in schema:
            return str(schema["type"])
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        return None

    def object_properties(self, schema: Mapping[str, Any]) -> list[str]:
        props = schema.get("properties") or {}
        required = schema.get("required")
        return [p for p in required if p in props] if required else list(props)

    # -- covering enums ------------------------------------------------------------------------

    def cover(self, schema: Any, depth: int = 0) -> tuple[_Cover, str | None] | None:
        """The enum that instances of ``schema`` hold, with the property that holds it."""
        s = self.resolve(schema)
        if depth > _MAX_DEPTH:
            return None
        if s.get("enum"):
            return _Cover(tuple(s["enum"]), 1, 1), None
        if isinstance(s.get("const"), str):  # an id enum of one value, as Literal["P1"] gives
            return _Cover((s["const"],), 1, 1), None
        kind = self.kind(s)
        if kind == "array":
            found = self.cover(s.get("items", {}), depth + 1)
            if found is None:
                return None
            inner, _ = found
            low = int(s.get("minItems", 0)) * inner.low
            max_items = s.get("maxItems")
            high = None if max_items is None or inner.high is None else int(max_items) * inner.high
            return _Cover(inner.values, low, high), None
        if kind == "object":
            best: tuple[_Cover, str | None] | None = None
            for name in self.object_properties(s):
                found = self.cover(s["properties"][name], depth + 1)
                if found and (best is None or len(found[0].values) > len(best[0].values)):
                    best = (found[0], name)
            return best
        return None

    @staticmethod
    def split(
        values: Sequence[Any], count_min: int, count_max: int | None, item: _Cover
    ) -> list[list[Any]]:
        """Cut ``values`` into contiguous chunks, one per array item, within all the bounds."""
        n = len(values)
        if n == 0:
            return [[] for _ in range(count_min)]
        count = max(count_min, 1, math.ceil(n / item.high) if item.high else 1)
        if count_max is not None:
            count = min(count, count_max)
        if item.low > 0:
            count = min(count, max(1, n // item.low))
        base, extra = divmod(n, count)
        chunks, start = [], 0
        for i in range(count):
            size = base + (1 if i < extra else 0)
            chunks.append(list(values[start : start + min(size, item.high or size)]))
            start += size
        return chunks

    # -- instance building ---------------------------------------------------------------------

    def build(self, schema: Any, name: str, assigned: list[Any] | None, depth: int) -> Any:
        s = self.resolve(schema)
        if depth > _MAX_DEPTH:
            return None
        if "const" in s:
            return s["const"]
        if s.get("enum"):
            return assigned[0] if assigned else s["enum"][0]
        kind = self.kind(s)
        if kind == "object":
            return self._object(s, assigned, depth)
        if kind == "array":
            return self._array(s, name, assigned, depth)
        if kind == "string":
            return self._string(s, name)
        if kind in ("integer", "number"):
            return self._number(s, kind)
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        return self._text(name, 0, None)

    def _object(
        self, s: Mapping[str, Any], assigned: list[Any] | None, depth: int
    ) -> dict[str, Any]:
        found = self.cover(s) if assigned is not None else None
        holder = found[1] if found else None
        return {
            prop: self.build(
                s["properties"][prop], prop, assigned if prop == holder else None, depth + 1
            )
            for prop in self.object_properties(s)
        }

    def _array(
        self, s: Mapping[str, Any], name: str, assigned: list[Any] | None, depth: int
    ) -> list[Any]:
        items = s.get("items", {})
        count_min, count_max = int(s.get("minItems", 0)), s.get("maxItems")
        found = self.cover(items)
        if assigned is None and found is not None and self.kind(self.resolve(items)) == "object":
            key = tuple(map(repr, found[0].values))
            if key not in self._distributed:
                self._distributed.add(key)
                assigned = list(found[0].values)
        if assigned is not None and found is not None:
            chunks = self.split(assigned, count_min, count_max, found[0])
            return [self.build(items, name, chunk, depth + 1) for chunk in chunks]
        resolved = self.resolve(items)
        if resolved.get("enum"):
            values = resolved["enum"]
            return [values[i % len(values)] for i in range(count_min)]
        return [self.build(items, name, None, depth + 1) for _ in range(count_min)]

    def _string(self, s: Mapping[str, Any], name: str) -> str:
        fmt = s.get("format")
        if fmt in _FORMATS:
            return _FORMATS[fmt]
        max_length = s.get("maxLength")
        return self._text(
            name, int(s.get("minLength", 0)), None if max_length is None else int(max_length)
        )

    @staticmethod
    def _number(s: Mapping[str, Any], kind: str) -> int | float:
        value: float = 0
        if "minimum" in s:
            value = s["minimum"]
        elif isinstance(s.get("exclusiveMinimum"), int | float) and not isinstance(
            s["exclusiveMinimum"], bool
        ):
            value = s["exclusiveMinimum"] + (1 if kind == "integer" else 0.5)
        if "maximum" in s and value > s["maximum"]:
            value = s["maximum"]
        return math.ceil(value) if kind == "integer" else float(value)
