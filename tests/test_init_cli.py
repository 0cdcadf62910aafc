"""`digest init` as a user meets it: answers typed on stdin of `python -m agent init`, a typo
asked again, email skipped, Ctrl-C and the end of the input, a local server's model list, the
crontab and systemd lines parsed back and the crontab command run as cron would."""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from agent.core.resources import demo_day_path
from tests.fakes.openai_server import FakeOpenAIServer
from tests.processes import clean_env, run_digest, run_shell

pytestmark = pytest.mark.timeout(120)


def answers(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def init(tmp_path: Path, *args: str, typed: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_digest("init", *args, home=tmp_path / "home", cwd=tmp_path, input=typed)


def config(tmp_path: Path) -> dict:
    return tomllib.loads((tmp_path / "digest.toml").read_text(encoding="utf-8"))


def test_a_misspelt_time_zone_is_asked_again_and_an_empty_smtp_server_skips_email(
    tmp_path: Path,
) -> None:
    typed = answers(
        "cs.CL",  # categories
        "n",  # Hugging Face
        "",  # interests
        "",  # library
        "none",  # model
        "y",  # email: yes ...
        "",  # ... but no SMTP server yet: email is skipped, not asked again forever
        "0 7 * * mon-fri",
        "Europe/Berlni",  # the typo
        "",  # Enter takes the closest valid zone, offered as the new default
    )
    result = init(tmp_path, typed=typed)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "unknown time zone 'Europe/Berlni'; did you mean Europe/Berlin" in result.stdout
    assert "Time zone (empty: this machine's) [Europe/Berlin]" in result.stdout
    assert "No email for now" in result.stdout
    written = config(tmp_path)
    assert written["schedule"] == {"cron": "0 7 * * mon-fri", "tz": "Europe/Berlin"}
    assert written["sources"]["default"] == ["arxiv-rss:cs.CL"]
    assert "smtp_host" not in written["email"]


def test_send_to_empty_or_dash(tmp_path: Path) -> None:
    typed = answers(
        "cs.CL", "n", "", "", "none",
        "y", "smtp.example.org", "", "", "",  # email, server, security, port, login
        "",  # Send to: nothing (was an IndexError)
        "not-an-address",
        "-",  # no email after all
        "", "",  # cron, time zone
    )  # fmt: skip
    result = init(tmp_path, typed=typed)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "give at least one address" in result.stdout
    assert "'not-an-address' is not an email address" in result.stdout
    assert "Traceback" not in result.stderr
    assert "smtp_host" not in config(tmp_path)["email"]


def test_the_end_of_the_input_loses_nothing_unsaid_and_the_printed_command_goes_on(
    tmp_path: Path,
) -> None:
    (tmp_path / "mine.bib").write_text("@article{a, title={Dense retrieval}}\n", encoding="utf-8")
    first = init(tmp_path, typed=answers("cs.IR", "n", "dense retrieval", "mine.bib"))
    assert first.returncode == 2, first.stdout + first.stderr
    assert not (tmp_path / "digest.toml").exists()
    line = " ".join(first.stderr.split())
    assert "the input ended before the last question: nothing written" in line
    resume = line.split("go on with your answers as defaults: ", 1)[1]
    words = shlex.split(resume)
    assert words[:3] == ["digest", "init", "--ask"]
    assert "--interests" in words and "dense retrieval" in words
    assert str(tmp_path / "mine.bib") in words  # the whole path, as checked
    # The printed command asks again with those answers as defaults: Enter keeps each.
    second = init(tmp_path, *words[2:], typed=answers("", "", "", "", "none", "n", "", ""))
    assert second.returncode == 0, second.stdout + second.stderr
    written = config(tmp_path)
    assert written["interests"] == "dense retrieval"
    assert written["sources"]["default"] == ["arxiv-rss:cs.IR"]
    assert written["library"] == [str(tmp_path / "mine.bib")]


def test_ctrl_c_says_what_was_answered(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "agent", "init"],
        cwd=tmp_path,
        env=clean_env(DIGEST_HOME=str(tmp_path / "home")),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    seen = bytearray()
    stdout = process.stdout

    def read() -> None:  # the prompts end without a newline: read what comes
        while chunk := stdout.read1():
            seen.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    process.stdin.write(answers("cs.CV", "n", "robot grasping", "").encode())
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while b"Model (openai, local, none)" not in seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert b"Model (openai, local, none)" in seen, bytes(seen)
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    _, stderr = process.communicate(timeout=30)
    reader.join(timeout=5)
    assert process.returncode == 130, stderr
    line = " ".join(stderr.decode().split())
    assert "interrupted before the last question: nothing written" in line
    assert "digest init --ask --category cs.CV --no-hf-daily --interests 'robot grasping'" in line
    assert not (tmp_path / "digest.toml").exists()


def test_a_local_server_offers_the_models_it_lists_and_the_dialect_is_auto(
    tmp_path: Path,
) -> None:
    with FakeOpenAIServer(models=("qwen2.5-7b-instruct", "llama-3.1-8b")) as server:
        flags = init(tmp_path, "--model", "local", "--base-url", server.base_url, "--no-email")
        assert flags.returncode == 0, flags.stdout + flags.stderr
        assert config(tmp_path)["llm"]["model"] == "qwen2.5-7b-instruct"
        assert config(tmp_path)["llm"]["dialect"] == "auto"  # as DIGEST_LLM__BASE_URL gets
        typed = answers(
            "cs.CL", "n", "", "",
            "local", server.base_url,
            "",  # the model: Enter takes the first the server lists
            "",  # the dialect: auto
            "n", "", "",
        )  # fmt: skip
        asked = init(tmp_path, "--force", typed=typed)
    assert asked.returncode == 0, asked.stdout + asked.stderr
    assert "The server lists: qwen2.5-7b-instruct, llama-3.1-8b" in asked.stdout
    assert "Model name [qwen2.5-7b-instruct]" in asked.stdout
    written = config(tmp_path)["llm"]
    assert (written["model"], written["dialect"]) == ("qwen2.5-7b-instruct", "auto")


def test_a_server_with_no_model_list_gets_no_hosted_name(tmp_path: Path) -> None:
    """Nothing listening at the URL now: no model line at all (each run asks the server for
    the one it serves), never the hosted default's name. The URL's password is written to the
    config, never printed."""
    password = "Sup3rSecretPassw0rd"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        url = f"http://digest:{password}@127.0.0.1:{port}/v1"  # closed once the block ends
    flags = init(tmp_path, "--model", "local", "--base-url", url, "--no-email")
    assert flags.returncode == 0, flags.stdout + flags.stderr
    assert "wrote no model; each run uses the one the server lists" in " ".join(
        flags.stdout.split()
    )
    written = config(tmp_path)["llm"]
    assert "model" not in written and written["base_url"] == url and written["dialect"] == "auto"
    assert "gpt-4o-mini" not in (tmp_path / "digest.toml").read_text(encoding="utf-8")
    typed = answers("cs.CL", "n", "", "", "local", url, "", "", "n", "", "")
    asked = init(tmp_path, "--force", typed=typed)
    assert asked.returncode == 0, asked.stdout + asked.stderr
    assert "Enter for none (each run asks the server)" in asked.stdout
    assert "model" not in config(tmp_path)["llm"]
    printed = flags.stdout + flags.stderr + asked.stdout + asked.stderr
    assert password not in printed and f"No model list from http://***@127.0.0.1:{port}" in printed


def test_only_http_urls_for_the_server(tmp_path: Path) -> None:
    result = init(tmp_path, "--model", "local", "--base-url", "javascript:alert(1)")
    assert result.returncode == 2
    assert "'javascript:alert(1)' is not an http(s) URL" in result.stderr
    assert not (tmp_path / "digest.toml").exists()


# -- the schedule lines, parsed back -----------------------------------------------------------


def printed_after(output: str, marker: str) -> str:
    [line] = [line for line in output.splitlines() if marker in line]
    return line.split(marker, 1)[1].strip()


def cron_lines(output: str) -> list[str]:
    block = output.split("Schedule it with cron", 1)[1].splitlines()[1:]
    lines = []
    for line in block:
        if not line.startswith("  "):
            break
        if not line.startswith("  ("):  # the note on CRON_TZ
            lines.append(line.strip())
    return lines


def systemd_times(on_calendar: str, count: int) -> list[dt.datetime] | None:
    """The next `count` elapses systemd computes for `on_calendar`, or None without systemd."""
    if shutil.which("systemd-analyze") is None:
        return None
    shown = subprocess.run(
        ["systemd-analyze", "calendar", f"--iterations={count}", on_calendar],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TZ": "UTC"},
    ).stdout
    stamps = re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ (\S+ \S+) UTC", shown)
    return [dt.datetime.fromisoformat(s).replace(tzinfo=dt.UTC) for s in stamps]


_DAY = {"Mon": 0, "Tue": 1, "Wed": 2, "Thu": 3, "Fri": 4, "Sat": 5, "Sun": 6}


def _values(spec: str, names: dict[str, int] | None = None) -> set[int] | None:
    """A component of our OnCalendar subset: `*`, lists and `a..b` ranges (None: any)."""
    if spec == "*":
        return None
    found: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition("..")
        lo, hi = ((names or {}).get(x, None) for x in (first, last or first))
        lo = int(first) if lo is None else lo
        hi = int(last or first) if hi is None else hi
        found |= set(range(lo, hi + 1))
    return found


def own_parse_times(on_calendar: str, start: dt.datetime, count: int) -> list[dt.datetime]:
    """Without systemd on the machine: the elapses of our OnCalendar subset, minute by minute."""
    words = on_calendar.split()
    week = _values(words.pop(0), _DAY) if words[0][0].isalpha() else None
    date, clock, zone = words[0], words[1], ZoneInfo(words[2]) if len(words) > 2 else dt.UTC
    months, days = (_values(x) for x in date.split("-")[1:])
    hours, minutes, _ = (_values(x) for x in clock.split(":"))
    found: list[dt.datetime] = []
    moment = start.astimezone(zone).replace(second=0, microsecond=0)
    while len(found) < count:
        moment += dt.timedelta(minutes=1)
        checks = [
            (week, moment.weekday()),
            (months, moment.month),
            (days, moment.day),
            (hours, moment.hour),
            (minutes, moment.minute),
        ]
        if all(allowed is None or value in allowed for allowed, value in checks):
            found.append(moment.astimezone(dt.UTC))
    return found


def test_the_printed_schedule_lines_mean_the_configured_times(tmp_path: Path) -> None:
    result = init(tmp_path, "--cron", "0 7 * * mon-fri", "--tz", "Europe/Berlin", "--no-email")
    assert result.returncode == 0, result.stdout + result.stderr
    tz_line, line = cron_lines(result.stdout)
    assert tz_line == "CRON_TZ=Europe/Berlin"
    zone = ZoneInfo(tz_line.removeprefix("CRON_TZ="))
    fields, command = line.split(None, 5)[:5], line.split(None, 5)[5]
    # cron's reading of the line, in CRON_TZ: 07:00 Berlin on weekdays, across the DST change
    runs = croniter(" ".join(fields), dt.datetime(2026, 3, 25, tzinfo=zone))
    slots = [runs.get_next(dt.datetime) for _ in range(6)]
    assert [(s.hour, s.minute) for s in slots] == [(7, 0)] * 6
    assert [s.weekday() for s in slots] == [2, 3, 4, 0, 1, 2]
    assert {s.astimezone(dt.UTC).hour for s in slots} == {6, 5}  # CET, then CEST

    # systemd's reading of OnCalendar: the same elapses as the cron line's
    on_calendar = printed_after(result.stdout, "OnCalendar=")
    now = dt.datetime.now(dt.UTC)
    cron_next = croniter(" ".join(fields), now.astimezone(zone))
    expected = [cron_next.get_next(dt.datetime).astimezone(dt.UTC) for _ in range(9)]
    elapses = systemd_times(on_calendar, 8) or own_parse_times(on_calendar, now, 8)
    assert elapses in (expected[:8], expected[1:])  # [1:]: a slot passed between the two
    assert printed_after(result.stdout, "Environment=DIGEST_HOME=") == str(tmp_path / "home")

    # cron runs the command with `sh`, in $HOME, with no DIGEST_* of ours: it must find the
    # same home (its state and its log) and the config.
    settings = (tmp_path / "digest.toml").read_text(encoding="utf-8")
    day = tmp_path / "day.jsonl"
    day.write_text("".join(demo_day_path().read_text().splitlines(True)[:4]), encoding="utf-8")
    settings = re.sub(r"(?m)^default = .*$", f"default = [{f'file:{day}'!r}]", settings)
    (tmp_path / "digest.toml").write_text(settings.replace("'", '"'), encoding="utf-8")
    elsewhere = tmp_path / "cron-cwd"
    elsewhere.mkdir()
    ran = run_shell(
        command.replace("\\%", "%"),
        cwd=elsewhere,
        env={"PATH": "/usr/bin:/bin", "HOME": str(elsewhere), "LANG": "C.UTF-8"},
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    log = (tmp_path / "home" / "cron.log").read_text(encoding="utf-8")
    assert "digest written: 4 papers" in log
    assert (tmp_path / "home" / "state.sqlite3").is_file()
    assert not (elsewhere / ".local").exists()  # not the default home


def test_a_cron_systemd_cannot_say_is_said_not_printed(tmp_path: Path) -> None:
    result = init(tmp_path, "--cron", "0 7 1 * mon", "--no-email")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OnCalendar=" not in result.stdout and "No systemd timer" in result.stdout
    assert [line.split(None, 5)[:5] for line in cron_lines(result.stdout)] == [
        ["0", "7", "1", "*", "mon"]
    ]
    text = (tmp_path / "digest.toml").read_text(encoding="utf-8")
    assert "no systemd timer" in text and "a systemd timer (OnCalendar" not in text
