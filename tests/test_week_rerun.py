"""Running one day twice (cron retried, or the user ran it by hand), and a paper announced
again on a later day: the digest of a date is rebuilt the same, and a paper is shown once."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.week_world import Item, digest, feed, write_config

MON, TUE = dt.date(2026, 11, 30), dt.date(2026, 12, 1)


def _digest_json(home: Path, day: dt.date) -> dict:
    return json.loads((home / "state" / "archive" / day.isoformat() / "digest.json").read_text())


def test_rerunning_a_day_keeps_its_updated_papers(tmp_path: Path) -> None:
    """Monday has paper 5 (v1). Tuesday's feed re-announces it as v2 (a cross-list of the new
    version): Tuesday's digest lists it under "Updated papers", and running Tuesday again (same
    feed, same date) rebuilds the same digest. (The rebuild lost it: the first run raised the
    stored version to 2, so the rebuild took v2 for 'already seen'.)"""
    with ScriptedHttpServer() as rss:
        write_config(tmp_path, rss.url, None)
        rss.add("/rss/cs.CL", Reply(200, feed(MON, [Item(i) for i in range(8)])))
        assert digest(tmp_path, "daily", "--date", MON.isoformat()).returncode == 0
        tuesday = [Item(i) for i in range(8, 14)] + [Item(5, v=2, kind="cross", cat="cs.LG")]
        rss.add("/rss/cs.CL", Reply(200, feed(TUE, tuesday)))
        runs = [digest(tmp_path, "daily", "--date", TUE.isoformat()) for _ in range(2)]
        built = []
        for run in runs:
            assert run.returncode == 0, run.stderr
            built.append(_digest_json(tmp_path, TUE))
    first, again = built
    assert [(p["id"], p["version"]) for p in again["updated"]] == [("2612.10005", 2)]
    assert again["updated"] == first["updated"]
    assert _listed(again) == _listed(first) == {Item(i).id for i in range(8, 14)}
    assert _last_line(runs[1]) == _last_line(runs[0])


def test_rerunning_a_day_of_updates_only_writes_the_same_digest(tmp_path: Path) -> None:
    """Tuesday's only news is a new version of Monday's paper: the first run writes (and would
    send) a short digest of updates, and the same day run again writes it again. (The re-run
    said 'Nothing new today: the only paper was in an earlier digest', a different answer for
    the same day and the same feed; and both runs called the digest '0 papers in 0 themes'.)"""
    with ScriptedHttpServer() as rss:
        write_config(tmp_path, rss.url, None)
        rss.add("/rss/cs.CL", Reply(200, feed(MON, [Item(i) for i in range(8)])))
        assert digest(tmp_path, "daily", "--date", MON.isoformat()).returncode == 0
        rss.add("/rss/cs.CL", Reply(200, feed(TUE, [Item(5, v=2, kind="cross", cat="cs.LG")])))
        first = digest(tmp_path, "daily", "--date", TUE.isoformat())
        again = digest(tmp_path, "daily", "--date", TUE.isoformat())
    assert first.returncode == again.returncode == 0
    said = "digest written: no new papers, 1 updated paper"
    assert _last_line(first) == _last_line(again) == said, again.stdout
    assert f"Digest {TUE}: no new papers, 1 updated paper" in again.stdout
    assert [(p["id"], p["version"]) for p in _digest_json(tmp_path, TUE)["updated"]] == [
        ("2612.10005", 2)
    ]


def test_a_second_run_the_same_day_keeps_the_next_announcement_for_the_next_digest(
    tmp_path: Path,
) -> None:
    """Monday 07:00 cron sends Monday's digest. In the evening arXiv publishes the next
    announcement (rss.arxiv.org updates at 20:00 US Eastern, still Monday there) and the user
    runs `digest daily` again by hand (or the laptop wakes and `digest schedule` catches up).
    That run keeps Monday's digest and archive as sent, marks nothing, and says the 8 new
    papers will be in the next digest; Tuesday's run emails them. (That run took the new
    papers for Monday's: 'already sent', so not emailed, yet marked as digested on Monday, and
    Monday's archived digest was replaced by them; Tuesday found 'Nothing new today': the
    next announcement never reached the reader by email.)"""
    from tests.fakes.smtp_server import smtp_server

    evening = [Item(i) for i in range(8, 16)]
    archived = tmp_path / "state" / "archive" / MON.isoformat() / "digest.json"
    with ScriptedHttpServer() as rss, smtp_server() as smtp:
        write_config(tmp_path, rss.url, smtp.port)
        rss.add("/rss/cs.CL", Reply(200, feed(MON, [Item(i) for i in range(8)])))
        assert digest(tmp_path, "daily", "--date", MON.isoformat()).returncode == 0
        as_sent = archived.read_bytes()
        rss.add("/rss/cs.CL", Reply(200, feed(TUE, evening)))
        again = digest(tmp_path, "daily", "--date", MON.isoformat())
        assert again.returncode == 0, again.stderr
        assert archived.read_bytes() == as_sent
        tuesday = digest(tmp_path, "daily", "--date", TUE.isoformat())
        assert tuesday.returncode == 0, tuesday.stderr
        texts = [r.message.get_body(preferencelist=("plain",)).get_content() for r in smtp.messages]
    assert _last_line(again) == (
        f"the digest of {MON} was already sent to reader@example.org; kept as sent; 8 papers "
        "not in it will be in the next digest (use --force to rebuild and send it again)"
    )
    assert _last_line(tuesday).endswith("and sent to reader@example.org"), tuesday.stdout
    assert len(texts) == 2
    assert [i.id for i in evening if i.id in texts[0]] == []
    assert [i.id for i in evening if i.id in texts[1]] == [i.id for i in evening]
    assert _listed(_digest_json(tmp_path, TUE)) == {i.id for i in evening}


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


def _last_line(run: subprocess.CompletedProcess[str]) -> str:
    return run.stdout.strip().splitlines()[-1]


def _listed(digest_json: dict) -> set[str]:
    """The ids a digest lists in its themes and as also new (not its Updated list)."""
    themed = {p["id"] for theme in digest_json["themes"] for p in theme["papers"]}
    return themed | {p["id"] for p in digest_json["also_new"]}
