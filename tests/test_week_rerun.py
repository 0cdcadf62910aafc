"""Running one day twice (cron retried, or the user ran it by hand), and a paper announced
again on a later day: the digest of a date is rebuilt the same, and a paper is shown once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.week_world import Item, digest, feed, write_config

MON, TUE = dt.date(2026, 11, 30), dt.date(2026, 12, 1)


def _digest_json(home: Path, day: dt.date) -> dict:
    return json.loads((home / "state" / "archive" / day.isoformat() / "digest.json").read_text())


def test_a_cross_list_of_a_paper_first_seen_on_hugging_face_is_not_a_new_version(
    tmp_path: Path,
) -> None:
    """Sources arxiv-rss:cs.CL and hf-daily. Monday Hugging Face lists a paper (HF gives no
    version). Tuesday arXiv announces a cross-list of the same paper, still v1: it is the
    paper Monday's digest had, skipped as already seen. (It was listed under "Updated papers",
    new versions of papers already digested, though nothing about it changed: the stored
    version was none, and v1 > none.)"""
    from tests.week_world import HF_DAY, DatedHfServer

    hf_paper = HF_DAY[0]["paper"]
    with ScriptedHttpServer() as rss, DatedHfServer({MON: [0, 1, 2]}) as hf:
        config = write_config(tmp_path, rss.url, None)
        config.write_text(
            config.read_text()
            .replace('default = ["arxiv-rss:cs.CL"]', 'default = ["arxiv-rss:cs.CL", "hf-daily"]')
            .replace("[sources]\n", f'[sources]\nhf_url = "{hf.url}"\n', 1)
        )
        rss.add("/rss/cs.CL", Reply(200, feed(MON, [Item(i) for i in range(4)])))
        assert digest(tmp_path, "daily", "--date", MON.isoformat()).returncode == 0
        assert hf_paper["id"] in _listed(_digest_json(tmp_path, MON))
        cross = Item(0, v=1, kind="cross", cat="cs.LG", arxiv_id=hf_paper["id"])
        rss.add("/rss/cs.CL", Reply(200, feed(TUE, [Item(i) for i in range(4, 8)] + [cross])))
        tuesday = digest(tmp_path, "daily", "--date", TUE.isoformat())
        assert tuesday.returncode == 0, tuesday.stderr
    listed = _digest_json(tmp_path, TUE)
    assert listed["updated"] == []
    assert _listed(listed) == {Item(i).id for i in range(4, 8)}
    assert "1 paper skipped: already in an earlier digest" in tuesday.stdout, tuesday.stdout


def _listed(digest_json: dict) -> set[str]:
    """The ids a digest lists in its themes and as also new (not its Updated list)."""
    themed = {p["id"] for theme in digest_json["themes"] for p in theme["papers"]}
    return themed | {p["id"] for p in digest_json["also_new"]}
