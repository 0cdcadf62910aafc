"""The model endpoint: one tiny structured question per configured model, asked as a run asks.

The settings are the run's (`probe_local`: a local server's own model name, no built-in
price for it), the models come from the same factory, and the question goes through the same
`Asker` (lenient JSON, validation, re-asks), so what doctor says of a model is what a run gets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from agent.config import Settings
from agent.core import redact
from agent.core.one_line import one_line
from agent.core.wording import plural
from agent.doctor.checks import Check
from agent.errors import ModelError
from agent.summarize.llm import (
    Budget,
    ChatModel,
    InvalidAnswer,
    ModelUnavailable,
    NoChatModel,
    Pong,
    PromptSet,
    Shared,
    UsageMeter,
    build_chat_models,
    is_local,
    model_label,
    ping_model,
    probe_local,
    served_models,
)

_FIX_BY_STATUS = {
    401: "check the key: OPENAI_API_KEY or DIGEST_LLM__API_KEY",
    403: "check the key's permissions for this model",
}


def doctor_settings(settings: Settings) -> Settings:
    """The run's settings (local-server defaults applied by `probe_local` first), with one
    attempt per request, no cost cap or call limit and a time budget of one call: a check, not
    a run."""
    llm = settings.llm.model_copy(
        update={
            "max_attempts": 1,
            "run_budget_seconds": settings.llm.timeout_seconds + 5,
            "max_cost_usd": None,
            "max_calls": None,
            "max_total_tokens": None,
            "cache": False,
        }
    )
    return settings.model_copy(update={"llm": llm})


def _where(settings: Settings, model: ChatModel, pong: Pong) -> str:
    if settings.llm.chat_model and model.base_url is None:
        return f"LangChain {settings.llm.chat_model}"
    dialect = pong.dialect or settings.llm.dialect
    where = redact.redact(model.base_url) if model.base_url else "the OpenAI API"  # user:pass@
    thinking = ", thinking off" if settings.llm.thinking == "off" else ""
    return f"{dialect} at {where}{thinking}"


def _cost(meter: UsageMeter, pong: Pong, configured: str) -> str:
    """Tokens and the cost estimate, priced as a run prices them (a local model: no price)."""
    usage = pong.spent
    tokens = f"{usage.input_tokens:,} tokens in, {usage.output_tokens:,} out"
    for name in (pong.model, configured):
        if name and meter.price_for(name) is not None:
            return f"{tokens}, about ${meter.cost(name, usage):.6f}"
    return f"{tokens}, no price known (llm.prices)"


async def _not_found_fix(model: ChatModel) -> str:
    """What to do when the server answers 404: it does not know that model, or that path."""
    if not is_local(model.base_url):
        return "check llm.model and llm.base_url (the server does not know that model or path)"
    listed = await served_models(model.base_url) if model.base_url else None
    has = f"; the server lists {', '.join(listed[:5])}" if listed else ""
    return (
        f"check llm.model (for Ollama: ollama pull {model.name}{has}) and llm.base_url "
        "(a local server's ends in /v1, e.g. http://localhost:11434/v1)"
    )


async def _failed(part: str, exc: Exception, model: ChatModel) -> Check:
    if isinstance(exc, InvalidAnswer):
        last = exc.failed[-1].error if exc.failed else str(exc)  # what the last answer lacked
        reason = last.removeprefix("- ")
        return Check.failed(
            part,
            f"answered, but not in the asked shape after {plural(exc.attempts - 1, 're-ask')}: "
            f"{one_line(reason, 200)}",
            "try another llm.dialect (json_object_schema for llama.cpp, json_object, tools)",
        )
    if "llm.thinking" in str(exc):  # a reasoning model spent the ping's output thinking
        return Check.failed(
            part,
            one_line(exc, 300),
            'a reasoning model (Qwen3, DeepSeek-R1, gpt-oss): set llm.thinking = "off"',
        )
    status = exc.status_code if isinstance(exc, ModelUnavailable) else None
    if status == 404:
        return Check.failed(part, one_line(exc, 300), await _not_found_fix(model))
    fix = _FIX_BY_STATUS.get(
        status or 0,
        "is the server up and llm.base_url right? `digest daily` falls back to the offline engine meanwhile",
    )
    return Check.failed(part, one_line(exc, 300), fix)


async def _ping_all(
    models: list[ChatModel], prompts: PromptSet, settings: Settings
) -> list[Pong | Exception]:
    results: list[Pong | Exception] = []
    try:
        for model in models:
            try:
                results.append(await ping_model(model, prompts, settings.llm))
            except ModelError as exc:
                results.append(exc)
    finally:
        for model in models:
            await model.aclose()
    return results


async def check_model(settings: Settings) -> AsyncIterator[Check]:
    """ "offline engine" when no model is configured; else one line per model of the chain."""
    if not settings.llm_configured:
        yield Check.ok(
            "model",
            "offline engine (no OPENAI_API_KEY, llm.base_url or llm.chat_model): no model to check",
        )
        return
    try:
        checked = doctor_settings(await probe_local(settings))
    except NoChatModel as exc:
        yield Check.failed("model", one_line(exc.detail, 300), exc.fix)
        return
    meter = UsageMeter(checked.llm.prices, Budget.from_settings(checked.llm))
    try:
        models = build_chat_models(checked.llm, None, Shared(meter), use_cache=False)
        prompts = PromptSet.load()
    except Exception as exc:  # noqa: BLE001 (a bad chat_model import path: one line, no traceback)
        yield Check.failed(
            "model", one_line(exc, 300), "fix llm.chat_model / llm.chat_model_kwargs"
        )
        return
    results = await _ping_all(models, prompts, checked)
    for index, (model, result) in enumerate(zip(models, results, strict=True)):
        part = f"{'model' if index == 0 else 'fallback model'} {model_label(model.name)}"
        if isinstance(result, Exception):
            yield await _failed(part, result, model)
            continue
        answered = model_label(result.model) if result.model else ""
        by = (
            f" (the server says {answered})"
            if answered and answered != model_label(model.name)
            else ""
        )
        reasked = f" after {plural(result.reasks, 're-ask')}" if result.reasks else ""
        yield Check.ok(
            part,
            f"a structured call ({_where(checked, model, result)}) answered{reasked} in "
            f"{result.seconds:.1f} s{by}: {_cost(meter, result, model.name)}",
        )


__all__ = ["check_model", "doctor_settings"]
