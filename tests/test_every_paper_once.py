"""Every paper exactly once, whatever the model says: random answers shaped like the schemas
(duplicated ids inside and across themes, unknown ids, empty themes, missing papers) go through
the real engine (re-asks, repairs, fallbacks), and random summaries through the last safety
net in building the digest. Property tests (hypothesis), seeded and bounded."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import LLMSettings
from agent.models import PaperBlurb, SourceHealth, Summary, Theme
from agent.pipeline import build_digest
from agent.render.message import subject_line
from agent.select import Selection
from agent.summarize.llm.asking.repair import Group, clean_groups
from agent.summarize.llm.chat import ChatRequest
from agent.summarize.llm.engine import LLMEngine
from agent.summarize.llm.models.json_schema import closed_json_schema
from tests.llm_answers import (
    ScriptedModel,
    _enum_values,
    assert_complete,
    request_answer,
    sample_papers,
)

PAPERS = sample_papers(40)


def _pick(rng: random.Random, ids: list[str]) -> list[str]:
    """Some ids, some twice, some invented; possibly none."""
    members = rng.sample(ids, k=rng.randint(0, len(ids))) if ids else []
    members += [rng.choice(ids) for _ in range(rng.randint(0, 3))] if ids else []
    members += [f"P{rng.randint(900, 999)}" for _ in range(rng.randint(0, 2))]
    rng.shuffle(members)
    return members


def random_answer(rng: random.Random, request: ChatRequest) -> Any:
    """Valid JSON in the schema's shape, with random content."""
    schema = closed_json_schema(request.schema, strict=True)
    ids = _enum_values(schema)
    props = schema.get("properties", {})
    if "themes" in props:
        member = "theme_ids" if "theme_ids" in json.dumps(schema) else "paper_ids"
        return {
            "themes": [
                {"title": f"Theme {i}", "summary": "Random.", member: _pick(rng, ids)}
                for i in range(rng.randint(0, 7))
            ]
        }
    if "blurbs" in props:
        return {
            "summary": "Random summary.",
            "blurbs": [
                {"paper_id": pid, "blurb": "They did a thing.", "why_it_matters": None}
                for pid in _pick(rng, ids)
            ],
        }
    return request_answer(request)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 40))
def test_random_model_answers_place_every_paper_exactly_once(seed: int, count: int) -> None:
    rng = random.Random(seed)
    papers = PAPERS[:count]
    model = ScriptedModel(script=lambda request: random_answer(rng, request))
    llm = LLMSettings(max_reasks=1)
    summary = asyncio.run(LLMEngine(llm, None, models=[model]).summarize(papers))
    assert_complete(summary, papers)


@given(
    groups=st.lists(
        st.lists(st.sampled_from([f"P{i}" for i in range(1, 13)] + ["P99", "X"]), max_size=12),
        max_size=10,
    ),
    limit=st.integers(1, 8),
)
def test_clean_groups_keeps_each_known_id_once(groups: list[list[str]], limit: int) -> None:
    known = [f"P{i}" for i in range(1, 11)]
    cleaned, _ = clean_groups(
        [Group(f"T{i}", None, tuple(g)) for i, g in enumerate(groups)], known, max_groups=limit
    )
    placed = [m for g in cleaned for m in g.members]
    assert len(placed) == len(set(placed)) and set(placed) <= set(known)
    assert len(cleaned) <= limit and all(g.members for g in cleaned)


@given(
    themes=st.lists(
        st.lists(
            st.sampled_from([p.id for p in PAPERS[:12]] + ["ghost-1", "ghost-2"]), max_size=15
        ),
        max_size=6,
    ),
    cap=st.integers(1, 12),
)
def test_the_last_safety_net_counts_unique_papers(themes: list[list[str]], cap: int) -> None:
    papers = PAPERS[:12]
    selection = Selection(
        selected=tuple(papers[:cap]),
        also_new=tuple(papers[cap:]),
        updated=(),
        already_seen=0,
        excluded=0,
    )
    summary = Summary(
        themes=tuple(
            Theme(title=f"T{i}", papers=tuple(PaperBlurb(paper_id=pid, blurb="b") for pid in ids))
            for i, ids in enumerate(themes)
        ),
        headline="h",
    )
    digest = build_digest(
        kind="daily",
        date=dt.date(2026, 11, 26),
        summary=summary,
        selection=selection,
        health=(SourceHealth(name="s", status="ok"),),
    )
    placed = [b.paper_id for t in digest.themes for b in t.papers]
    everywhere = placed + list(digest.also_new)
    assert sorted(everywhere) == sorted(p.id for p in papers)  # each once, nothing lost
    assert set(placed) <= {p.id for p in selection.selected}
    assert all(t.papers for t in digest.themes)
    assert digest.paper_count == len(papers)
    count = re.search(r"(\d+) papers?", subject_line(digest))
    assert count is not None and int(count.group(1)) == len(papers)
