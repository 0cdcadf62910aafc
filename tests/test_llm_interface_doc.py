"""The model path's interface page is true of the code: it names every public name of
`agent.summarize.llm` and only those, and every file or folder of its layer map exists."""

from __future__ import annotations

import re
from pathlib import Path

from agent.summarize import llm

PACKAGE = Path(llm.__file__).parent
PAGE = (PACKAGE / "README.interface.md").read_text(encoding="utf-8")


def test_the_page_names_exactly_the_public_names() -> None:
    section = PAGE.split("## What the rest of the agent uses", 1)[1].split("\n## ", 1)[0]
    spans = re.findall(r"`([^`]+)`", section)
    named = {name for span in spans for name in re.findall(r"[A-Za-z_]\w*", span)}
    public = set(llm.__all__)
    assert public <= named, public - named
    assert {name for name in named if name in dir(llm) or name[0].isupper()} - public <= {
        "LLMSettings"
    }


def test_every_file_of_the_layer_map_exists() -> None:
    block = PAGE.split("## The layers", 1)[1].split("```", 2)[1]
    paths = re.findall(r"^([\w/., ]+?)\s{2,}", block, re.MULTILINE)
    names = [name.strip() for entry in paths for name in entry.split(",") if name.strip()]
    assert len(names) >= 9, names
    for name in names:
        assert (PACKAGE / name).exists(), name
