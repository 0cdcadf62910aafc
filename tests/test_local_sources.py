"""The bundled sample and file:PATH sources, and their clear errors."""

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest

from agent.config import load_settings
from agent.errors import ConfigError
from agent.sources import make_source
from agent.sources.base import FetchContext


@pytest.fixture()
def ctx(tmp_path: Path) -> FetchContext:
    return FetchContext(
        date=dt.date(2026, 11, 26), sources=load_settings(None, home=tmp_path).sources
    )


def test_sample_source_is_bundled_and_cleaned(ctx: FetchContext) -> None:
    papers = asyncio.run(make_source("sample").fetch(ctx))
    assert len(papers) == 207
    assert papers[0].id == "dp-001" and papers[-1].id == "dp-207"
    assert len({p.id for p in papers}) == 207
    nystrom = [p for p in papers if "Nyströmformer" in p.abstract]
    assert nystrom, 'Nystr\\"{o}m should be cleaned to Nyströmformer'
    assert all(p.source == "sample" and p.title for p in papers)


def test_file_source_reads_jsonl_and_json(tmp_path: Path, ctx: FetchContext) -> None:
    records = [
        {
            "id": "x1",
            "title": "First",
            "abstract": "We propose \\emph{A}.",
            "authors": ["Ann", "Bo"],
            "url": "https://example.org/x1",
            "categories": ["cs.CL"],
            "published": "2026-11-25",
        },
        {"id": "x2", "title": "Second", "abstract": "", "authors": "Cy, Di"},
    ]
    jsonl = tmp_path / "papers.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    as_json = tmp_path / "papers.json"
    as_json.write_text(json.dumps(records), encoding="utf-8")
    for path in (jsonl, as_json):
        papers = asyncio.run(make_source(f"file:{path}").fetch(ctx))
        assert [p.id for p in papers] == ["x1", "x2"]
        assert papers[0].abstract == "We propose A."
        assert papers[0].authors == ("Ann", "Bo") and papers[1].authors == ("Cy", "Di")
        assert papers[0].primary_category == "cs.CL"
        assert papers[0].published == dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


def test_malformed_jsonl_names_file_and_line(tmp_path: Path, ctx: FetchContext) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "title": "ok"}\n{"id": "b", "title": \n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.jsonl:2: malformed JSONL"):
        asyncio.run(make_source(f"file:{path}").fetch(ctx))


def test_record_without_title_names_the_line(tmp_path: Path, ctx: FetchContext) -> None:
    path = tmp_path / "missing.jsonl"
    path.write_text('{"id": "a", "title": "ok"}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 2: missing field 'title'"):
        asyncio.run(make_source(f"file:{path}").fetch(ctx))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nonsense", "unknown source 'nonsense'"),
        ("file:", "needs an argument"),
        ("sample:x", "takes no argument"),
    ],
)
def test_bad_source_specs(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_source(spec)


def test_unreadable_file_is_a_config_error(tmp_path: Path, ctx: FetchContext) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        asyncio.run(make_source(f"file:{tmp_path / 'absent.jsonl'}").fetch(ctx))
    wrong = tmp_path / "papers.csv"
    wrong.write_text("id,title\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a .jsonl or .json file"):
        asyncio.run(make_source(f"file:{wrong}").fetch(ctx))


def test_an_endless_file_is_refused_at_the_cap(tmp_path: Path, ctx: FetchContext) -> None:
    """/dev/zero (stat says 0 bytes) behind a .jsonl name: read up to the cap, then refused."""
    endless = tmp_path / "endless.jsonl"
    endless.symlink_to("/dev/zero")
    with pytest.raises(
        ConfigError,
        match=r"endless.jsonl: cannot read it \(more than the 50,000,000 bytes allowed\)",
    ):
        asyncio.run(make_source(f"file:{endless}").fetch(ctx))


def test_repeated_ids_in_one_file_are_merged_and_said(tmp_path: Path, ctx: FetchContext) -> None:
    from agent.pipeline import fetch_all

    path = tmp_path / "dups.jsonl"
    path.write_text(
        "".join(json.dumps({"id": i, "title": f"T {i}"}) + "\n" for i in ("a", "b", "a")),
        encoding="utf-8",
    )
    outcome = asyncio.run(fetch_all([f"file:{path}"], ctx))
    assert [p.id for p in outcome.papers] == ["a", "b"]
    [health] = outcome.health
    assert health.count == 2 and health.reason == "1 repeated ids merged"
