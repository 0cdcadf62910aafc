"""The daily pipeline against real feeds served on loopback: health, dedup, empty days, crashes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from agent.config import Settings, load_settings
from agent.errors import NoSourceReadError
from agent.pipeline import DailyOptions
from agent.sources.arxiv_rss import parse_rss
from agent.store import Store
from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.processes import clean_env, digest_process
from tests.runs import run_daily

FIXTURES = Path(__file__).parent / "fixtures"
RSS_CL = (FIXTURES / "arxiv_rss" / "distill_rss_arxiv_cs_cl.xml").read_bytes()
RSS_WEEKEND = (FIXTURES / "arxiv_rss" / "allnewsai_rss_cs.CL_weekend_empty.xml").read_bytes()
HF = (FIXTURES / "hf_daily_papers" / "sotawhat_hf_daily_papers_limit30.json").read_bytes()
DAY = dt.date(2026, 4, 27)


@pytest.fixture()
def server() -> ScriptedHttpServer:
    with ScriptedHttpServer() as srv:
        yield srv


def settings_for(tmp_path: Path, server: ScriptedHttpServer, **extra: object) -> Settings:
    return load_settings(
        None,
        home=tmp_path / "home",
        engine="offline",
        sources={
            "arxiv_rss_url": f"{server.url}/rss/",
            "hf_url": f"{server.url}/api/daily_papers",
            "arxiv_min_interval_seconds": 0,
            "max_attempts": 1,
            "timeout_seconds": 5,
        },
        **extra,
    )


def options(tmp_path: Path, *sources: str, date: dt.date = DAY) -> DailyOptions:
    return DailyOptions(
        date=date, sources=sources, engine="offline", out_dir=tmp_path / "out", send=False
    )


def test_two_live_sources_make_one_digest(tmp_path: Path, server: ScriptedHttpServer) -> None:
    server.add("/rss/cs.CL", Reply(200, RSS_CL))
    server.add("/api/daily_papers", Reply(200, HF))
    outcome = run_daily(
        settings_for(tmp_path, server), options(tmp_path, "arxiv-rss:cs.CL", "hf-daily")
    )
    assert outcome.status == "written"
    assert [(h.name, h.status, h.count) for h in outcome.health] == [
        ("arxiv-rss:cs.CL", "ok", 3),
        ("hf-daily", "ok", 30),
    ]
    data = json.loads(outcome.files["json"].read_text(encoding="utf-8"))
    ids = [p["id"] for t in data["themes"] for p in t["papers"]] + [
        p["id"] for p in data["also_new"]
    ]
    assert len(ids) == len(set(ids)) == 33
    # The sources are read at the same time: find hf-daily's request by its path, not its place.
    [hf] = [r for r in server.requests if r.path == "/api/daily_papers"]
    assert hf.param("date") == "2026-04-27"  # hf-daily asks for the digest date


def test_the_same_paper_from_two_sources_appears_once(
    tmp_path: Path, server: ScriptedHttpServer
) -> None:
    server.add("/rss/cs.CL", Reply(200, RSS_CL))
    rss_id = parse_rss(RSS_CL.decode("utf-8"), source="arxiv-rss:cs.CL")[0].id
    duplicate = tmp_path / "dup.jsonl"
    duplicate.write_text(
        json.dumps({"id": rss_id, "title": "Same paper, other source", "abstract": "x"}) + "\n",
        encoding="utf-8",
    )
    outcome = run_daily(
        settings_for(tmp_path, server), options(tmp_path, "arxiv-rss:cs.CL", f"file:{duplicate}")
    )
    assert outcome.digest is not None and outcome.digest.paper_count == 3
    assert outcome.digest.papers[rss_id].abstract != "x"  # the richer copy wins


def test_a_failed_source_is_reported_and_the_others_still_count(
    tmp_path: Path, server: ScriptedHttpServer
) -> None:
    server.add("/rss/cs.CL", Reply(503, "busy"))
    server.add("/api/daily_papers", Reply(200, HF))
    outcome = run_daily(
        settings_for(tmp_path, server), options(tmp_path, "arxiv-rss:cs.CL", "hf-daily")
    )
    failed = [h for h in outcome.health if h.status == "failed"]
    assert [h.name for h in failed] == ["arxiv-rss:cs.CL"] and "503" in (failed[0].reason or "")
    data = json.loads(outcome.files["json"].read_text(encoding="utf-8"))
    assert {h["name"]: h["status"] for h in data["health"]} == {
        "arxiv-rss:cs.CL": "failed",
        "hf-daily": "ok",
    }
    assert any(d["step"] == "source" for d in data["degraded"])
    assert "arxiv-rss:cs.CL" in outcome.files["html"].read_text(encoding="utf-8")


def test_every_source_failing_marks_nothing_and_raises(
    tmp_path: Path, server: ScriptedHttpServer
) -> None:
    server.add("/rss/cs.CL", Reply(500, "down"))
    server.add("/api/daily_papers", Reply(200, b"{not json"))
    settings = settings_for(tmp_path, server)
    with pytest.raises(NoSourceReadError, match="no source could be read") as info:
        run_daily(settings, options(tmp_path, "arxiv-rss:cs.CL", "hf-daily"))
    assert info.value.exit_code == 3
    with Store.open(settings.home) as store:
        assert store.seen_count() == 0
        assert store.runs()[0]["status"] == "failed"


def test_an_empty_weekend_feed_is_not_a_failure(tmp_path: Path, server: ScriptedHttpServer) -> None:
    server.add("/rss/cs.CL", Reply(200, RSS_WEEKEND))
    outcome = run_daily(settings_for(tmp_path, server), options(tmp_path, "arxiv-rss:cs.CL"))
    assert outcome.status == "empty" and outcome.digest is None
    assert outcome.health[0].status == "empty"
    assert "Nothing new today" in outcome.message and "weekend" in outcome.message
    assert not (tmp_path / "out").exists()


def test_a_truncated_feed_is_a_clear_failure(tmp_path: Path, server: ScriptedHttpServer) -> None:
    server.add("/rss/cs.CL", Reply(200, RSS_CL[: len(RSS_CL) // 2]))
    with pytest.raises(NoSourceReadError, match="arxiv-rss:cs.CL"):
        run_daily(settings_for(tmp_path, server), options(tmp_path, "arxiv-rss:cs.CL"))


def test_a_crash_after_fetching_leaves_nothing_marked_seen(
    tmp_path: Path, server: ScriptedHttpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.add("/rss/cs.CL", Reply(200, RSS_CL))
    settings = settings_for(tmp_path, server)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut while summarising")

    with monkeypatch.context() as patch:
        patch.setattr("agent.pipeline.reader.summarize", crash)
        with pytest.raises(RuntimeError):
            run_daily(settings, options(tmp_path, "arxiv-rss:cs.CL"))
    with Store.open(settings.home) as store:
        assert store.seen_count() == 0
        assert store.runs()[0]["status"] == "failed"
    outcome = run_daily(settings, options(tmp_path, "arxiv-rss:cs.CL"))
    assert outcome.digest is not None and outcome.digest.paper_count == 3
    with Store.open(settings.home) as store:
        assert store.seen_count() == 3
    again = run_daily(
        settings, options(tmp_path, "arxiv-rss:cs.CL", date=DAY + dt.timedelta(days=1))
    )
    assert again.status == "empty" and "earlier digest" in again.message


def test_cli_exit_3_when_no_source_can_be_read(tmp_path: Path, server: ScriptedHttpServer) -> None:
    server.add("/rss/cs.CL", Reply(500, "down"))
    env = clean_env(
        DIGEST_HOME=str(tmp_path / "h"),
        DIGEST_SOURCES__ARXIV_RSS_URL=f"{server.url}/rss/",
        DIGEST_SOURCES__MAX_ATTEMPTS="1",
        DIGEST_SOURCES__ARXIV_MIN_INTERVAL_SECONDS="0",
    )
    result = digest_process(
        "daily", "--source", "arxiv-rss:cs.CL", cwd=tmp_path, env=env, timeout=60
    )
    assert result.returncode == 3
    assert "no source could be read" in result.stderr and "HTTP 500" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_day_with_only_new_versions_lists_them_once(
    tmp_path: Path, server: ScriptedHttpServer
) -> None:
    def feed(version: int) -> str:
        path = tmp_path / f"v{version}.jsonl"
        path.write_text(
            "".join(
                json.dumps(
                    {
                        "id": f"2611.0000{i}",
                        "version": version,
                        "title": f"Paper {i}",
                        "abstract": "We study it.",
                    }
                )
                + "\n"
                for i in range(2)
            ),
            encoding="utf-8",
        )
        return f"file:{path}"

    settings = settings_for(tmp_path, server)
    first = run_daily(settings, options(tmp_path, feed(1), date=dt.date(2026, 11, 23)))
    assert first.digest is not None and first.digest.paper_count == 2
    updates = run_daily(settings, options(tmp_path, feed(2), date=dt.date(2026, 11, 24)))
    assert updates.status == "written" and updates.digest is not None
    assert updates.digest.themes == () and sorted(updates.digest.updated) == [
        "2611.00000",
        "2611.00001",
    ]
    assert "new versions" in updates.digest.headline
    data = json.loads(updates.files["json"].read_text(encoding="utf-8"))
    assert [u["version"] for u in data["updated"]] == [2, 2]
    again = run_daily(settings, options(tmp_path, feed(2), date=dt.date(2026, 11, 25)))
    assert again.status == "empty"  # the update is not repeated either
