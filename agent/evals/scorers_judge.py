"""The model-graded scorer: a judge model grades each blurb's faithfulness and clarity (1-5).

The rubric is `prompts/judge.j2` (rendered with StrictUndefined). The judge goes through the
same chat models as the LLM engine, cache included, so grading the same blurbs again is free.
The verdicts land in `CaseResult.judge`; the `judge_faithfulness` and `judge_clarity` scorers
in `scorers.py` read them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import jinja2
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from agent.core.resources import prompts_dir
from agent.errors import ConfigError, ModelError
from agent.evals.cases import EvalCase
from agent.evals.results import CaseResult, JudgeVerdict
from agent.evals.scorers_text import case_blurbs
from agent.summarize.llm import ChatModel, ChatRequest, untrusted

BATCH = 10  # blurbs per judge call
REASON_CHARS = 200
MAX_OUTPUT_TOKENS = 2_000


GRADES = (1, 2, 3, 4, 5)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def judge_schema(ids: Sequence[str]) -> type[BaseModel]:
    """``{verdicts: [{id, faithfulness, faithfulness_reason, clarity, clarity_reason}]}``."""
    # The ids, as a Literal built at run time (no static type can name it); the grades as the
    # values they may take, which a grammar-constrained local server enforces (it ignores
    # minimum/maximum: docs/models.md, "Local models").
    one_of_ids: Any = Literal[tuple(ids)]
    grade: Any = Literal[GRADES]
    verdict = create_model(
        "JudgeItem",
        __base__=_Strict,
        id=(one_of_ids, ...),
        faithfulness=(grade, ...),
        faithfulness_reason=(str, Field(max_length=REASON_CHARS)),
        clarity=(grade, ...),
        clarity_reason=(str, Field(max_length=REASON_CHARS)),
    )
    return create_model(
        "Judge",
        __base__=_Strict,
        verdicts=(list[verdict], Field(min_length=1, max_length=len(ids))),  # type: ignore[valid-type]
    )


def _template(path: Path) -> tuple[jinja2.Template, bytes]:
    try:
        data = path.read_bytes()
        env = jinja2.Environment(
            undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
        )
        return env.from_string(data.decode("utf-8")), data
    except (OSError, UnicodeDecodeError, jinja2.TemplateSyntaxError) as exc:
        raise ConfigError(f"judge prompt {path} cannot be used: {exc}") from None


class JudgePrompt:
    """The rubric template (`judge.j2`), the re-ask (`reask.j2` beside it, else the bundled
    one) and their version (content hash, a cache key part)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.template, data = _template(path)
        reask = path.parent / "reask.j2"
        self.reask, reask_data = _template(reask if reask.is_file() else prompts_dir() / "reask.j2")
        digest = hashlib.sha256(data + b"\0" + reask_data).hexdigest()[:12]
        self.version = f"judge={digest}"

    @classmethod
    def find(cls, *directories: Path | None) -> JudgePrompt:
        """`judge.j2` from the first directory that has one, else the bundled one."""
        for directory in (*directories, prompts_dir()):
            if directory is not None and (directory / "judge.j2").is_file():
                return cls(directory / "judge.j2")
        raise ConfigError("no judge rubric: prompts/judge.j2 is missing")

    def render(self, items: list[dict[str, str]]) -> str:
        return self.template.render(
            items=items, first_id=items[0]["sid"], last_id=items[-1]["sid"]
        ).strip()


async def judge_case(
    model: ChatModel, prompt: JudgePrompt, case: EvalCase, result: CaseResult
) -> tuple[tuple[JudgeVerdict, ...] | None, str | None]:
    """Verdicts for every blurb of the result (batches of BATCH), or (None, why) on failure."""
    pairs = list(case_blurbs(case, result))
    if not pairs:
        return None, "no blurbs to judge"
    verdicts: list[JudgeVerdict] = []
    for start in range(0, len(pairs), BATCH):
        batch = pairs[start : start + BATCH]
        items = [
            {
                "sid": f"B{i}",
                "paper_id": paper.id,
                "title": untrusted(paper.title),
                "abstract": untrusted(paper.abstract),
                "blurb": untrusted(f"{item.blurb} {item.why_it_matters or ''}".strip()),
            }
            for i, (paper, item) in enumerate(batch, start=1)
        ]
        try:
            answer = await _ask(model, prompt, items)
        except ModelError as exc:
            return None, f"judge failed: {exc}"
        by_sid = {item["sid"]: item["paper_id"] for item in items}
        seen: set[str] = set()
        for verdict in answer["verdicts"]:
            if verdict["id"] in seen:
                continue
            seen.add(verdict["id"])
            verdicts.append(
                JudgeVerdict(
                    paper_id=by_sid[verdict["id"]],
                    **{k: v for k, v in verdict.items() if k != "id"},
                )
            )
    return tuple(verdicts), None


async def _ask(
    model: ChatModel, prompt: JudgePrompt, items: list[dict[str, str]]
) -> dict[str, Any]:
    """One judge call, with one re-ask carrying the validation error."""
    schema = judge_schema([item["sid"] for item in items])
    messages: tuple[dict[str, str], ...] = ({"role": "user", "content": prompt.render(items)},)
    for attempt in range(2):
        request = ChatRequest(
            step="judge",
            messages=messages,
            schema=schema,
            schema_name="judge",
            max_output_tokens=MAX_OUTPUT_TOKENS,
            prompt_version=prompt.version,
        )
        answer = await model.complete(request)
        try:
            verdict = schema.model_validate_json(answer.text).model_dump()
        except ValidationError as exc:
            if attempt:
                raise ModelError(
                    f"judge answer invalid: {exc.errors()[0]['msg']}",
                    attempts=2,
                    last_raw=answer.text,
                ) from None
            error = json.dumps(exc.errors(include_url=False)[:3], default=str)
            messages = (
                *messages,
                {"role": "assistant", "content": answer.text},
                {"role": "user", "content": prompt.reask.render(error=error).strip()},
            )
            continue
        answer.validated()  # only a valid verdict is kept in the cache
        return verdict
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["BATCH", "JudgePrompt", "judge_case", "judge_schema"]
