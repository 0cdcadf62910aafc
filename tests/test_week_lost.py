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


def test_papers_of_a_day_the_source_failed_are_never_shown(tmp_path: Path) -> None:
    """Tuesday morning Hugging Face answers 500: exit 3, nothing marked (as documented).
    Wednesday it answers again, and would give Tuesday's list too (`?date=`), but the run
    asks only for Wednesday: Tuesday's five papers are in no digest, and nothing says so."""
    tue, wed = MON + dt.timedelta(days=1), MON + dt.timedelta(days=2)
    with DatedHfServer(DAYS) as hf:
        write_config(tmp_path, "http://127.0.0.1:9", None)
        use_hf(tmp_path, hf.url)
        assert digest(tmp_path, "daily", "--date", MON.isoformat()).returncode == 0
        hf.fail.add(tue)
        failed = digest(tmp_path, "daily", "--date", tue.isoformat())
        assert failed.returncode == 3, failed.stdout + failed.stderr
        hf.fail.clear()
        later = digest(tmp_path, "daily", "--date", wed.isoformat())
        assert later.returncode == 0, later.stderr
        lost = sorted(hf.ids(tue) - _every_digested_id(tmp_path))
    assert lost == [] or "2026-12-01" in later.stdout, (
        f"Tuesday's papers {lost} are in no digest, and Wednesday's run does not mention "
        f"Tuesday:\n{later.stdout}"
    )


def test_three_days_asleep_lose_those_days_papers(tmp_path: Path) -> None:
    """The laptop sleeps Wednesday to Friday; cron (or `digest schedule`, which runs only the
    latest missed slot) runs again on Saturday. Only Saturday's date is fetched: the fifteen
    papers of Wednesday, Thursday and Friday are in no digest, and the run does not say that
    three days were skipped."""
    tue, sat = MON + dt.timedelta(days=1), MON + dt.timedelta(days=5)
    with DatedHfServer(DAYS) as hf:
        write_config(tmp_path, "http://127.0.0.1:9", None)
        use_hf(tmp_path, hf.url)
        for day in (MON, tue):
            assert digest(tmp_path, "daily", "--date", day.isoformat()).returncode == 0
        woke = digest(tmp_path, "daily", "--date", sat.isoformat())
        assert woke.returncode == 0, woke.stderr
        asleep = [MON + dt.timedelta(days=n) for n in (2, 3, 4)]
        missing = set().union(*(hf.ids(day) for day in asleep)) - _every_digested_id(tmp_path)
    mentioned = any(day.isoformat() in woke.stdout for day in asleep)
    assert not missing or mentioned, (
        f"{len(missing)} papers of {asleep[0]}..{asleep[-1]} are in no digest, and the run "
        f"after the sleep does not say those days were skipped:\n{woke.stdout}"
    )


def test_a_busy_day_past_the_api_limit_says_how_many_were_not_read(tmp_path: Path) -> None:
    """Source `arxiv:cat:cs.CL` with `arxiv_api_max_results = 100`. Monday 130 papers match
    (totalResults 130): the run reads 100 and says, in its source line and in the email's,
    that 30 older ones were not read and which setting reads them. It used to say only
    'ok 100 papers', and the 30 were in no digest with no word said."""
    from tests.week_world import Item, PagedApiServer, use_api

    monday = [Item(n) for n in range(130)]
    with PagedApiServer() as api:
        config = write_config(tmp_path, "http://127.0.0.1:9", None)
        use_api(tmp_path, api.url)
        config.write_text(
            config.read_text().replace("[sources]\n", "[sources]\narxiv_api_max_results = 100\n")
        )
        api.items, api.day = list(reversed(monday)), MON
        first = digest(tmp_path, "daily", "--date", MON.isoformat())
        assert first.returncode == 0, first.stderr
    unread = (
        "100 of 130 matching papers read: 30 older ones not read; "
        "raise sources.arxiv_api_max_results to read them"
    )
    [line] = [line for line in first.stdout.splitlines() if "arxiv:cat:cs.CL:" in line]
    assert line.split() == ["ok", "arxiv:cat:cs.CL:", "100", "papers;", *unread.split()]
    email = (tmp_path / "state" / "archive" / MON.isoformat() / "digest.txt").read_text()
    assert f"arxiv:cat:cs.CL: ok (100 papers; {unread})" in " ".join(email.split())
    data = json.loads((tmp_path / "state/archive" / MON.isoformat() / "digest.json").read_text())
    assert data["health"][0]["note"] == unread
