"""Hostile feeds against the real fetcher over loopback: a body (or the headers) trickling one
byte at a time, a body with no end, 200,000 nested brackets. Each fails its own source with a
reason; the other sources carry on. Small timeouts keep it fast; durations are bounded by
pytest-timeout, never asserted."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from agent.config import Settings, SourcesSettings
from agent.errors import NoSourceReadError, SourceError
from agent.pipeline import fetch_all
from agent.sources.base import FetchContext
from agent.sources.http import HttpFetcher
from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.processes import clean_env, digest_process

DAY = dt.date(2026, 4, 27)


def settings_for(server: ScriptedHttpServer, tmp_path: Path, **sources: object) -> Settings:
    values = {
        "hf_url": f"{server.url}/api/daily_papers",
        "timeout_seconds": 1.0,
        "max_attempts": 1,
        **sources,
    }
    return Settings(home=tmp_path, sources=SourcesSettings(**values))


@pytest.mark.timeout(20)
@pytest.mark.parametrize("headers_too", [False, True])
def test_a_trickling_feed_fails_after_the_timeout(tmp_path: Path, headers_too: bool) -> None:
    with ScriptedHttpServer() as server:
        server.add("/slow", Reply(200, trickle=0.2, trickle_headers=headers_too))
        settings = settings_for(server, tmp_path)
        with HttpFetcher(settings.sources) as fetcher, pytest.raises(SourceError) as info:
            asyncio.run(fetcher.get(f"{server.url}/slow", source="hf-daily"))
    assert "timed out after 1 attempt (1 s each, whole request)" in str(info.value)


@pytest.mark.timeout(20)
def test_a_body_with_no_end_is_cut_at_the_byte_cap(tmp_path: Path) -> None:
    with ScriptedHttpServer() as server:
        server.add("/endless", Reply(200, endless=True))
        settings = settings_for(server, tmp_path, max_response_bytes=200_000, timeout_seconds=10)
        with HttpFetcher(settings.sources) as fetcher, pytest.raises(SourceError) as info:
            asyncio.run(fetcher.get(f"{server.url}/endless", source="hf-daily"))
    assert "response larger than 200,000 bytes" in str(info.value)
    assert "sources.max_response_bytes" in str(info.value)


@pytest.mark.timeout(20)
def test_a_declared_length_over_the_cap_is_refused_before_reading(tmp_path: Path) -> None:
    with ScriptedHttpServer() as server:
        server.add("/api/daily_papers", Reply(200, b"[" + b" " * 300_000 + b"]"))
        settings = settings_for(server, tmp_path, max_response_bytes=100_000)
        with HttpFetcher(settings.sources) as fetcher, pytest.raises(SourceError) as info:
            asyncio.run(fetcher.get(settings.sources.hf_url, source="hf-daily"))
    assert "larger than 100,000 bytes" in str(info.value)


@pytest.mark.timeout(30)
def test_deep_json_and_a_trickle_fail_their_sources_and_the_run_goes_on(tmp_path: Path) -> None:
    with ScriptedHttpServer() as deep, ScriptedHttpServer() as slow:
        deep.add("/api/daily_papers", Reply(200, b"[" * 200_000))
        slow.add("/rss/cs.CL", Reply(200, trickle=0.3))
        settings = settings_for(
            deep, tmp_path, arxiv_rss_url=f"{slow.url}/rss/", arxiv_min_interval_seconds=0
        )
        outcome = asyncio.run(
            fetch_all(
                ["hf-daily", "arxiv-rss:cs.CL", "sample"], FetchContext(DAY, settings.sources)
            )
        )
    health = {h.name: h for h in outcome.health}
    assert health["hf-daily"].status == "failed"
    assert "JSON nested too deeply" in (health["hf-daily"].reason or "")
    assert health["arxiv-rss:cs.CL"].status == "failed"
    assert "timed out" in (health["arxiv-rss:cs.CL"].reason or "")
    assert health["sample"].status == "ok" and outcome.papers


@pytest.mark.timeout(30)
def test_a_trickling_only_source_is_exit_3(tmp_path: Path) -> None:
    with ScriptedHttpServer() as server:
        server.add("/api/daily_papers", Reply(200, trickle=0.3))
        env = clean_env(
            DIGEST_HOME=str(tmp_path / "home"),
            DIGEST_SOURCES__HF_URL=f"{server.url}/api/daily_papers",
            DIGEST_SOURCES__TIMEOUT_SECONDS="1",
            DIGEST_SOURCES__MAX_ATTEMPTS="1",
        )
        result = digest_process(
            "daily",
            "--source",
            "hf-daily",
            "--no-send",
            "--out",
            str(tmp_path / "out"),
            cwd=tmp_path,
            env=env,
            timeout=60,
        )
    assert result.returncode == 3, result.stderr
    assert "no source could be read" in result.stderr and "timed out" in result.stderr
    assert "Traceback" not in result.stderr


def test_deeply_nested_local_json_is_a_clear_error(tmp_path: Path) -> None:
    from agent.errors import ConfigError
    from agent.sources.local import read_paper_file

    bad = tmp_path / "deep.json"
    bad.write_text("[" * 200_000, encoding="utf-8")
    with pytest.raises(ConfigError, match="nested too deeply"):
        read_paper_file(bad, "file:deep.json")


def test_every_source_failing_still_raises_no_source_read(tmp_path: Path) -> None:
    with ScriptedHttpServer() as deep:
        deep.add("/api/daily_papers", Reply(200, b"[" * 200_000))
        settings = settings_for(deep, tmp_path)
        with pytest.raises(NoSourceReadError, match="nested too deeply"):
            asyncio.run(fetch_all(["hf-daily"], FetchContext(DAY, settings.sources)))
