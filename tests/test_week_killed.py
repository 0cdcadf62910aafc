"""A run that did not finish (killed while sending): the papers of its day still reach the
reader, sent by the next run from the outbox."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.fakes.smtp_server import free_port, smtp_server
from tests.processes import clean_env
from tests.week_world import Item, digest, feed, write_config

MON = dt.date(2026, 11, 30)


def test_a_run_killed_before_its_email_is_sent_by_the_next_run(tmp_path: Path) -> None:
    """Monday's run fetches, writes and archives its digest, then hangs on a mail server that
    never answers; it is killed (kill -9: a shutdown, a systemd timeout). Doctor says the run
    was interrupted and its message waits in the outbox; Tuesday's run, with the mail server
    fine, sends Monday's digest first, says so, then Tuesday's. (Before, Monday's message was
    neither sent nor spooled: Tuesday sent Tuesday's only, Monday's papers never reached the
    reader, and doctor said Monday's run was 'running'.)"""
    tue = MON + dt.timedelta(days=1)
    port = free_port()
    monday = [Item(i) for i in range(6)]
    tuesday = [Item(i) for i in range(6, 12)]
    with ScriptedHttpServer() as rss:
        write_config(tmp_path, rss.url, port)
        rss.add("/rss/cs.CL", Reply(200, feed(MON, monday)))
        silent = socket.socket()
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        silent.bind(("127.0.0.1", port))
        silent.listen()
        env = clean_env(
            DIGEST_HOME=str(tmp_path / "state"), DIGEST_CONFIG=str(tmp_path / "digest.toml")
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent", "daily", "--date", MON.isoformat()],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        held, _ = silent.accept()  # the run is at the email step: fetched, written, archived
        assert (tmp_path / "state" / "archive" / MON.isoformat() / "digest.json").exists()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        held.close()
        silent.close()
        time.sleep(0.2)
        doctor = digest(tmp_path, "doctor")
        with smtp_server(port=port) as smtp:
            rss.add("/rss/cs.CL", Reply(200, feed(tue, tuesday)))
            later = digest(tmp_path, "daily", "--date", tue.isoformat())
            assert later.returncode == 0, later.stderr
            texts = [
                r.message.get_body(preferencelist=("plain",)).get_content() for r in smtp.messages
            ]
    state = next(line for line in doctor.stdout.splitlines() if re.match(r"^\w+\s+state:", line))
    assert state.startswith("warning")
    assert "last daily run: 2026-11-30, interrupted (at" in state
    assert state.endswith("; 1 message waits in the outbox")
    assert later.stdout.splitlines()[0] == (
        "Sent the digest of 2026-11-30 from the outbox to reader@example.org."
    )
    ids = re.compile(r"\b2612\.1\d{4}\b")
    assert [set(ids.findall(text)) for text in texts] == [
        {i.id for i in monday},
        {i.id for i in tuesday},
    ]
    assert not list((tmp_path / "state" / "outbox").glob("*.eml"))
