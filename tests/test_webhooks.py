"""The webhook channel against a real loopback HTTP server: Slack Block Kit, Discord and JSON
payloads, exactly once per webhook (ledger), retries, spooling and `outbox flush`."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest

from agent.config import Settings, WebhookSettings
from agent.deliver.webhooks import deliver_webhooks, flush_webhooks, webhook_spool
from agent.errors import DeliveryError
from agent.models import Digest, Paper, PaperBlurb, Theme
from agent.render.chat_payloads import discord_payload, discord_text, slack_payload
from agent.store import Store
from tests.fakes.http_server import no_sleep, recording_sleep
from tests.fakes.webhook_server import WebhookServer
from tests.processes import run_digest

KEY = "daily:2026-11-26"


@pytest.fixture
def server():
    with WebhookServer() as running:
        yield running


def _digest(title: str = "Speculative decoding <b>fast</b> & @everyone") -> Digest:
    papers = [
        Paper(id="2611.00001", title=title, url="https://arxiv.org/abs/2611.00001",
              code_url="https://github.com/a/b"),
        Paper(id="2611.00002", title="KV cache [x](http://evil.example)", url="javascript:x()"),
    ]  # fmt: skip
    theme = Theme(
        title="Faster inference",
        summary="Two papers.",
        papers=tuple(PaperBlurb(paper_id=p.id, blurb="A blurb.") for p in papers),
    )
    return Digest(
        kind="daily", date=dt.date(2026, 11, 26), engine="offline", headline="2 new papers <today>",
        themes=(theme,), papers={p.id: p for p in papers},
    )  # fmt: skip


def hooks(server: WebhookServer, **extra) -> list[WebhookSettings]:
    return [
        WebhookSettings(name="team-slack", kind="slack", url=server.url("/slack"), **extra),
        WebhookSettings(name="discord", kind="discord", url=server.url("/discord"), **extra),
        WebhookSettings(name="tool", kind="json", url=server.url("/json"), **extra),
    ]


def post_all(server: WebhookServer, store: Store, tmp_path: Path):
    """The digest posted to the three webhooks of `server`, as a run posts it."""
    return asyncio.run(
        deliver_webhooks(
            _digest(), digest_key=KEY, hooks=hooks(server), store=store,
            outbox_dir=tmp_path / "outbox",
        )
    )  # fmt: skip


def test_each_webhook_gets_its_payload_once(server, tmp_path):
    with Store.open(tmp_path) as store:
        report = post_all(server, store, tmp_path)
        assert report.sent == ["team-slack", "discord", "tool"]
        by_path = {p.path: p for p in server.posts}
        assert set(by_path) == {"/slack", "/discord", "/json"}
        assert all(p.headers["content-type"] == "application/json" for p in server.posts)
        slack = by_path["/slack"].json()
        assert slack["blocks"][0]["type"] == "header"
        text = json.dumps(slack)
        assert "&lt;b&gt;fast&lt;/b&gt; &amp; @everyone" in text  # Slack mrkdwn escaped
        assert (
            "<https://arxiv.org/abs/2611.00001|" in text and "<https://github.com/a/b|code>" in text
        )
        assert "javascript:" not in text
        discord = by_path["/discord"].json()
        assert discord["allowed_mentions"] == {"parse": []}
        assert "\\@everyone" in discord["embeds"][0]["description"]
        assert "](http://evil.example)" not in discord["embeds"][0]["description"]
        assert by_path["/json"].json()["date"] == "2026-11-26"
        # A re-run posts nothing: the ledger knows all three.
        again = post_all(server, store, tmp_path)
        assert again.skipped == ["team-slack", "discord", "tool"] and len(server.posts) == 3
        forced = asyncio.run(deliver_webhooks(
            _digest(), digest_key=KEY, hooks=hooks(server)[:1], store=store,
            outbox_dir=tmp_path / "outbox", force=True,
        ))  # fmt: skip
        assert forced.sent == ["team-slack"] and len(server.posts) == 4


def test_retries_then_spools_then_flush_posts_once(server, tmp_path):
    waits: list[float] = []
    hook = [
        WebhookSettings(name="team-slack", kind="slack", url=server.url("/slack"), max_attempts=2)
    ]
    server.fail(503, 429, headers={"Retry-After": "1"})
    with Store.open(tmp_path) as store:
        with pytest.raises(DeliveryError) as info:
            asyncio.run(deliver_webhooks(_digest(), digest_key=KEY, hooks=hook, store=store,
                             outbox_dir=tmp_path / "outbox", sleep=recording_sleep(waits)))  # fmt: skip
        assert "team-slack: HTTP 429" in str(info.value) and "127.0.0.1" not in str(info.value)
        assert (
            len(server.posts) == 2 and waits and not store.already_sent(KEY, "webhook:team-slack")
        )
        spooled = list(webhook_spool(tmp_path / "outbox").glob("*"))
        assert len(spooled) == 2  # the payload and its sidecar
        assert all("127.0.0.1" not in p.read_text() for p in spooled)  # the URL is never spooled
        assert not list((tmp_path / "outbox").glob("*.eml"))  # never mistaken for an email

        report = asyncio.run(flush_webhooks(tmp_path / "outbox", hooks=hook, store=store))
        assert report.sent == ["team-slack"] and report.digest_keys == [KEY]
        assert server.posts[-1].body == server.posts[0].body  # the same bytes, retried
        assert store.already_sent(KEY, "webhook:team-slack")
        assert not list(webhook_spool(tmp_path / "outbox").glob("*"))
        assert asyncio.run(flush_webhooks(tmp_path / "outbox", hooks=hook, store=store)).sent == []
        assert len(server.posts) == 3


def test_a_permanent_error_is_not_retried(server, tmp_path):
    hook = [WebhookSettings(name="tool", kind="json", url=server.url("/json"))]
    server.fail(404)
    with (
        Store.open(tmp_path) as store,
        pytest.raises(DeliveryError, match="HTTP 404 \\(not retried\\)"),
    ):
        asyncio.run(deliver_webhooks(_digest(), digest_key=KEY, hooks=hook, store=store,
                         outbox_dir=tmp_path / "outbox", sleep=no_sleep))  # fmt: skip
    assert len(server.posts) == 1


@pytest.mark.timeout(20)  # the old client read the whole endless reply and never returned
def test_a_reply_with_an_endless_body_is_not_read(tmp_path):
    """A receiver that answers 200 and then trickles a huge body: the post counts as delivered
    after the status line, the body is never read."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n")
        while not stop.wait(0.2):
            try:
                conn.sendall(b"x")
            except OSError:
                break
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    hook = [WebhookSettings(name="tool", kind="json", url=url, timeout_seconds=30)]
    try:
        with Store.open(tmp_path) as store:
            report = asyncio.run(deliver_webhooks(_digest(), digest_key=KEY, hooks=hook, store=store,
                                      outbox_dir=tmp_path / "outbox", sleep=no_sleep))  # fmt: skip
    finally:
        stop.set()
        listener.close()
    assert report.sent == ["tool"]


