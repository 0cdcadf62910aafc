"""Read the JSON value out of a model answer leniently; validation stays strict (Pydantic).

Grammar-constrained local models put raw newlines and tabs inside JSON strings, some wrap the
object in a Markdown code fence, and some say a word before or after it; reasoning models think
in a ``<think>`` block first (`thinking`: the JSON after it is read, never a draft inside it).
None of that changes what the answer means, so none of it costs a re-ask. What is not one JSON value raises
`NotJson` with a message the model can act on.
"""

from __future__ import annotations

from typing import Any

from agent.core import parsing
from agent.summarize.llm.thinking import after_thinking

MAX_ANSWER_CHARS = 1_000_000  # an answer longer than this is not parsed at all
_FENCE = "```"


class NotJson(ValueError):
    """The answer holds no JSON value; the message says what to do instead."""


def parse(text: str) -> Any:
    """The first JSON object (or array) in `text` after a leading think block; control
    characters inside strings are accepted, a code fence and the words around the value are
    ignored."""
    if len(text) > MAX_ANSWER_CHARS:
        raise NotJson(
            f"the answer is too long ({len(text):,} characters): answer with the JSON only"
        )
    answer = after_thinking(text)
    if answer is None:
        raise NotJson(
            "the answer is only thinking (a <think> block that never ends): finish thinking, "
            "then answer with one JSON object"
        )
    body = _unfenced(answer.strip())
    starts = [i for i in (body.find("{"), body.find("[")) if i != -1]
    if not starts:
        raise NotJson("the answer has no JSON object in it: answer with one JSON object only")
    try:  # depth-capped (agent.core.parsing): 200,000 "[" are an answer to re-ask, not a crash
        value, _ = parsing.raw_decode(body, min(starts), what="the answer", strict=False)
    except parsing.JsonError as exc:
        if exc.kind == "refused":  # nested too deeply (its length was checked above)
            raise NotJson(f"{exc.msg}: answer with one flat JSON object") from None
        where = "ends too early" if exc.pos >= len(body) - 1 else f"breaks at character {exc.pos}"
        raise NotJson(
            f"the JSON object {where} ({exc.msg}): answer with one complete JSON object, "
            "every string in double quotes, no comments"
        ) from None
    return value


def _unfenced(text: str) -> str:
    """The inside of a ```json ... ``` fence, when the answer is (or contains) one."""
    start = text.find(_FENCE)
    if start == -1:
        return text
    line_end = text.find("\n", start)
    if line_end == -1:
        return text
    end = text.find(_FENCE, line_end)
    return text[line_end + 1 : end if end != -1 else len(text)]


__all__ = ["NotJson", "parse"]
