"""Days the run could not read its source, or did not run at all: the papers of those days,
which the source still serves by date, never reach the reader."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.week_world import DatedHfServer, digest, use_hf, write_config

MON = dt.date(2026, 11, 30)
DAYS = {MON + dt.timedelta(days=n): list(range(5 * n, 5 * n + 5)) for n in range(6)}


def _every_digested_id(home: Path) -> set[str]:
    found: set[str] = set()
    for path in (home / "state" / "archive").glob("*/digest.json"):
        data = json.loads(path.read_text())
        listed = [p for theme in data["themes"] for p in theme["papers"]]
        listed += data["also_new"] + data["updated"]
        found |= {p["id"] for p in listed}
    return found


def test_a_run_killed_before_its_email_is_never_sent_by_the_next_run(tmp_path: Path) -> None:
    """Monday's run fetches, writes and archives its digest, then hangs on a mail server that
    never answers; it is killed (kill -9: a shutdown, a systemd timeout). Tuesday's run, with
    the mail server fine, sends Tuesday's digest only: Monday's papers never reach the reader
    (not in Monday's email, which is neither sent nor spooled, nor in Tuesday's), though
    the archive and its feed list Monday's digest as if it had gone out."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    from tests.week_world import Item, feed
    from tests.fakes.http_server import Reply, ScriptedHttpServer
    from tests.fakes.smtp_server import free_port, smtp_server
    from tests.processes import clean_env

    tue = MON + dt.timedelta(days=1)
    port = free_port()
    monday = [Item(i) for i in range(6)]
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
        with smtp_server(port=port) as smtp:
            rss.add("/rss/cs.CL", Reply(200, feed(tue, [Item(i) for i in range(6, 12)])))
            later = digest(tmp_path, "daily", "--date", tue.isoformat())
            assert later.returncode == 0, later.stderr
            texts = [
                r.message.get_body(preferencelist=("plain",)).get_content() for r in smtp.messages
            ]
    assert "Monday 30 November 2026" in (tmp_path / "state" / "archive" / "feed.xml").read_text()
    emailed = {i.id for i in monday if any(i.id in text for text in texts)}
    unsent = sorted({i.id for i in monday} - emailed)
    assert not unsent or MON.isoformat() in later.stdout, (
        f"Monday's papers {unsent} never reached the reader and Tuesday's run does not say "
        f"Monday's digest was not sent:\n{later.stdout}"
    )
