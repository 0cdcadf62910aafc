"""The package layout: each stage's public names resolve, and lazily where promised."""

from __future__ import annotations

import subprocess
import sys
import types

from agent.summarize import llm


def test_every_public_name_of_the_model_engine_resolves_to_what_it_names() -> None:
    for name in llm.__all__:
        value = getattr(llm, name)
        assert not isinstance(value, types.ModuleType), name
        assert getattr(value, "__name__", name) == name


def test_a_light_name_of_the_model_engine_does_not_load_langchain_or_openai() -> None:
    code = (
        "import sys\n"
        "from agent.summarize.llm import count_tokens, UsageMeter\n"
        "print(sorted(m for m in ('langchain_core', 'openai', 'agent.summarize.llm.engine')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
