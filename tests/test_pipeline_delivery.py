"""`digest daily --send` end to end against a real SMTP server (aiosmtpd on loopback).

Exactly once: a re-run sends nothing, a server that is down means spooled + exit 4 + the papers
marked as that digest's, `outbox flush` sends it once later, and a crash at any step of the
pipeline leaves a state from which the next run completes with nothing lost and nothing sent
twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings, load_settings
from agent.errors import DeliveryError
from agent.pipeline import DailyOptions
from agent.store import Store
from tests.fakes.smtp_server import free_port, smtp_server
from tests.processes import clean_env, digest_process
from tests.runs import run_daily

DAY = dt.date(2026, 11, 23)


def write_feed(tmp_path: Path, count: int = 4, prefix: str = "2611.1000") -> Path:
    feed = tmp_path / f"feed-{prefix}.jsonl"
    feed.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"{prefix}{i}",
                    "title": f"Paper {i} on retrieval augmented generation",
                    "abstract": "We propose a retrieval method. It improves answer accuracy by 4 points.",
                    "url": f"https://arxiv.org/abs/{prefix}{i}",
                }
            )
            + "\n"
            for i in range(count)
        ),
        encoding="utf-8",
    )
    return feed


def email_env(tmp_path: Path, port: int) -> dict[str, str]:
    env = clean_env(
        DIGEST_HOME=str(tmp_path / "home"),
        DIGEST_EMAIL__SMTP_HOST="127.0.0.1",
        DIGEST_EMAIL__SMTP_PORT=str(port),
        DIGEST_EMAIL__SECURITY="none",
        DIGEST_EMAIL__SENDER="Paper Digest <digest@example.org>",
        DIGEST_EMAIL__RECIPIENTS='["reader@example.com"]',
        DIGEST_EMAIL__MAX_ATTEMPTS="1",
        DIGEST_EMAIL__TIMEOUT_SECONDS="5",
        DIGEST_EMAIL__LIST_UNSUBSCRIBE="<mailto:digest@example.org?subject=unsubscribe>",
    )
    return env


def digest(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return digest_process(*args, cwd=tmp_path, env=env)


def test_send_once_then_nothing_then_force(tmp_path: Path) -> None:
    feed = write_feed(tmp_path)
    with smtp_server() as server:
        env = email_env(tmp_path, server.port)
        daily = (
            "daily",
            "--source",
            f"file:{feed}",
            "--engine",
            "offline",
            "--date",
            DAY.isoformat(),
        )
        first = digest(tmp_path, env, *daily)
        assert first.returncode == 0, first.stderr
        assert "sent to reader@example.com" in first.stdout
        [received] = server.messages
        message = received.message
        assert received.rcpt_tos == ["reader@example.com"]
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        assert "23 Nov 2026" in message["Subject"] and message["Message-ID"]
        assert message["List-Unsubscribe"] == "<mailto:digest@example.org?subject=unsubscribe>"
        assert "retrieval" in message.get_body(("html",)).get_content().lower()

        again = digest(tmp_path, env, *daily)
        assert again.returncode == 0 and "already sent" in again.stdout
        assert len(server.messages) == 1

        forced = digest(tmp_path, env, *daily, "--force")
        assert forced.returncode == 0 and len(server.messages) == 2


def test_server_down_spools_exit_4_then_flush_sends_once(tmp_path: Path) -> None:
    feed = write_feed(tmp_path)
    port = free_port()
    env = email_env(tmp_path, port)
    daily = ("daily", "--source", f"file:{feed}", "--engine", "offline", "--date", DAY.isoformat())
    down = digest(tmp_path, env, *daily)
    assert down.returncode == 4, (down.stdout, down.stderr)
    assert "spooled" in down.stderr and "outbox flush" in down.stderr
    assert "Traceback" not in down.stderr
    with Store.open(tmp_path / "home") as store:
        assert store.seen_count() == 4  # the spooled digest's: the outbox delivers them
        assert store.runs()[0]["status"] == "spooled"
    assert len(list((tmp_path / "home" / "outbox").glob("*.eml"))) == 1
    listed = digest(tmp_path, env, "outbox", "list")
    assert listed.returncode == 0
    assert (
        "daily:2026-11-23 → reader@example.com" in listed.stdout and "1 attempt," in listed.stdout
    )
    with smtp_server(port=port) as server:
        flushed = digest(tmp_path, env, "outbox", "flush")
        assert flushed.returncode == 0, flushed.stderr
        assert len(server.messages) == 1
        assert digest(tmp_path, env, "outbox", "flush").returncode == 0
        rerun = digest(tmp_path, env, *daily)
        assert rerun.returncode == 0 and "already sent" in rerun.stdout
        assert len(server.messages) == 1  # never twice
    assert not list((tmp_path / "home" / "outbox").glob("*.eml"))
    with Store.open(tmp_path / "home") as store:
        assert store.seen_count() == 4  # the same four, not marked twice


def _settings(tmp_path: Path, port: int) -> Settings:
    return load_settings(
        None,
        home=tmp_path / "home",
        engine="offline",
        email={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "security": "none",
            "sender": "digest@example.org",
            "recipients": ["reader@example.com"],
            "max_attempts": 1,
            "timeout_seconds": 5,
        },
    )


CRASH_POINTS = [
    "agent.pipeline.daily.read_sources",
    "agent.pipeline.pick.select_papers",
    "agent.pipeline.reader.summarize",
    "agent.render.write_digest_files",
    "agent.deliver.archive.archive_digest",
    "agent.pipeline.send.send_digest",
    "agent.store.Store.record_sent",
    "agent.store.Store.mark_seen",
]


@pytest.mark.parametrize("target", CRASH_POINTS)
def test_a_crash_at_any_step_loses_nothing_and_sends_once(
    tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = write_feed(tmp_path)
    with smtp_server() as server:
        settings = _settings(tmp_path, server.port)
        options = DailyOptions(date=DAY, sources=(f"file:{feed}",), engine="offline", send=True)

        def crash(*args: object, **kwargs: object) -> None:
            raise RuntimeError(f"crash in {target}")

        with monkeypatch.context() as patch:
            patch.setattr(target, crash)
            with pytest.raises(RuntimeError, match="crash in"):
                run_daily(settings, options)
        crashed_after_accept = target == "agent.store.Store.record_sent"
        run_daily(settings, options)  # the next run completes
        expected = 2 if crashed_after_accept else 1  # the documented worst case: one duplicate
        assert len(server.messages) == expected
        with Store.open(settings.home) as store:
            assert store.seen_count() == 4
            assert store.already_sent("daily:2026-11-23", "reader@example.com")
        run_daily(settings, options)
        assert len(server.messages) == expected  # and never again


def test_nothing_else_runs_on_the_event_loop_while_smtp_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """smtplib blocks the loop's thread while it sends (agent.deliver.core says why that is
    safe): the only task on the loop then is the run itself, and the webhooks are posted after
    the email, not beside it. Two recipients: the loop stays empty between the messages too."""
    from agent.config import WebhookSettings
    from agent.deliver.smtp import SmtpSender
    from tests.fakes.webhook_server import WebhookServer

    feed = write_feed(tmp_path)
    other_tasks: list[int] = []
    posts_before: list[int] = []
    real_send = SmtpSender.send

    def send(self: SmtpSender, *args: Any, **kwargs: Any) -> Any:
        loop_tasks = asyncio.all_tasks(asyncio.get_running_loop())
        other_tasks.append(len(loop_tasks - {asyncio.current_task()}))
        posts_before.append(len(hooks.posts))
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(SmtpSender, "send", send)
    with smtp_server() as server, WebhookServer() as hooks:
        settings = _settings(tmp_path, server.port)
        email = settings.email.model_copy(update={"recipients": ["a@example.com", "b@example.com"]})
        hook = WebhookSettings(name="team", kind="json", url=hooks.url("/json"))
        settings = settings.model_copy(update={"email": email, "webhooks": [hook]})
        options = DailyOptions(date=DAY, sources=(f"file:{feed}",), engine="offline", send=True)
        outcome = run_daily(settings, options)
        assert outcome.status == "sent" and "posted to team" in outcome.message
        assert len(server.messages) == 2 and len(hooks.posts) == 1
    assert other_tasks == [0, 0]
    assert posts_before == [0, 0]


def test_a_delivery_error_in_process_marks_the_spooled_digests_papers(tmp_path: Path) -> None:
    """The papers of a spooled digest are its own: marked, so the next day's digest does not
    carry them again while the outbox delivers this one."""
    feed = write_feed(tmp_path)
    settings = _settings(tmp_path, free_port())
    with pytest.raises(DeliveryError) as info:
        run_daily(
            settings, DailyOptions(date=DAY, sources=(f"file:{feed}",), engine="offline", send=True)
        )
    assert info.value.exit_code == 4
    with Store.open(settings.home) as store:
        assert store.seen_count() == 4
    spooled = next((tmp_path / "home" / "outbox").glob("*.eml"))
    parsed = message_from_bytes(spooled.read_bytes(), policy=policy.default)
    assert parsed["To"] == "reader@example.com"


def test_empty_day_sends_nothing_unless_the_note_is_configured(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    with smtp_server() as server:
        settings = _settings(tmp_path, server.port)
        options = DailyOptions(date=DAY, sources=(f"file:{empty}",), engine="offline", send=True)
        quiet = run_daily(settings, options)
        assert quiet.status == "empty" and "No email was sent" in quiet.message
        assert server.messages == []
        noted = settings.model_copy(
            update={"email": settings.email.model_copy(update={"send_empty_note": True})}
        )
        outcome = run_daily(noted, options)
        assert "note was sent" in outcome.message
        [received] = server.messages
        assert "no new papers" in received.message["Subject"]
        run_daily(noted, options)
        assert len(server.messages) == 1  # the note, too, goes out once
