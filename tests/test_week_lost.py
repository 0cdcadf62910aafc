"""Days the run could not read its source, or did not run at all: the papers of those days,
which the source still serves by date, come in the next digest, which says so; a search cut at
its limit says what it left unread."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.week_world import DatedHfServer, digest, use_hf, write_config

MON = dt.date(2026, 11, 30)
DAYS = {MON + dt.timedelta(days=n): list(range(5 * n, 5 * n + 5)) for n in range(6)}


def _source_line(stdout: str) -> list[str]:
    [line] = [line for line in stdout.splitlines() if "hf-daily:" in line]
    return line.split()


def _email(home: Path, day: dt.date) -> str:
    return " ".join(
        (home / "state" / "archive" / day.isoformat() / "digest.txt").read_text().split()
    )


def test_papers_of_a_day_the_source_failed_come_in_the_next_digest(tmp_path: Path) -> None:
    """Tuesday morning Hugging Face answers 500: exit 3, nothing marked (as documented).
        Wednesday it answers again, and the run asks for Tuesday's list too (`?date=`): Tuesday's
        five papers are in Wednesday's digest, and its source line says so (and stay there when
    Wednesday is built again). Wednesday's run used
        to ask only for Wednesday: Tuesday's papers were in no digest, and nothing said so."""
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
        assert hf.asked == ["2026-11-30", "2026-12-01", "2026-12-01", "2026-12-02"]
        wednesday = json.loads((tmp_path / "state/archive/2026-12-02/digest.json").read_text())
        rebuilt = digest(tmp_path, "daily", "--date", wed.isoformat())  # the same days again
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert hf.asked[4:] == ["2026-12-01", "2026-12-02"]
        again = json.loads((tmp_path / "state/archive/2026-12-02/digest.json").read_text())
    listed = [p["id"] for theme in wednesday["themes"] for p in theme["papers"]]
    assert sorted(listed) == sorted(hf.ids(tue) | hf.ids(wed))
    assert sorted(p["id"] for theme in again["themes"] for p in theme["papers"]) == sorted(listed)
    caught_up = "also read Tue 2026-12-01, missed since its last read on Mon 2026-11-30"
    assert _source_line(later.stdout) == ["ok", "hf-daily:", "10", "papers;", *caught_up.split()]
    assert f"hf-daily: ok (10 papers; {caught_up})" in _email(tmp_path, wed)


def test_three_days_asleep_the_next_run_reads_those_days(tmp_path: Path) -> None:
    """The laptop sleeps Wednesday to Friday; cron (or `digest schedule`, which runs only the
    latest missed slot) runs again on Saturday, and reads Hugging Face's lists of Wednesday to
    Saturday: the fifteen papers of the days asleep are in Saturday's digest, whose source
    line says which days it caught up. Only Saturday's date used to be fetched: those fifteen
    papers were in no digest, and the run did not say that three days were skipped."""
    tue, sat = MON + dt.timedelta(days=1), MON + dt.timedelta(days=5)
    with DatedHfServer(DAYS) as hf:
        write_config(tmp_path, "http://127.0.0.1:9", None)
        use_hf(tmp_path, hf.url)
        for day in (MON, tue):
            assert digest(tmp_path, "daily", "--date", day.isoformat()).returncode == 0
        woke = digest(tmp_path, "daily", "--date", sat.isoformat())
        assert woke.returncode == 0, woke.stderr
        asleep = [MON + dt.timedelta(days=n) for n in (2, 3, 4)]
        assert hf.asked[2:] == [day.isoformat() for day in (*asleep, sat)]
        expected = set().union(*(hf.ids(day) for day in (*asleep, sat)))
        saturday = json.loads((tmp_path / "state/archive/2026-12-05/digest.json").read_text())
    listed = [p["id"] for theme in saturday["themes"] for p in theme["papers"]]
    assert sorted(listed) == sorted(expected)
    caught_up = (
        "also read Wed 2026-12-02 to Fri 2026-12-04 (3 days), "
        "missed since its last read on Tue 2026-12-01"
    )
    assert _source_line(woke.stdout) == ["ok", "hf-daily:", "20", "papers;", *caught_up.split()]
    assert f"hf-daily: ok (20 papers; {caught_up})" in _email(tmp_path, sat)


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
