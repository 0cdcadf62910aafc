"""`digest topic` and `digest daily` as a user runs them, against a loopback arXiv API: the
bundled sample only when asked for, undated papers treated as old under --since, and an
HTTP 304 from the arXiv API meaning "nothing new" rather than a failed source."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.processes import run_digest

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv_api"
TESTING_FEED = json.loads((FIXTURES / "arxivpy_q_testing_s0_m10_bc5a6c384fe9.json").read_text())[
    "body"
]
ETAG = '"feed-v1"'

pytestmark = pytest.mark.timeout(120)


@pytest.fixture()
def arxiv() -> ScriptedHttpServer:
    with ScriptedHttpServer() as server:
        yield server


def arxiv_env(server: ScriptedHttpServer) -> dict[str, str]:
    return {
        "DIGEST_SOURCES__ARXIV_API_URL": f"{server.url}/api/query",
        "DIGEST_SOURCES__ARXIV_MIN_INTERVAL_SECONDS": "0",
        "DIGEST_SOURCES__ARXIV_API_MAX_RESULTS": "10",
        "DIGEST_SOURCES__MAX_ATTEMPTS": "1",
    }


def topic_ids(output: str) -> list[str]:
    data = json.loads(output)
    return sorted(b["id"] for t in data["themes"] for b in t["papers"]) + sorted(
        p["id"] for p in data.get("also_new", [])
    )


def test_topic_304_keeps_what_the_arxiv_api_found_before(
    tmp_path: Path, arxiv: ScriptedHttpServer
) -> None:
    arxiv.enqueue(Reply(200, TESTING_FEED, {"ETag": ETAG}), Reply(304, headers={"ETag": ETAG}))
    args = (
        "topic",
        "software testing",
        "--source",
        "arxiv",
        "--since",
        "10000d",
        "--engine",
        "offline",
        "--format",
        "json",
    )
    home, env = tmp_path / "home", arxiv_env(arxiv)
    first = run_digest(*args, home=home, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    second = run_digest(*args, home=home, cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    assert "if-none-match" not in arxiv.requests[0].headers
    assert arxiv.requests[1].headers["if-none-match"] == ETAG  # asked "anything new?"
    assert "304" not in second.stderr and "failed" not in second.stderr
    assert topic_ids(second.stdout) == topic_ids(first.stdout) and len(topic_ids(first.stdout)) > 1


def test_daily_304_from_the_arxiv_api_is_nothing_new_not_a_failure(
    tmp_path: Path, arxiv: ScriptedHttpServer
) -> None:
    arxiv.enqueue(Reply(200, TESTING_FEED, {"ETag": ETAG}), Reply(304, headers={"ETag": ETAG}))
    home, env = tmp_path / "home", arxiv_env(arxiv)
    args = ("daily", "--source", "arxiv:cat:cs.SE", "--engine", "offline", "--no-send")
    first = run_digest(*args, "--date", "2026-11-26", home=home, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    second = run_digest(*args, "--date", "2026-11-27", home=home, cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    said = second.stdout + second.stderr
    assert arxiv.requests[1].headers["if-none-match"] == ETAG
    assert "Nothing new today: all 10 papers were in an earlier digest." in said
    assert "failed" not in said and "HTTP 304" not in said


def test_topic_searches_the_sample_only_when_asked_and_undated_papers_are_old(
    tmp_path: Path, arxiv: ScriptedHttpServer
) -> None:
    """A home with a stored paper on the topic: the default search finds it and never the
    undated demo day (the arXiv API here knows nothing); an undated paper of a file is left out
    under --since, and the sample is searched when asked for, whatever --since says."""
    arxiv.add("/api/query", Reply(200, TESTING_FEED))
    day = tmp_path / "day.jsonl"
    papers = [
        {
            "id": "2611.00001",
            "title": "GF-DiT: Diffusion Transformer Serving on a Budget",
            "abstract": "Efficient transformer serving for diffusion models with batching.",
            "published": f"{dt.date.today() - dt.timedelta(days=3)}T00:00:00Z",
        },
        {
            "id": "2611.00002",
            "title": "Undated notes on efficient transformer serving",
            "abstract": "Efficient transformer serving without a date.",
        },
    ]
    day.write_text("".join(json.dumps(p) + "\n" for p in papers), encoding="utf-8")
    home, env = tmp_path / "home", arxiv_env(arxiv)
    common = ("--engine", "offline", "--format", "json")
    stored = run_digest(
        "topic", "efficient transformer serving", "--source", f"file:{day}", "--since", "30d",
        *common, home=home, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert stored.returncode == 0, stored.stderr
    assert topic_ids(stored.stdout) == ["2611.00001"]  # the undated one counts as old
    again = run_digest(
        "topic", "efficient transformer serving", *common, home=home, cwd=tmp_path, env=env
    )
    assert again.returncode == 0, again.stderr
    found = topic_ids(again.stdout)
    assert "2611.00001" in found and not any(pid.startswith("dp-") for pid in found)
    demo = run_digest(
        "topic", "long context", "--source", "sample", *common, home=home, cwd=tmp_path, env=env
    )
    assert demo.returncode == 0, demo.stderr
    assert all(pid.startswith("dp-") for pid in topic_ids(demo.stdout))


def test_topic_text_to_a_pipe_keeps_every_line_whole(tmp_path: Path) -> None:
    """Stop 36: piped (`digest topic ... | less`, `> notes.txt`), the overview, summaries,
    titles and blurbs were cut at the console's width ("…Optimize LLM' s KV-Cache Consum")."""
    home = tmp_path / "home"
    args = ("topic", "KV cache compression", "--source", "sample", "--engine", "offline")
    data = run_digest(*args, "--format", "json", home=home, cwd=tmp_path)
    assert data.returncode == 0, data.stderr
    digest = json.loads(data.stdout)
    shown = run_digest(*args, home=home, cwd=tmp_path, env={"COLUMNS": "60"})
    assert shown.returncode == 0, shown.stderr
    lines = [line.strip() for line in shown.stdout.splitlines()]
    texts = [digest["overview"], digest["headline"]]
    for theme in digest["themes"]:
        texts.append(theme["summary"])
        for paper in theme["papers"]:
            texts += [f"• {paper['title']}", paper["blurb"]]
    assert max(len(t) for t in texts) > 60  # the width the lines were cut at
    missing = [t for t in texts if t and t not in lines]
    assert missing == []
