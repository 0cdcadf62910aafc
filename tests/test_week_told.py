"""What the reader is told each morning: a quiet day, a broken day, and the day's counts."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from tests.fakes.http_server import Reply, ScriptedHttpServer
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
