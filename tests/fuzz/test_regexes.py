"""Every regular expression that reads outside text runs in linear time: each one, over long
runs of the characters hostile inputs are made of, stays under a CPU budget per call (a
quadratic pattern, such as a leading `\\s*` or an unbounded run before a literal that never
comes, takes seconds on 20,000 characters; a linear one, milliseconds)."""

from __future__ import annotations

import importlib
import re
import time

import pytest

# The modules that read text from outside (feeds, APIs, files, settings, model answers).
MODULES = [
    "agent.core.defang",
    "agent.core.links",
    "agent.core.parsing",
    "agent.core.redact",
    "agent.core.urls",
    "agent.config",
    "agent.core.safe_text",
    "agent.sources.arxiv_api",
    "agent.sources.arxiv_ids",
    "agent.sources.arxiv_rss",
    "agent.sources.clean",
    "agent.sources.links",
    "agent.select.library.formats",
    "agent.select.library.idlist",
    "agent.render.markdown",
    "agent.render.chat_payloads",
    "agent.summarize.llm.asking.schemas",
    "agent.summarize.llm.asking.lenient_json",
]
RUNS = [
    " ", "a", "1", ".", "-", "\\", "{", "[", "(", "$", "<", "&", "@", "/", ":", "a.", "1.",
    "a ", "\\a", "{a", "(arXiv:", "&#", "a-", "ab.", "a@", "\n", "~", "'", '"', "_", "#",
    "a,", "$a", "<a", "--", "``", "http://", "www.", "a|", ")[", "v1", "10.1", "0000.", "\\cite[",
]  # fmt: skip
LENGTH = 20_000
BUDGET_SECONDS = 0.5


def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    found = []
    for name in MODULES:
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                found.append((f"{name}.{attribute}", value))
    return found


PATTERNS = _patterns()


@pytest.mark.slow  # about 8 s for all of them: CI's slow tier and `make fuzz` run it
@pytest.mark.parametrize(("where", "pattern"), PATTERNS, ids=[w for w, _ in PATTERNS])
def test_each_pattern_is_linear_on_hostile_runs(where: str, pattern: re.Pattern[str]) -> None:
    for run in RUNS:
        text = run * (LENGTH // len(run))
        started = time.process_time()
        pattern.search(text)
        pattern.sub("", text)
        spent = time.process_time() - started
        assert spent < BUDGET_SECONDS, f"{where} took {spent:.2f} s on {run!r} × {LENGTH:,}"
