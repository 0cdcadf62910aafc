"""The first ten minutes, end to end: `digest init`, then `digest doctor`, then `digest daily`,
from an empty folder, against loopback servers (arXiv RSS, Hugging Face, a model, SMTP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agent.cli import main
from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.fakes.openai_server import FakeOpenAIServer, default_digest_handler
from tests.fakes.smtp_server import smtp_server

FIXTURES = Path(__file__).parent / "fixtures"
RSS_CL = (FIXTURES / "arxiv_rss" / "distill_rss_arxiv_cs_cl.xml").read_bytes()
HF = (FIXTURES / "hf_daily_papers" / "sotawhat_hf_daily_papers_limit30.json").read_bytes()

pytestmark = pytest.mark.timeout(90)


def test_init_then_doctor_then_daily_from_an_empty_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("DIGEST_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    with (
        ScriptedHttpServer() as feeds,
        FakeOpenAIServer(handler=default_digest_handler) as model,
        smtp_server() as smtp,
    ):
        feeds.add("/rss/cs.CL", Reply(200, RSS_CL))
        feeds.add("/api/daily_papers", Reply(200, HF))
        # the public endpoints, pointed at loopback as a mirror would be
        monkeypatch.setenv("DIGEST_SOURCES__ARXIV_RSS_URL", f"{feeds.url}/rss/")
        monkeypatch.setenv("DIGEST_SOURCES__HF_URL", f"{feeds.url}/api/daily_papers")
        monkeypatch.setenv("DIGEST_SOURCES__ARXIV_MIN_INTERVAL_SECONDS", "0")

        init: Any = runner.invoke(
            main,
            [
                "init",
                "--category",
                "cs.CL",
                "--hf-daily",
                "--interests",
                "language model evaluation",
                "--base-url",
                model.base_url,
                "--model-name",
                "gpt-4o-mini",
                "--dialect",
                "json_schema",
                "--smtp-host",
                "127.0.0.1",
                "--smtp-port",
                str(smtp.port),
                "--security",
                "none",
                "--sender",
                "Paper digest <digest@example.org>",
                "--recipient",
                "reader@example.org",
                "--cron",
                "0 7 * * 1-5",
            ],
        )
        assert init.exit_code == 0, init.output
        assert sorted(p.name for p in folder.iterdir()) == ["digest.toml"]

        doctor = runner.invoke(main, ["doctor"])
        assert doctor.exit_code == 0, doctor.output
        statuses = {
            line.split()[1].rstrip(":"): line.split()[0]
            for line in doctor.output.splitlines()
            if line and not line.startswith(" ")
        }
        assert set(statuses.values()) == {"ok"}, doctor.output
        assert {"config", "DIGEST_HOME", "state", "source", "model", "SMTP", "schedule"} <= set(
            statuses
        )
        assert smtp.messages == [], "doctor sends nothing"
        assert not (tmp_path / "home" / "state.sqlite3").exists(), "doctor marks nothing"
        pings = len(model.chat_requests)
        assert pings == 1

        daily = runner.invoke(main, ["daily", "--date", "2026-12-01"])
        assert daily.exit_code == 0, daily.output
        assert "sent to reader@example.org" in " ".join(daily.output.split())
        [received] = smtp.messages
        assert received.rcpt_tos == ["reader@example.org"]
        assert len(model.chat_requests) > pings
    digest = json.loads(
        (tmp_path / "home" / "archive" / "2026-12-01" / "digest.json").read_text(encoding="utf-8")
    )
    assert digest["engine"].startswith("llm:gpt-4o-mini")
    assert digest["themes"]
    assert {h["name"]: h["status"] for h in digest["health"]} == {
        "arxiv-rss:cs.CL": "ok",
        "hf-daily": "ok",
    }