def test_payloads_respect_platform_limits():
    many = [Paper(id=f"p{i}", title="T" * 300, url=f"https://x.org/{i}") for i in range(200)]
    themes = tuple(
        Theme(title=f"Theme {t} " + "x" * 300, summary="s",
              papers=tuple(PaperBlurb(paper_id=p.id, blurb="b") for p in many[t * 10:(t + 1) * 10]))
        for t in range(20)
    )  # fmt: skip
    digest = Digest(kind="daily", date=dt.date(2026, 1, 1), engine="offline", headline="h" * 5000,
                    themes=themes, papers={p.id: p for p in many})  # fmt: skip
    slack = slack_payload(digest)
    assert len(slack["blocks"]) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in slack["blocks"])
    discord = discord_payload(digest)
    assert len(discord["embeds"]) <= 10 and len(discord["content"]) <= 2000
    total = len(discord["content"]) + sum(
        len(e["title"]) + len(e["description"]) for e in discord["embeds"]
    )
    assert total <= 6000
    assert all(len(e["title"]) <= 256 and len(e["description"]) <= 4096 for e in discord["embeds"])


def test_discord_embed_titles_are_escaped_then_clipped():
    """Discord renders Markdown in embed titles: a theme title is literal there as in the
    email, and the 256-character limit holds after escaping (which can double a title)."""
    paper = Paper(id="2612.00001", title="A paper", url="https://arxiv.org/abs/2612.00001")
    formatted = "**Sparse** attention ~~fails~~ ||spoiler|| `code` <@123> [a](b)"
    stars = "*_~` " * 60  # 300 characters, 480 once escaped
    themes = tuple(
        Theme(title=title, papers=(PaperBlurb(paper_id=paper.id, blurb="It does."),))
        for title in (formatted, stars)
    )
    digest = Digest(kind="daily", date=dt.date(2026, 12, 1), engine="offline", headline="Today.",
                    themes=themes, papers={paper.id: paper})  # fmt: skip
    first, second = (embed["title"] for embed in discord_payload(digest)["embeds"])
    assert first == discord_text(formatted) + " (1)"
    assert len(second) <= 256 and second.endswith("… (1)")
    assert second.startswith(discord_text(stars)[:200])


