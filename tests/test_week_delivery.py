"""A researcher's days around a mail server outage, as cron runs `digest daily` each morning:
every digest reaches the reader once, and each paper in one digest only."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from tests.week_world import SAMPLE, Item, api_feed, digest, feed, use_api, write_config
from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.fakes.smtp_server import free_port, smtp_server

THU, FRI = dt.date(2026, 12, 3), dt.date(2026, 12, 4)
ARXIV_ID = re.compile(r"\b2612\.1\d{4}\b")


def _ids(message) -> set[str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return set(ARXIV_ID.findall(text))


def test_the_papers_of_a_spooled_day_reach_the_reader_once(tmp_path: Path) -> None:
    """Thursday the mail server is down (exit 4, spooled). Friday it is back and the search
    still returns Thursday's papers: they are in Thursday's digest only, which reaches the
    reader from the outbox, and Friday's digest has Friday's papers only. (Before, a spooled
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
    assert len(messages) == 2  # Friday's digest, then Thursday's from the outbox
    by_subject = {str(m["Subject"]): _ids(m) for m in messages}
    thu_ids = next(ids for subject, ids in by_subject.items() if "Thu 3 Dec" in subject)
    fri_ids = next(ids for subject, ids in by_subject.items() if "Fri 4 Dec" in subject)
    assert thu_ids == {i.id for i in thursday}
    assert fri_ids == {i.id for i in friday}


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
    assert rated.stdout.split() == (
        f"Rated down: {paper} {title}. It counts as a paper you do not want from the next run on."
    ).split()
