"""The bundled sample day is a demo: a digest built from it alone never takes the place of a
real digest of that day (its archive folder, the archive's index and feed, its sent-ledger
entry), and the run says where it went. Through the command line, feeds on loopback."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.fakes.smtp_server import smtp_server
from tests.processes import run_digest

FIXTURES = Path(__file__).parent / "fixtures"
RSS_CL = (FIXTURES / "arxiv_rss" / "distill_rss_arxiv_cs_cl.xml").read_bytes()
DAY = "2026-04-27"

pytestmark = pytest.mark.timeout(180)


def kept_bytes(archive: Path) -> dict[str, bytes]:
    """Every file of the archive (the index and feed included), by relative path."""
    return {
        p.relative_to(archive).as_posix(): p.read_bytes()
        for p in sorted(archive.rglob("*"))
        if p.is_file()
    }


def sources_of(digest_json: Path) -> set[str]:
    data = json.loads(digest_json.read_text(encoding="utf-8"))
    refs = [p for t in data["themes"] for p in t["papers"]] + data["also_new"]
    return {r["source"] for r in refs}


@pytest.fixture
def feeds() -> Iterator[ScriptedHttpServer]:
    with ScriptedHttpServer() as server:
        server.add("/rss/cs.CL", Reply(200, RSS_CL))
        yield server


def digest(
    home: Path, cwd: Path, feeds: ScriptedHttpServer, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {"DIGEST_SOURCES__ARXIV_RSS_URL": f"{feeds.url}/rss/"}
    return run_digest(*args, home=home, cwd=cwd, env=env)


def test_a_sample_day_never_replaces_the_real_digest_of_that_day(
    tmp_path: Path, feeds: ScriptedHttpServer
) -> None:
    home, archive = tmp_path / "home", tmp_path / "home" / "archive"
    common = ("--engine", "offline", "--no-send", "--date", DAY)
    real = digest(home, tmp_path, feeds, "daily", "--source", "arxiv-rss:cs.CL", *common)
    assert real.returncode == 0, real.stderr
    assert sources_of(archive / DAY / "digest.json") == {"arxiv-rss:cs.CL"}
    before = kept_bytes(archive)

    sample = digest(home, tmp_path, feeds, "daily", "--source", "sample", *common)
    assert sample.returncode == 0, sample.stderr
    after = kept_bytes(archive)
    # the real day's files, the index and the feed are as they were, byte for byte
    assert {path: after.get(path) for path in before} == before
    apart = archive / DAY / "sample"
    assert sources_of(apart / "digest.json") == {"sample"}
    # the run's last line names the folder (the Files table may shorten long paths)
    assert f"archived apart, in {apart} " in " ".join(sample.stdout.split()), sample.stdout
    assert "not in the archive's index or feed" in " ".join(sample.stdout.split())

    # with --out the files go where asked; the archive's copy still goes apart
    out = tmp_path / "out"
    sample = digest(home, tmp_path, feeds, "daily", "--source", "sample", *common, "--out", str(out))  # fmt: skip
    assert sample.returncode == 0, sample.stderr
    assert sources_of(out / DAY / "digest.json") == {"sample"}
    assert {path: kept_bytes(archive).get(path) for path in before} == before

    # and a real run after a sample one still archives and lists the real day
    index = (archive / "index.html").read_text(encoding="utf-8")
    feed = (archive / "feed.xml").read_text(encoding="utf-8")
    assert f"{DAY}/digest.html" in index and f"{DAY}/sample/" not in index
    assert feed.count("<entry") == 1 and f"{DAY}/sample/" not in feed


def test_a_sample_topic_never_replaces_the_real_topic_of_that_day(
    tmp_path: Path, feeds: ScriptedHttpServer
) -> None:
    home, archive = tmp_path / "home", tmp_path / "home" / "archive"
    real = digest(home, tmp_path, feeds, "daily", "--source", "arxiv-rss:cs.CL", "--engine", "offline", "--no-send", "--date", DAY)  # fmt: skip
    assert real.returncode == 0, real.stderr
    query = ("topic", "language models", "--engine", "offline", "--format", "html")
    # the papers of that digest, searched again (kept in the store)
    stored = digest(home, tmp_path, feeds, *query, "--source", "local", "--since", "2000-01-01")
    assert stored.returncode == 0, stored.stderr
    [real_topic] = list(archive.glob("*/topic-language-models/digest.json"))
    assert "sample" not in sources_of(real_topic)
    before = kept_bytes(archive)

    sample = digest(home, tmp_path, feeds, *query, "--source", "sample")
    assert sample.returncode == 0, sample.stderr
    assert {path: kept_bytes(archive).get(path) for path in before} == before
    apart = real_topic.parent.parent / "sample" / "topic-language-models"
    assert sources_of(apart / "digest.json") == {"sample"}
    assert f"archived apart, in {apart} " in " ".join(sample.stdout.split()), sample.stdout


def test_a_sample_day_emailed_first_does_not_stop_the_real_digest(
    tmp_path: Path, feeds: ScriptedHttpServer
) -> None:
    home = tmp_path / "home"
    with smtp_server() as smtp:
        config = tmp_path / "mail.toml"
        config.write_text(
            f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\nsecurity = "none"\n'
            'sender = "Paper digest <me@example.org>"\nrecipients = ["me@example.org"]\n',
            encoding="utf-8",
        )
        common = ("--config", str(config), "--engine", "offline", "--date", DAY)
        sample = digest(home, tmp_path, feeds, "daily", "--source", "sample", *common)
        assert sample.returncode == 0, sample.stderr
        real = digest(home, tmp_path, feeds, "daily", "--source", "arxiv-rss:cs.CL", *common)
        assert real.returncode == 0, real.stderr
        assert "and sent to me@example.org" in " ".join(real.stdout.split()), real.stdout
        assert len(smtp.messages) == 2
