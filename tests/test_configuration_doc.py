"""docs/configuration.md cannot drift: its key tables are generated from the settings model,
every key has a description, and the example config it shows loads as settings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from agent.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
try:
    import configuration
finally:
    sys.path.remove(str(ROOT / "tools"))


def test_the_committed_page_is_what_the_generator_writes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert configuration.main(["--check"]) == 0, capsys.readouterr().out


def test_a_stale_page_is_found_and_rewritten() -> None:
    text = configuration.DOC.read_text(encoding="utf-8")
    fresh = configuration.generated()
    stale = configuration.rewrite(
        text, {**fresh, "keys": fresh["keys"].replace("`max_papers`", "")}
    )
    assert stale != text and configuration.rewrite(stale, fresh) == text


def test_every_key_has_a_description_and_a_row() -> None:
    assert configuration.missing_descriptions() == []
    text = configuration.DOC.read_text(encoding="utf-8")
    for table in configuration.tables():
        for key in table.model.model_fields:
            header = f"`{table.header}`" if table.header else "(top level)"
            nested = configuration.is_model(
                configuration.unwrap(table.model.model_fields[key].annotation)
            )
            if not nested and not configuration.is_table_of_models(
                table.model.model_fields[key].annotation
            ):
                assert f"| `{key}` | {header} |" in text, (table.header, key)


class _Inner(BaseModel):
    said: int = Field(default=1, description="described")
    unsaid: int = 2


class _Outer(BaseModel):
    inner: _Inner = Field(default_factory=_Inner, description="a table")
    bare: str = ""


def test_a_key_without_a_description_is_reported() -> None:
    assert configuration.missing_descriptions(_Outer) == ["(top level) bare", "[inner] unsaid"]


def test_the_example_config_loads_and_is_on_the_page(tmp_path: Path) -> None:
    settings = load_settings(configuration.EXAMPLE)
    assert settings.categories == ["cs.CL", "cs.LG"] and settings.email.configured
    example = configuration.EXAMPLE.read_text(encoding="utf-8").strip()
    assert example in configuration.DOC.read_text(encoding="utf-8")
