"""What the reader is told each morning: a quiet day, a broken day, and the day's counts."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.fakes.smtp_server import smtp_server
from tests.week_world import Item, digest, feed, write_config

MON, TUE, WED = (dt.date(2026, 11, 30) + dt.timedelta(days=n) for n in range(3))


def test_the_glance_counts_every_new_paper_not_only_the_summarised(tmp_path: Path) -> None:
    """Eight new papers, max_papers = 3: the subject says '8 papers', and so does the glance
    (it said '3 new papers today', though 8 were new and 5 listed below by title)."""
    with ScriptedHttpServer() as rss:
        config = write_config(tmp_path, rss.url, None)
        config.write_text(config.read_text().replace("max_papers = 30", "max_papers = 3"))
        rss.add("/rss/cs.CL", Reply(200, feed(MON, [Item(i) for i in range(8)])))
        run = digest(tmp_path, "daily", "--date", MON.isoformat())
    assert run.returncode == 0, run.stderr
    folder = tmp_path / "state" / "archive" / MON.isoformat()
    data = json.loads((folder / "digest.json").read_text())
    selected = sum(len(t["papers"]) for t in data["themes"])
    assert (selected, len(data["also_new"])) == (3, 5)
    subject = re.search(
        r"^Subject: (.*)$", (folder / "digest.eml").read_text(), re.MULTILINE
    ).group(1)
    assert "8 papers" in subject
    assert data["headline"].startswith("8 new papers today, 3 of them summarised here")


def test_a_library_from_another_field_gets_a_glance_that_says_none_matched(
    tmp_path: Path,
) -> None:
    """Monday the reader ranks by interests. Tuesday they switch to a library of their own
    papers (another field) and clear `interests`: none of Tuesday's ten papers is close enough
    to be a pick, so all ten are listed by title, and the glance says so (it read "No new
    papers today; 0 papers you have seen before have new versions, listed below.")."""
    with ScriptedHttpServer() as rss:
        config = write_config(tmp_path, rss.url, None)
        rss.add("/rss/cs.CL", Reply(200, feed(MON, [Item(i) for i in range(8)])))
        assert digest(tmp_path, "daily", "--date", MON.isoformat()).returncode == 0
        library = tmp_path / "mine.bib"
        library.write_text(
            "@article{a, title={Protein structure prediction with equivariant diffusion models}}\n"
            "@article{b, title={Molecular dynamics of lipid membranes at atomic resolution}}\n"
            "@article{c, title={Coarse-grained simulation of protein folding kinetics}}\n"
        )
        config.write_text(
            config.read_text().replace(
                'interests = "language models, machine translation"', f'library = ["{library}"]'
            )
        )
        rss.add("/rss/cs.CL", Reply(200, feed(TUE, [Item(i) for i in range(8, 18)])))
        run = digest(tmp_path, "daily", "--date", TUE.isoformat())
    assert run.returncode == 0, run.stderr
    data = json.loads(
        (tmp_path / "state" / "archive" / TUE.isoformat() / "digest.json").read_text()
    )
    assert (len(data["themes"]), len(data["also_new"]), len(data["updated"])) == (0, 10, 0)
    assert data["headline"] == (
        "10 new papers today, none matching your papers; they are listed by title."
    )


def test_empty_note_reader_gets_a_note_on_a_quiet_day_and_on_a_broken_one(
    tmp_path: Path,
) -> None:
    """With `email.send_empty_note = true`, a quiet Wednesday mails "no new papers", and a
    Tuesday on which arXiv answered 500 mails "no source could be read" (once: the run again
    while it is down sends nothing more), naming the failure, and still exits 3; once the
    feed answers, a re-run mails Tuesday's digest. (The broken Tuesday mailed nothing at all,
    so the inbox looked the same as on a day the tool never ran; the failure was only in the
    exit code and cron.log.)"""
    with ScriptedHttpServer() as rss, smtp_server() as smtp:
        config = write_config(tmp_path, rss.url, smtp.port)
        config.write_text(
            config.read_text().replace("[email]\n", "[email]\nsend_empty_note = true\n")
        )
        rss.add("/rss/cs.CL", Reply(200, feed(MON, [Item(i) for i in range(8)])))
        assert digest(tmp_path, "daily", "--date", MON.isoformat()).returncode == 0
        rss.add("/rss/cs.CL", Reply(500, "Internal Server Error"))
        broken = digest(tmp_path, "daily", "--date", TUE.isoformat())
        still_broken = digest(tmp_path, "daily", "--date", TUE.isoformat())
        rss.add("/rss/cs.CL", Reply(200, feed(TUE, [Item(i) for i in range(8, 12)])))
        answered = digest(tmp_path, "daily", "--date", TUE.isoformat())
        rss.add("/rss/cs.CL", Reply(200, feed(WED, [])))
        quiet = digest(tmp_path, "daily", "--date", WED.isoformat())
        mails = [r.message for r in smtp.messages]
    failure = "error: no source could be read: arxiv-rss:cs.CL: HTTP 500 after 1 attempt."
    assert (broken.returncode, broken.stderr) == (
        3,
        f"{failure} A short note was sent to reader@example.org.\n",
    )
    assert (still_broken.returncode, still_broken.stderr) == (
        3,
        f"{failure} The note was already sent.\n",
    )
    assert answered.returncode == 0 and quiet.returncode == 0, answered.stderr + quiet.stderr
    subjects = [str(m["Subject"]) for m in mails]
    assert len(subjects) == 4, subjects
    assert subjects[0].startswith("Paper digest, Mon 30 Nov 2026: ") and subjects[0].endswith(
        " 8 papers"
    )
    assert subjects[1] == "Paper digest, Tue 1 Dec 2026: no source could be read"
    assert subjects[2].startswith("Paper digest, Tue 1 Dec 2026: ") and subjects[2].endswith(
        " 4 papers"
    )
    assert subjects[3] == "Paper digest, Wed 2 Dec 2026: no new papers"
    note = " ".join(mails[1].get_body(("plain",)).get_content().split())
    assert (
        "No source could be read for this day (why is under Sources), so there is no digest "
        "yet and nothing was marked as seen. Run `digest daily` again once they answer" in note
    )
    assert "arxiv-rss:cs.CL: failed (HTTP 500 after 1 attempt)" in note


def test_a_category_in_the_wrong_case_is_corrected_and_an_unknown_one_stops_the_run(
    tmp_path: Path,
) -> None:
    """The user edits digest.toml and types `categories = ["cs.Cl"]`: the run warns, reads it
    as cs.CL and mails Tuesday's ten papers. On Wednesday they type `cs.CLL`: one config
    error naming the closest categories, exit 2, nothing sent, nothing marked (fixed, the
    re-run mails Wednesday's papers). (The config loaded with any name: every day said
    'Nothing new today: 10 were left out by your keyword or category filters', exit 0, no
    email; only `digest doctor` named the typo.)"""
    with ScriptedHttpServer() as rss, smtp_server() as smtp:
        config = write_config(tmp_path, rss.url, smtp.port)
        rss.add("/rss/cs.CL", Reply(200, feed(MON, [Item(i) for i in range(8)])))
        assert digest(tmp_path, "daily", "--date", MON.isoformat()).returncode == 0
        good = config.read_text()
        config.write_text(
            good.replace("max_papers = 30", 'max_papers = 30\ncategories = ["cs.Cl"]')
        )
        rss.add("/rss/cs.CL", Reply(200, feed(TUE, [Item(i) for i in range(8, 18)])))
        tuesday = digest(tmp_path, "daily", "--date", TUE.isoformat())
        config.write_text(
            good.replace("max_papers = 30", 'max_papers = 30\ncategories = ["cs.CLL"]')
        )
        rss.add("/rss/cs.CL", Reply(200, feed(WED, [Item(i) for i in range(18, 24)])))
        wednesday = digest(tmp_path, "daily", "--date", WED.isoformat())
        mailed_by_then = len(smtp.messages)
        config.write_text(
            good.replace("max_papers = 30", 'max_papers = 30\ncategories = ["cs.CL"]')
        )
        fixed = digest(tmp_path, "daily", "--date", WED.isoformat())
        subjects = [str(m.message["Subject"]) for m in smtp.messages]
    assert tuesday.returncode == 0, tuesday.stderr
    assert tuesday.stderr == (
        "WARNING agent.config: categories: 'cs.Cl' read as cs.CL, arXiv's spelling "
        "(write cs.CL in the config)\n"
    )
    assert "digest written: 10 papers" in tuesday.stdout and "sent to" in tuesday.stdout
    assert wednesday.returncode == 2 and wednesday.stdout == ""
    assert wednesday.stderr == (
        f"error: bad config in {config}: line 3: categories.0: 'cs.CLL' is not an arXiv "
        "category; did you mean cs.CL or cs.SC or cs.PL?\n"
    )
    assert mailed_by_then == 2  # Monday's and Tuesday's
    assert fixed.returncode == 0, fixed.stderr
    assert len(subjects) == 3 and "6 papers" in subjects[2] and "Wed 2 Dec" in subjects[2]
