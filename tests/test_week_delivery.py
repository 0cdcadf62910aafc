"""A researcher's days around a mail server outage, as cron runs `digest daily` each morning:
every digest reaches the reader once, and each paper in one digest only."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.fakes.smtp_server import free_port, smtp_server
from tests.week_world import SAMPLE, Item, api_feed, digest, feed, use_api, write_config

THU, FRI = dt.date(2026, 12, 3), dt.date(2026, 12, 4)
ARXIV_ID = re.compile(r"\b2612\.1\d{4}\b")


def _ids(message) -> set[str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return set(ARXIV_ID.findall(text))


def test_the_papers_of_a_spooled_day_reach_the_reader_once(tmp_path: Path) -> None:
    """Thursday the mail server is down (exit 4, spooled). Friday it is back and the search
    still returns Thursday's papers: they are in Thursday's digest only, which Friday's run
    sends first from the outbox, and Friday's digest has Friday's papers only. (Before, a spooled
    digest's papers were not marked: Friday's digest carried them again, and the flush then
    delivered Thursday's with the same papers, so each reached the reader twice.)"""
    port = free_port()
    thursday = [Item(i) for i in range(6)]
    friday = [Item(i) for i in range(6, 12)]
    with ScriptedHttpServer() as api:
        write_config(tmp_path, api.url, port)
        use_api(tmp_path, api.url)
        # The arXiv API search returns the newest submissions: Thursday's are still there Friday.
        api.add("/api/query", Reply(200, api_feed(THU, thursday)))
        down = digest(tmp_path, "daily", "--date", THU.isoformat())
        assert down.returncode == 4, down.stderr
        with smtp_server(port=port) as smtp:
            api.add("/api/query", Reply(200, api_feed(FRI, friday + thursday)))
            back = digest(tmp_path, "daily", "--date", FRI.isoformat())
            assert back.returncode == 0, back.stderr
            flushed = digest(tmp_path, "outbox", "flush")
            assert flushed.returncode == 0, flushed.stderr
            messages = [r.message for r in smtp.messages]
    assert flushed.stdout.strip() == "The outbox is empty."
    thu, fri = messages  # Thursday's from the outbox first, then Friday's
    assert ("Thu 3 Dec" in str(thu["Subject"]), "Fri 4 Dec" in str(fri["Subject"])) == (True, True)
    assert _ids(thu) == {i.id for i in thursday}
    assert _ids(fri) == {i.id for i in friday}


def test_the_next_run_sends_a_digest_waiting_in_the_outbox_first_and_says_so(
    tmp_path: Path,
) -> None:
    """Thursday's digest is spooled (exit 4 in cron.log) and `digest doctor` says a message
    waits in the outbox. Friday's run sends it first, says so, then sends Friday's; doctor is
    then ok. (Before, Friday's run said only 'sent', left Thursday's in the outbox, and doctor
    reported the state as ok: nothing said Thursday's digest never arrived.)"""
    port = free_port()
    outbox = tmp_path / "state" / "outbox"
    with ScriptedHttpServer() as rss:
        write_config(tmp_path, rss.url, port)
        rss.add("/rss/cs.CL", Reply(200, feed(THU, [Item(i) for i in range(6)])))
        down = digest(tmp_path, "daily", "--date", THU.isoformat())
        assert down.returncode == 4, down.stderr
        waiting = _state_line(digest(tmp_path, "doctor").stdout)
        with smtp_server(port=port) as smtp:
            rss.add("/rss/cs.CL", Reply(200, feed(FRI, [Item(i) for i in range(6, 12)])))
            back = digest(tmp_path, "daily", "--date", FRI.isoformat())
            doctor = digest(tmp_path, "doctor")
            subjects = [str(r.message["Subject"]) for r in smtp.messages]
    assert waiting.startswith("warning")
    assert waiting.endswith("1 message waits in the outbox")
    assert back.returncode == 0, back.stderr
    assert back.stdout.splitlines()[0] == (
        "Sent the digest of 2026-12-03 from the outbox to reader@example.org."
    )
    assert [("Thu 3 Dec" in s, "Fri 4 Dec" in s) for s in subjects] == [
        (True, False),
        (False, True),
    ]
    assert not list(outbox.glob("*.eml"))
    state = _state_line(doctor.stdout)
    assert state.startswith("ok") and "outbox" not in state


def _state_line(doctor_output: str) -> str:
    return next(line for line in doctor_output.splitlines() if re.match(r"^\w+\s+state:", line))


def test_emailed_papers_do_not_come_again_when_only_the_webhook_failed(tmp_path: Path) -> None:
    """Thursday the email goes out but the team's Slack-style webhook answers 500 (exit 4, the
    post spooled). Thursday's papers are marked as seen all the same: Friday's email lists
    Friday's papers only. (Before, only a spooled email marked them, so Friday's email listed
    all of Thursday's papers again.)"""
    thursday = [Item(i) for i in range(6)]
    friday = [Item(i) for i in range(6, 12)]
    with ScriptedHttpServer() as api, ScriptedHttpServer() as hook, smtp_server() as smtp:
        write_config(tmp_path, api.url, smtp.port)
        use_api(tmp_path, api.url)
        config = tmp_path / "digest.toml"
        config.write_text(
            config.read_text()
            + f'\n[[webhooks]]\nname = "team"\nkind = "json"\nurl = "{hook.url}/hook"\n'
            "max_attempts = 1\ntimeout_seconds = 3\n"
        )
        hook.add("/hook", Reply(500, "down"))
        api.add("/api/query", Reply(200, api_feed(THU, thursday)))
        thu = digest(tmp_path, "daily", "--date", THU.isoformat())
        assert thu.returncode == 4, thu.stdout + thu.stderr
        hook.add("/hook", Reply(200, "ok"))
        api.add("/api/query", Reply(200, api_feed(FRI, friday + thursday)))
        fri = digest(tmp_path, "daily", "--date", FRI.isoformat())
        assert fri.returncode == 0, fri.stderr
        messages = [r.message for r in smtp.messages]
    assert [
        ("Thu 3 Dec" in str(m["Subject"]), "Fri 4 Dec" in str(m["Subject"])) for m in messages
    ] == [
        (True, False),
        (False, True),
    ]
    assert _ids(messages[0]) == {i.id for i in thursday}
    assert _ids(messages[1]) == {i.id for i in friday}


def test_a_paper_of_a_digest_delivered_by_outbox_flush_can_be_rated(tmp_path: Path) -> None:
    """Thursday's digest is spooled (SMTP down) and delivered by `digest outbox flush` once the
    server is back. The reader rates one of its papers by the id printed next to it in the
    email, and it is rated (it was 'no paper ... in your digests', exit 2: the papers were kept
    only after a digest was sent, never for a spooled one)."""
    port = free_port()
    with ScriptedHttpServer() as rss:
        write_config(tmp_path, rss.url, port)
        rss.add("/rss/cs.CL", Reply(200, feed(THU, [Item(i) for i in range(6)])))
        down = digest(tmp_path, "daily", "--date", THU.isoformat())
        assert down.returncode == 4, down.stderr
        with smtp_server(port=port) as smtp:
            flushed = digest(tmp_path, "outbox", "flush")
            assert flushed.returncode == 0, flushed.stdout + flushed.stderr
            [received] = [r.message for r in smtp.messages]
    assert _ids(received) == {Item(i).id for i in range(6)}
    paper = min(_ids(received))
    rated = digest(tmp_path, "rate", paper, "down")
    assert rated.returncode == 0, f"digest rate {paper} down: {rated.stderr.strip()}"
    title = " ".join(SAMPLE[0]["title"].split())
    assert (
        rated.stdout.split()
        == (
            f"Rated down: {paper} {title}. It counts as a paper you do not want from the next run on."
        ).split()
    )


def test_a_run_that_cannot_send_the_waiting_digest_says_it_still_waits(tmp_path: Path) -> None:
    """Thursday and Friday the mail server is down: Friday's run tries Thursday's digest
    first, says it still waits in the outbox and why, then spools Friday's (exit 4); the next
    `digest outbox flush` sends both, each once."""
    port = free_port()
    with ScriptedHttpServer() as rss:
        write_config(tmp_path, rss.url, port)
        rss.add("/rss/cs.CL", Reply(200, feed(THU, [Item(i) for i in range(6)])))
        assert digest(tmp_path, "daily", "--date", THU.isoformat()).returncode == 4
        rss.add("/rss/cs.CL", Reply(200, feed(FRI, [Item(i) for i in range(6, 12)])))
        still = digest(tmp_path, "daily", "--date", FRI.isoformat())
        with smtp_server(port=port) as smtp:
            flushed = digest(tmp_path, "outbox", "flush")
            subjects = [str(r.message["Subject"]) for r in smtp.messages]
    assert still.returncode == 4, still.stdout + still.stderr
    assert still.stdout.splitlines()[0] == (
        "1 message still waits in the outbox (reader@example.org: connection refused): "
        "`digest outbox list` says which, `digest outbox flush` sends them."
    )
    assert flushed.returncode == 0 and flushed.stdout.strip() == "Sent 2 spooled messages."
    assert sorted(("Thu 3 Dec" in s, "Fri 4 Dec" in s) for s in subjects) == [
        (False, True),
        (True, False),
    ]


def test_the_webhook_gets_the_digest_on_a_day_the_mail_server_is_down(tmp_path: Path) -> None:
    """Thursday the mail server refuses connections: the email is spooled (exit 4), and the
    team's webhook still gets Thursday's digest that morning, once; the run's error line says
    both. (Before, a spooled email stopped the run before the webhooks: the team's channel got
    nothing that day, and nothing was spooled for it either.)"""
    thursday = [Item(i) for i in range(6)]
    with ScriptedHttpServer() as api, ScriptedHttpServer() as hook:
        write_config(tmp_path, api.url, free_port())  # nothing listens there
        use_api(tmp_path, api.url)
        config = tmp_path / "digest.toml"
        config.write_text(
            config.read_text()
            + f'\n[[webhooks]]\nname = "team"\nkind = "json"\nurl = "{hook.url}/hook"\n'
        )
        hook.add("/hook", Reply(200, "ok"))
        api.add("/api/query", Reply(200, api_feed(THU, thursday)))
        thu = digest(tmp_path, "daily", "--date", THU.isoformat())
        posts = [r for r in hook.requests if r.path == "/hook"]
    assert thu.returncode == 4, thu.stdout + thu.stderr
    assert len(posts) == 1 and {i.id for i in thursday} <= set(
        ARXIV_ID.findall(posts[0].body.decode())
    )
    error = " ".join(thu.stderr.split())
    assert "spooled" in error and error.endswith("posted to team")
    outbox = tmp_path / "state" / "outbox"
    assert [p.name for p in outbox.glob("*.eml")] == ["daily_2026-12-03__reader@example.org.eml"]
    assert not any((outbox / "webhooks").iterdir())  # the post went: nothing waits for it
