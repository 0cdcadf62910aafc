"""Issue 23, case 16: SIGTERM while the digest is being sent is handled as Ctrl-C is: the
connection is closed, the ledger holds exactly what the server accepted, the exit code is 130,
and the next run sends the rest (the one message in flight at most twice). A real process, a
real signal, a real SMTP server (aiosmtpd) whose DATA answers slowly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.bounded_cli import DAY, paper_file
from tests.fakes.smtp_server import smtp_server
from tests.processes import clean_env

RECIPIENTS = [f"reader{i}@example.org" for i in range(3)]


@pytest.mark.timeout(120)
def test_case16_sigterm_while_sending_stops_cleanly_and_loses_nothing(tmp_path: Path) -> None:
    source = f"file:{paper_file(tmp_path)}"
    args = [sys.executable, "-m", "agent", "daily", "--source", source, "--date", DAY]
    with smtp_server() as smtp:
        env = clean_env(
            DIGEST_HOME=str(tmp_path / "home"),
            DIGEST_EMAIL__SMTP_HOST="127.0.0.1",
            DIGEST_EMAIL__SMTP_PORT=str(smtp.port),
            DIGEST_EMAIL__SECURITY="none",
            DIGEST_EMAIL__SENDER="digest@example.org",
            DIGEST_EMAIL__RECIPIENTS=json.dumps(RECIPIENTS),
        )
        smtp.handler.data_delay = 0.6
        child = subprocess.Popen(
            args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while not smtp.messages and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.02)
        assert smtp.messages, "no message was accepted"
        child.send_signal(signal.SIGTERM)  # the second message is in flight now
        _, stderr = child.communicate(timeout=60)
        time.sleep(0.8)  # the server finishes the message it was taking
        first_run = [m.rcpt_tos[0] for m in smtp.messages]

        smtp.handler.data_delay = 0.0
        again = subprocess.run(
            args, check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        every = Counter(m.rcpt_tos[0] for m in smtp.messages)

    assert child.returncode == 130, stderr
    assert "terminated (SIGTERM): stopped cleanly" in stderr and "Traceback" not in stderr
    assert 1 <= len(first_run) < len(RECIPIENTS)  # stopped part-way
    assert again.returncode == 0, again.stderr
    # nothing lost: everyone got the digest; at most the one in flight got it twice
    assert set(every) == set(RECIPIENTS)
    assert sum(every.values()) - len(RECIPIENTS) <= 1
