"""The `digest` command end to end, as a user runs it: a real subprocess in a temp dir."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.processes import clean_env, run_digest

REPO = Path(__file__).resolve().parents[1]


def test_daily_on_the_sample_writes_all_four_files(tmp_path: Path) -> None:
    result = run_digest(
        "daily",
        "--source",
        "sample",
        "--date",
        "2026-11-26",
        "--out",
        str(tmp_path / "out"),
        home=tmp_path / "home",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    day = tmp_path / "out" / "2026-11-26"
    for name in ("digest.html", "digest.txt", "digest.eml", "digest.json"):
        assert (day / name).stat().st_size > 500, name
    data = json.loads((day / "digest.json").read_text(encoding="utf-8"))
    assert data["kind"] == "daily" and data["date"] == "2026-11-26"
    assert data["engine"] == "offline"
    in_themes = [p["id"] for t in data["themes"] for p in t["papers"]]
    also = [p["id"] for p in data["also_new"]]
    assert len(in_themes) == 30  # the default cap
    assert sorted(in_themes + also) == [f"dp-{i:03d}" for i in range(1, 208)]
    # the glance counts the day, not only what fits the digest
    assert data["headline"].startswith("207 new papers today, 30 of them summarised here in ")
    message = email.message_from_bytes(
        (day / "digest.eml").read_bytes(), policy=email.policy.default
    )
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    # the terminal says which engine and where the files are
    assert "offline" in result.stdout
    assert str(day / "digest.html") in result.stdout.replace("\n", "")
    # the archive keeps it apart (a demo, never in place of a real digest), out of the index
    kept = tmp_path / "home" / "archive" / "2026-11-26" / "sample"
    assert (kept / "digest.json").read_bytes() == (day / "digest.json").read_bytes()
    assert "2026-11-26" not in (tmp_path / "home" / "archive" / "index.html").read_text(
        encoding="utf-8"
    )


def test_daily_from_a_file_with_max_papers(tmp_path: Path) -> None:
    papers = tmp_path / "papers.jsonl"
    papers.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"f{i}",
                    "title": f"Paper {i} on graph neural networks",
                    "abstract": "We propose a graph method. It improves accuracy by 3%.",
                }
            )
            + "\n"
            for i in range(5)
        ),
        encoding="utf-8",
    )
    result = run_digest(
        "daily",
        "--source",
        f"file:{papers}",
        "--max-papers",
        "2",
        "--engine",
        "offline",
        "--date",
        "2026-11-20",
        "--out",
        str(tmp_path / "o"),
        home=tmp_path / "h",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "o" / "2026-11-20" / "digest.json").read_text(encoding="utf-8"))
    assert sum(len(t["papers"]) for t in data["themes"]) == 2
    assert [p["id"] for p in data["also_new"]] == ["f2", "f3", "f4"]


def test_two_days_in_a_row_do_not_repeat_papers(tmp_path: Path) -> None:
    papers = tmp_path / "feed.jsonl"
    rows = [
        {"id": f"2611.0000{i}", "title": f"Title {i}", "abstract": "We study things."}
        for i in range(3)
    ]
    papers.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    common = ("--source", f"file:{papers}", "--engine", "offline", "--out", str(tmp_path / "o"))
    first = run_digest("daily", "--date", "2026-11-23", *common, home=tmp_path / "h", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = run_digest("daily", "--date", "2026-11-24", *common, home=tmp_path / "h", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "Nothing new today" in second.stdout and "earlier digest" in second.stdout
    assert not (tmp_path / "o" / "2026-11-24").exists()
    again = run_digest("daily", "--date", "2026-11-23", *common, home=tmp_path / "h", cwd=tmp_path)
    assert again.returncode == 0 and "3 papers" in again.stdout  # re-running a date rebuilds it


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("daily", "--source", "nonsense"), "unknown source 'nonsense'"),
        (("daily", "--source", "file:/nonexistent/papers.jsonl"), "no such file"),
        (("daily", "--date", "2026-13-45"), "Invalid value for '--date'"),
        (("daily", "--source", "sample", "--engine", "llm"), "--engine llm needs a model"),
        (("daily", "--source", "arxiv-rs:cs.CL"), "did you mean 'arxiv-rss'?"),
        (("daily",), "no sources configured"),
        (("topic", "   "), "the topic is empty"),
    ],
)
def test_expected_errors_are_one_line_exit_2(
    tmp_path: Path, args: tuple[str, ...], needle: str
) -> None:
    result = run_digest(*args, home=tmp_path / "h", cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_jsonl_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "title": "ok"}\n{not json}\n', encoding="utf-8")
    result = run_digest("daily", "--source", f"file:{bad}", home=tmp_path / "h", cwd=tmp_path)
    assert result.returncode == 2
    assert "bad.jsonl:2: malformed JSONL" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_file_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text("max_papers = 'many'\n", encoding="utf-8")
    result = run_digest("daily", home=tmp_path / "h", cwd=tmp_path)
    assert result.returncode == 2 and "max_papers" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run_digest("--help", home=tmp_path / "h", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("daily", "topic", "outbox", "archive", "schedule"):
        assert command in result.stdout


def _sample_topic(tmp_path: Path, query: str) -> dict[str, Any]:
    """`digest topic QUERY` on the sample, offline, as JSON."""
    result = run_digest(
        "topic",
        query,
        *("--source", "sample", "--engine", "offline", "--format", "json"),
        home=tmp_path / "h",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_topic_offline_on_the_sample(tmp_path: Path) -> None:
    data = _sample_topic(tmp_path, "sentence embeddings")
    assert data["kind"] == "topic" and data["topic"] == "sentence embeddings"
    titles = [p["title"] for t in data["themes"] for p in t["papers"]]
    assert titles and sum("entence" in t for t in titles) >= len(titles) // 2
    assert data["overview"]


def test_topic_with_more_matches_than_fit_counts_them_all(tmp_path: Path) -> None:
    data = _sample_topic(tmp_path, "long context")
    shown = sum(len(t["papers"]) for t in data["themes"])
    matched = shown + len(data["also_new"])
    assert data["also_new"] and shown < matched
    assert data["headline"].startswith(
        f'{matched} papers matched "long context", the {shown} closest summarised here'
    )
    assert data["overview"].startswith(
        f'{matched} papers matched "long context"; the {shown} closest are summarised here.'
    )


def test_topic_with_no_match_says_where_it_looked(tmp_path: Path) -> None:
    result = run_digest(
        "topic",
        "protein folding cryo-em",
        "--source",
        "sample",
        "--engine",
        "offline",
        home=tmp_path / "h",
        cwd=tmp_path,
    )
    assert result.returncode == 0
    assert "No papers found" in result.stderr and "sample" in result.stderr
    assert "broader" in result.stderr


def test_schedule_rejects_a_bad_cron_and_stops_cleanly(tmp_path: Path) -> None:
    bad = run_digest("schedule", "--cron", "every morning", home=tmp_path / "h", cwd=tmp_path)
    assert bad.returncode == 2 and "invalid cron expression" in bad.stderr
    environment = clean_env(DIGEST_HOME=str(tmp_path / "h"))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agent",
            "schedule",
            "--cron",
            "0 7 * * 1-5",
            "--tz",
            "Europe/Berlin",
        ],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first_line = process.stdout.readline()
    assert "next run" in first_line
    process.terminate()
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Stopped after 0 runs" in stdout


@pytest.mark.parametrize(
    ("fmt", "name"), [("md", "digest.md"), ("html", "digest.html"), ("text", "digest.txt")]
)
def test_topic_writes_the_asked_format(tmp_path: Path, fmt: str, name: str) -> None:
    result = run_digest(
        "topic",
        "mixture of experts",
        "--source",
        "sample",
        "--engine",
        "offline",
        "--format",
        fmt,
        "--out",
        str(tmp_path / "notes"),
        home=tmp_path / "h",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    [written] = list((tmp_path / "notes").rglob(name))
    assert f"Wrote {written}" in result.stdout.replace("\n", "")
    content = written.read_text(encoding="utf-8")
    assert "GLaM" in content
    if fmt == "md":
        assert content.startswith("# ") and "## " in content


def test_topic_send_goes_through_the_delivery_stage(tmp_path: Path) -> None:
    from tests.fakes.smtp_server import smtp_server

    with smtp_server() as server:
        env = {
            "DIGEST_EMAIL__SMTP_HOST": "127.0.0.1",
            "DIGEST_EMAIL__SMTP_PORT": str(server.port),
            "DIGEST_EMAIL__SECURITY": "none",
            "DIGEST_EMAIL__SENDER": "digest@example.org",
            "DIGEST_EMAIL__RECIPIENTS": '["reader@example.com"]',
        }
        args = (
            "topic",
            "sentence embeddings",
            "--source",
            "sample",
            "--engine",
            "offline",
            "--send",
        )
        result = run_digest(*args, home=tmp_path / "h", cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
        assert "Sent to reader@example.com" in result.stdout
        [received] = server.messages
        assert "sentence embeddings" in received.message["Subject"].lower()
        again = run_digest(*args, home=tmp_path / "h", cwd=tmp_path, env=env)
        assert again.returncode == 0 and len(server.messages) == 1  # once per topic and day


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (("daily", "--source", "file:x[/].jsonl"), {}, "no such file"),
        (("daily", "--source", "sample", "--send"), {}, "[email]"),
        (("daily",), {"DIGEST_EMAIL__RECIPIENTS": "a@example.org"}, "bad environment setting"),
        (("daily",), {"DIGEST_CATEGORIES": "cs.CL"}, "bad environment setting"),
    ],
)
def test_error_text_with_brackets_and_bad_env_lists_stay_one_line(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], needle: str
) -> None:
    result = run_digest(*args, home=tmp_path / "h", cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_topic_no_match_message_with_brackets_is_printed_verbatim(tmp_path: Path) -> None:
    result = run_digest(
        "topic",
        "qqzz [/]",
        "--source",
        "sample",
        "--engine",
        "offline",
        home=tmp_path / "h",
        cwd=tmp_path,
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "No papers found on 'qqzz [/]'" in result.stderr.replace("\n", " ")


def test_building_an_earlier_date_afterwards_repeats_nothing(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "".join(
            json.dumps({"id": f"2601.0000{i}", "title": f"Paper {i}", "abstract": "We study it."})
            + "\n"
            for i in range(4)
        ),
        encoding="utf-8",
    )
    common = (
        "daily",
        "--source",
        f"file:{feed}",
        "--engine",
        "offline",
        "--out",
        str(tmp_path / "o"),
    )
    later = run_digest(*common, "--date", "2026-01-05", home=tmp_path / "h", cwd=tmp_path)
    assert later.returncode == 0 and "4 papers" in later.stdout
    earlier = run_digest(*common, "--date", "2026-01-04", home=tmp_path / "h", cwd=tmp_path)
    assert earlier.returncode == 0 and "Nothing new today" in earlier.stdout
    rebuilt = run_digest(*common, "--date", "2026-01-05", home=tmp_path / "h", cwd=tmp_path)
    assert rebuilt.returncode == 0 and "4 papers" in rebuilt.stdout  # the later date still rebuilds
