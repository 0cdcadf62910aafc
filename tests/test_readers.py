"""Several readers on one run ([readers.NAME]), end to end through the CLI: one fetch, each
reader's own selection, seen ledger, ratings, archive folder and sent ledger; blurbs written
once per paper for every reader (counted on the fake model server); a reader whose mail is
refused (real SMTP) is spooled and named without holding up the others."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from agent.cli import main
from agent.config import load_settings
from agent.readers import chosen_readers
from agent.store import Store, read_state
from tests.fakes.openai_server import FakeOpenAIServer, RecordedRequest
from tests.fakes.smtp_server import RecordingHandler, smtp_server
from tests.llm_answers import handler
from tests.test_reader_cli import _clean_env  # noqa: F401  (autouse: no DIGEST_/OPENAI_ env)

DAY = "2026-11-26"
NEXT = "2026-11-27"

pytestmark = pytest.mark.timeout(120)

RETRIEVAL = [f"Retrieval augmented generation study {i}" for i in range(4)]
ROBOTS = [f"Robot grasping manipulation study {i}" for i in range(4)]


def write_feed(tmp_path: Path, titles: list[str], prefix: str = "2611.200") -> Path:
    feed = tmp_path / f"feed-{prefix}.jsonl"
    lines = []
    for i, title in enumerate(titles):
        words = title.lower()
        lines.append(
            json.dumps(
                {
                    "id": f"{prefix}{i:02d}",
                    "title": title,
                    "abstract": f"We study {words}. Our method improves the main score by {i + 2} points.",
                    "url": f"https://arxiv.org/abs/{prefix}{i:02d}",
                }
            )
        )
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return feed


def write_config(tmp_path: Path, extra: str = "", *, max_papers: int = 6) -> Path:
    config = tmp_path / "digest.toml"
    config.write_text(
        f'home = "{tmp_path / "home"}"\nmax_papers = {max_papers}\n{extra}\n'
        '[readers.alice]\ninterests = "retrieval augmented generation"\n'
        'recipients = ["alice@example.com"]\n\n'
        '[readers.bob]\ninterests = "robot grasping manipulation"\n'
        'recipients = ["bob@example.com"]\nlanguage = "de"\n',
        encoding="utf-8",
    )
    return config


def digest(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--config", str(config)])


def daily(config: Path, feed: Path, *extra: str, day: str = DAY) -> Result:
    return digest(config, "daily", "--source", f"file:{feed}", "--date", day, *extra)


def selected(home: Path, day: str, reader: str) -> set[str]:
    data = json.loads(
        (home / "archive" / day / f"reader-{reader}" / "digest.json").read_text("utf-8")
    )
    return {p["id"] for theme in data["themes"] for p in theme["papers"]}


# -- config and names ------------------------------------------------------------------------------


def test_a_reader_takes_the_top_level_settings_as_defaults(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'categories = ["cs.CL"]\n[email]\nsender = "d@example.org"\n')
    settings = load_settings(config)
    alice, bob = chosen_readers(settings)
    assert (alice.name, bob.name) == ("alice", "bob")
    assert alice.settings.interests == "retrieval augmented generation"
    assert alice.settings.categories == ["cs.CL"] and alice.settings.max_papers == 6
    assert alice.settings.email.recipients == ["alice@example.com"]
    assert alice.settings.email.sender == "d@example.org"
    assert (alice.settings.llm.language, bob.settings.llm.language) == ("English", "German")
    assert [r.name for r in chosen_readers(settings, ["bob"])] == ["bob"]


def test_an_unknown_reader_is_one_line_and_exit_2_with_a_guess(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    feed = write_feed(tmp_path, RETRIEVAL)
    result = daily(config, feed, "--engine", "offline", "--reader", "alcie")
    assert result.exit_code == 2
    assert "no reader 'alcie' in the config; did you mean 'alice'?" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "home" / "archive").exists()  # stopped before any work
    rated = digest(config, "rate", "dp-001", "up", "--reader", "bobb")
    assert rated.exit_code == 2 and "did you mean 'bob'?" in rated.output


def test_reader_without_readers_tables_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "plain.toml"
    config.write_text(f'home = "{tmp_path / "home"}"\n', encoding="utf-8")
    feed = write_feed(tmp_path, RETRIEVAL)
    result = daily(config, feed, "--engine", "offline", "--reader", "alice")
    assert result.exit_code == 2 and "no [readers.NAME] tables" in result.output


def test_a_bad_reader_name_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[readers."a/b"]\ninterests = "x"\n', encoding="utf-8")
    result = digest(config, "daily", "--source", "sample", "--engine", "offline")
    assert result.exit_code == 2 and "reader name 'a/b'" in result.output


# -- selection, ledgers, archive, ratings ------------------------------------------------------------


def test_each_reader_gets_their_own_selection_folder_and_seen_ledger(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    home = tmp_path / "home"
    feed = write_feed(tmp_path, RETRIEVAL + ROBOTS)
    ids = {t: f"2611.200{i:02d}" for i, t in enumerate(RETRIEVAL + ROBOTS)}
    alice_only = daily(config, feed, "--engine", "offline", "--reader", "alice", "--no-send")
    assert alice_only.exit_code == 0, alice_only.output
    first = selected(home, DAY, "alice")
    assert {ids[t] for t in RETRIEVAL} <= first  # her interests come first
    assert not (home / "archive" / DAY / "reader-bob").exists()
    assert not (home / "archive" / DAY / "digest.json").exists()  # no single-reader digest

    # The next day the same papers come again: new to bob, not to alice.
    both = daily(config, feed, "--engine", "offline", "--no-send", day=NEXT)
    assert both.exit_code == 0, both.output
    assert "Reader alice" in both.output and "Reader bob" in both.output
    assert {ids[t] for t in ROBOTS} <= selected(home, NEXT, "bob")
    assert len(selected(home, NEXT, "bob")) == 6
    # alice had every paper yesterday (six summarised, two listed by title)
    assert not (home / "archive" / NEXT / "reader-alice").exists()
    assert "all 8 papers were in an earlier digest" in both.output
    with Store.open(home) as store:
        assert store.seen_count("alice") == 8 and store.seen_count("bob") == 8
        assert store.seen_count() == 0  # the single-reader ledger is untouched
    state = read_state(home)
    assert state is not None and state.papers_seen == 16  # `digest doctor` counts all readers'
    index = (home / "archive" / "index.html").read_text(encoding="utf-8")
    assert f"{NEXT}/reader-bob/digest.html" in index
    assert "Daily · for bob" in index and "Daily · for alice" in index  # whose digest it is
    feed = (home / "archive" / "feed.xml").read_text(encoding="utf-8")
    assert "· for bob</title>" in feed


def test_ratings_are_per_reader(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = digest(config, "rate", "dp-001", "up", "--reader", "alice")
    assert result.exit_code == 0 and "Rated up for alice: dp-001" in result.output
    assert "dp-001" in digest(config, "rate", "--list", "--reader", "alice").output
    assert "No ratings yet" in digest(config, "rate", "--list", "--reader", "bob").output
    unsaid = digest(config, "rate", "dp-002", "down")
    assert unsaid.exit_code == 2 and "--reader NAME (alice, bob)" in unsaid.output
    with Store.open(tmp_path / "home") as store:
        assert [r.paper_id for r in store.ratings("alice")] == ["dp-001"]
        assert store.ratings("bob") == [] and store.ratings() == []


# -- blurbs once per paper ------------------------------------------------------------------------------


def model_config(tmp_path: Path, srv: FakeOpenAIServer, *, german_bob: bool = True) -> Path:
    config = write_config(
        tmp_path,
        "[llm]\n"
        f'base_url = "{srv.base_url}"\napi_key = "sk-test-not-a-key"\nmodel = "gpt-4o-mini"\n'
        'dialect = "json_schema"\nlocal_defaults = false\nmax_attempts = 1\n',
    )
    if not german_bob:  # both read English: their blurbs can be shared
        config.write_text(config.read_text("utf-8").replace('language = "de"', ""), "utf-8")
    return config


def blurb_titles(requests: list[RecordedRequest], titles: list[str]) -> list[str]:
    """Every title asked for in a blurbs call (once per time it was asked)."""
    asked = []
    for request in requests:
        if request.body["response_format"]["json_schema"]["name"] != "blurbs":
            continue
        text = RecordedRequest.text_of(request.body)
        asked += [t for t in titles if re.search(rf">{re.escape(t)}\n", text)]
    return asked


def steps(requests: list[RecordedRequest]) -> list[str]:
    return [r.body["response_format"]["json_schema"]["name"] for r in requests]


def test_a_second_reader_asks_for_no_blurb_of_papers_the_first_had(tmp_path: Path) -> None:
    titles = RETRIEVAL + ROBOTS
    feed = write_feed(tmp_path, titles)
    with FakeOpenAIServer(handler=handler(themes=2)) as srv:
        config = model_config(tmp_path, srv, german_bob=False)
        first = daily(config, feed, "--engine", "llm", "--reader", "alice", "--no-send")
        assert first.exit_code == 0, first.output
        alice_asked = blurb_titles(srv.chat_requests, titles)
        assert sorted(alice_asked) == sorted(set(alice_asked)) and len(alice_asked) == 6
        before = len(srv.chat_requests)
        second = daily(config, feed, "--engine", "llm", "--reader", "bob", "--no-send")
        assert second.exit_code == 0, second.output
        bob_asked = blurb_titles(srv.chat_requests[before:], titles)
        assert not set(bob_asked) & set(alice_asked)  # the shared papers' blurbs are reused
        bob_ids = selected(tmp_path / "home", DAY, "bob")
        shared = {t for t in alice_asked if f"2611.200{titles.index(t):02d}" in bob_ids}
        assert shared  # the two selections overlap (6 + 6 of 8 papers)
        assert len(bob_asked) == len(bob_ids) - len(shared)
        assert "grouping" in steps(srv.chat_requests[before:])  # grouping stays per reader
        # and bob's digest carries the blurbs alice's run wrote
        alice_json = json.loads(
            (tmp_path / "home" / "archive" / DAY / "reader-alice" / "digest.json").read_text(
                "utf-8"
            )
        )
        bob_json = json.loads(
            (tmp_path / "home" / "archive" / DAY / "reader-bob" / "digest.json").read_text("utf-8")
        )
        blurbs_a = {p["id"]: p["blurb"] for t in alice_json["themes"] for p in t["papers"]}
        blurbs_b = {p["id"]: p["blurb"] for t in bob_json["themes"] for p in t["papers"]}
        assert all(blurbs_b[pid] == blurbs_a[pid] for pid in set(blurbs_a) & set(blurbs_b))

        # A later topic digest on these papers asks for no blurb either.
        before = len(srv.chat_requests)
        topic = digest(
            config,
            "topic",
            "retrieval augmented generation",
            "--source",
            "local",
            "--engine",
            "llm",
            "--reader",
            "alice",
            "--since",
            "1y",
            "--format",
            "json",
        )
        assert topic.exit_code == 0, topic.output
        assert blurb_titles(srv.chat_requests[before:], titles) == []


def test_one_run_for_all_readers_asks_each_blurb_once_and_groups_per_reader(tmp_path: Path) -> None:
    titles = RETRIEVAL + ROBOTS
    feed = write_feed(tmp_path, titles)
    with FakeOpenAIServer(handler=handler(themes=2)) as srv:
        config = model_config(tmp_path, srv, german_bob=False)
        result = daily(config, feed, "--engine", "llm", "--no-send")
        assert result.exit_code == 0, result.output
        asked = blurb_titles(srv.chat_requests, titles)
        union = selected(tmp_path / "home", DAY, "alice") | selected(tmp_path / "home", DAY, "bob")
        assert len(asked) == len(set(asked)) == len(union) == 8  # each paper once, for both
        made = steps(srv.chat_requests)
        assert made.count("grouping") == 2  # one per reader (the fake's identical headlines
        # for the two readers' identically titled themes come from the answer cache)
        assert "Shared blurbs:" in result.output
        # a re-run of the day costs no model request at all
        before = len(srv.chat_requests)
        again = daily(config, feed, "--engine", "llm", "--no-send")
        assert again.exit_code == 0, again.output
        assert len(srv.chat_requests) == before


def test_every_reader_of_a_run_draws_on_one_model_budget(tmp_path: Path) -> None:
    """`[llm] max_calls` is the run's: the shared blurbs and each reader's digest together
    make no more calls than that (each engine used to get the whole cap)."""
    titles = RETRIEVAL + ROBOTS
    feed = write_feed(tmp_path, titles)
    (tmp_path / "probe").mkdir()
    with FakeOpenAIServer(handler=handler(themes=2)) as srv:
        probe = model_config(tmp_path / "probe", srv, german_bob=False)
        assert daily(probe, feed, "--engine", "llm", "--no-send").exit_code == 0
        needed = len(srv.chat_requests)
        limit = needed - 2
        config = model_config(tmp_path, srv, german_bob=False)
        text = config.read_text("utf-8").replace(
            "max_attempts = 1\n", f"max_attempts = 1\nmax_calls = {limit}\n"
        )
        config.write_text(text, "utf-8")
        before = len(srv.chat_requests)
        result = daily(config, feed, "--engine", "llm", "--no-send")
        made = len(srv.chat_requests) - before
    assert result.exit_code == 0, result.output
    assert made == limit
    reasons = [
        note["reason"]
        for reader in ("alice", "bob")
        for note in json.loads(
            (tmp_path / "home" / "archive" / DAY / f"reader-{reader}" / "digest.json").read_text(
                "utf-8"
            )
        )["degraded"]
    ]
    assert any(f"limit of {limit} model calls is spent" in reason for reason in reasons)


def test_readers_with_another_language_get_their_own_blurbs(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, RETRIEVAL + ROBOTS)
    with FakeOpenAIServer(handler=handler(themes=2)) as srv:
        config = model_config(tmp_path, srv)  # bob reads German
        result = daily(config, feed, "--engine", "llm", "--no-send")
        assert result.exit_code == 0, result.output
        blurb_calls = [r for r in srv.chat_requests if steps([r]) == ["blurbs"]]
        systems = {r.body["messages"][0]["content"] for r in blurb_calls}
        assert any("German" in s for s in systems) and any("English" in s for s in systems)
        asked = blurb_titles(srv.chat_requests, RETRIEVAL + ROBOTS)
        assert len(asked) == 12  # 6 for each reader: nothing shared across languages


# -- delivery ----------------------------------------------------------------------------------------


def test_a_refused_reader_is_spooled_and_named_the_others_are_sent_once(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, RETRIEVAL + ROBOTS)
    refusing = RecordingHandler(rcpt_replies={"bob@example.com": ["550 5.1.1 no such user"]})
    with smtp_server(handler=refusing) as server:
        email = (
            f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {server.port}\nsecurity = "none"\n'
            'sender = "Paper Digest <digest@example.org>"\nmax_attempts = 1\ntimeout_seconds = 5\n'
        )
        config = write_config(tmp_path, email)
        result = daily(config, feed, "--engine", "offline", "--send")
        assert result.exit_code == 4, result.output
        assert "delivery failed for bob: spooled to the outbox" in result.output
        assert "alice got theirs" in result.output and "Traceback" not in result.output
        assert [m.rcpt_tos for m in server.messages] == [["alice@example.com"]]
        home = tmp_path / "home"
        with Store.open(home) as store:
            assert store.seen_count("alice") == 8  # six summarised, two listed by title
            assert store.seen_count("bob") == 8  # his digest's, waiting in the outbox
            assert store.already_sent(f"daily@alice:{DAY}", "alice@example.com")
            assert store.runs()[0]["status"] == "spooled"
        listed = digest(config, "outbox", "list")
        assert f"daily@bob:{DAY} → bob@example.com" in listed.output

        flushed = digest(config, "outbox", "flush")
        assert flushed.exit_code == 0, flushed.output
        assert sorted(m.rcpt_tos[0] for m in server.messages) == [
            "alice@example.com",
            "bob@example.com",
        ]
        with Store.open(home) as store:
            assert store.seen_count("bob") == 8  # marked once, by the spooled digest

        again = daily(config, feed, "--engine", "offline", "--send")
        assert again.exit_code == 0, again.output
        assert len(server.messages) == 2  # nobody is sent anything twice
        assert again.output.count("already sent") == 2


def test_with_the_batch_api_the_shared_blurbs_are_one_batch(tmp_path: Path) -> None:
    titles = RETRIEVAL + ROBOTS
    feed = write_feed(tmp_path, titles)
    with FakeOpenAIServer(handler=handler(themes=2)) as srv:
        config = model_config(tmp_path, srv, german_bob=False)
        llm = config.read_text("utf-8").replace("[llm]\n", "[llm]\nbatch_poll_seconds = 0.02\n")
        config.write_text(llm, encoding="utf-8")
        result = daily(config, feed, "--engine", "llm", "--no-send", "--batch")
        assert result.exit_code == 0, result.output
        assert blurb_titles(srv.chat_requests, titles) == []  # no direct blurbs call
        shared, *per_reader = srv.batches.creates
        file_id = srv.batches.batch(shared)["input_file_id"]
        rows = [json.loads(line) for line in srv.batches.content(file_id).splitlines()]
        assert {r["body"]["response_format"]["json_schema"]["name"] for r in rows} == {"blurbs"}
        asked = [
            t
            for r in rows
            for t in titles
            if re.search(rf">{re.escape(t)}\n", RecordedRequest.text_of(r["body"]))
        ]
        assert sorted(asked) == sorted(titles)  # every paper of both readers, once
        later = [srv.batches.content(srv.batches.batch(b)["input_file_id"]) for b in per_reader]
        assert not any(b'"name": "blurbs"' in (c or b"") for c in later)