def test_webhook_config_is_checked(tmp_path):
    from agent.config import load_settings
    from agent.errors import ConfigError

    config = tmp_path / "digest.toml"
    config.write_text(
        '[[webhooks]]\nname = "a"\nkind = "slack"\nurl = "ftp://x"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="webhook"):
        load_settings(config)
    settings = Settings(webhooks=[{"name": "a", "url": "https://hooks.example/T/secret"}])
    assert "secret" not in repr(settings) and settings.webhooks[0].kind == "json"


def test_daily_posts_to_webhooks_from_the_cli(server, tmp_path: Path):
    """An outage during `digest daily` spools the post (exit 4); `outbox flush` posts it once.
    (The happy path and the ledger's skip are covered above without a subprocess.)"""
    config = tmp_path / "digest.toml"
    config.write_text(
        f'[[webhooks]]\nname = "team"\nkind = "slack"\nurl = "{server.url("/slack")}"\n'
        "max_attempts = 2\n",
        encoding="utf-8",
    )
    server.fail(500, 503)
    args = (
        "daily",
        "--source",
        "sample",
        "--date",
        "2026-11-26",
        "--max-papers",
        "5",
        "--config",
        str(config),
    )
    run = run_digest(*args, home=tmp_path / "home", cwd=tmp_path)
    assert run.returncode == 4, run.stdout + run.stderr
    assert "webhook team: HTTP 503" in run.stderr and "Traceback" not in run.stderr
    assert "127.0.0.1" not in run.stderr  # the URL (a secret) is never printed
    assert len(server.posts) == 2
    flushed = run_digest(
        "outbox", "flush", "--config", str(config), home=tmp_path / "home", cwd=tmp_path
    )
    assert flushed.returncode == 0, flushed.stdout + flushed.stderr
    assert "Posted 1 spooled webhook payload" in flushed.stdout
    assert "The outbox is empty." not in flushed.stdout  # it was not: it held that payload
    assert len(server.posts) == 3 and server.posts[-1].body == server.posts[0].body
    assert server.posts[-1].json()["blocks"][0]["text"]["text"] == "Paper digest · Thu 26 Nov 2026"
    # --send with webhooks and no [email]: posts (again, with --force) instead of refusing.
    resent = run_digest(*args, "--send", "--force", home=tmp_path / "home", cwd=tmp_path)
    assert resent.returncode == 0, resent.stdout + resent.stderr
    assert len(server.posts) == 4 and "posted to team" in resent.stdout


def test_a_payload_is_spooled_while_it_is_posted(server, tmp_path):
    """From before the post until its ledger row: a run killed while the endpoint takes its
    time leaves the payload for the next run's flush (it was in no outbox before)."""
    from agent.deliver.spool import spooled_entries
    from tests.spool_watch import spool_at_each_ledger_write

    spool = webhook_spool(tmp_path / "outbox")
    with Store.open(tmp_path) as store:
        seen = spool_at_each_ledger_write(store, spool)
        asyncio.run(deliver_webhooks(
            _digest(), digest_key=KEY, hooks=hooks(server)[:1], store=store,
            outbox_dir=tmp_path / "outbox",
        ))  # fmt: skip
    assert seen == [
        (
            "webhook:team-slack",
            0,
            "not posted: the run posting it stopped before the webhook answered",
        )
    ]
    assert spooled_entries(spool) == ([], [])
