"""The SQLite store: migrations, papers seen, runs, cache, ledger; real files."""

import datetime as dt
import sqlite3
from pathlib import Path

from agent.store import Store

D1 = dt.date(2026, 11, 23)
D2 = dt.date(2026, 11, 24)


def test_migrations_are_versioned_and_idempotent(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        version = store.schema_version
    assert version >= 5
    with Store.open(tmp_path) as store:  # reopening runs no migration twice
        assert store.schema_version == version
    tables = {
        row[0]
        for row in sqlite3.connect(tmp_path / "state.sqlite3").execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert {"papers_seen", "runs", "model_cache", "sent_ledger", "http_validators"} <= tables


def test_a_paper_belongs_to_the_first_digest_that_had_it(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.mark_seen([("a", 1, "A"), ("b", None, "B")], D2)
        assert set(store.seen_on_other_dates(["a", "b", "c"], dt.date(2026, 11, 25))) == {"a", "b"}
        assert store.seen_on_other_dates(["a"], D2) == {}  # re-running D2 rebuilds D2
        assert set(store.seen_on_other_dates(["a", "b"], D1)) == {"a", "b"}  # a backfill skips them
        store.mark_seen([("a", 2, "A")], D1)  # a later mark never moves the paper to another day
        seen = store.seen_on_other_dates(["a"], dt.date(2026, 11, 25))["a"]
        assert seen.digest_date == D2 and seen.version == 2


def test_a_date_that_listed_an_update_is_rebuilt_with_it(tmp_path: Path) -> None:
    """D2 listed v2 of D1's paper as an update: re-running D2 compares with v1 again (it got
    v2, which raised the stored version, and the rebuild called v2 already seen); any other
    date knows v2."""
    d3 = dt.date(2026, 11, 25)
    with Store.open(tmp_path) as store:
        store.mark_seen([("a", 1, "A")], D1)
        store.mark_seen([("a", 2, "A")], D2)
        for _ in range(2):  # the re-run of D2 marks it again: nothing moves
            assert store.seen_on_other_dates(["a"], D2)["a"].version == 1
            assert store.seen_on_other_dates(["a"], d3)["a"].version == 2
            store.mark_seen([("a", 2, "A")], D2)
        store.mark_seen([("a", 3, "A")], D2)  # D2 re-run when v3 is out: still D2's update
        assert store.seen_on_other_dates(["a"], D2)["a"].version == 1
        assert store.seen_on_other_dates(["a"], d3)["a"].version == 3


def test_runs_and_cache_and_ledger(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        run = store.start_run(D1, "daily")
        store.finish_run(run, "sent", counts={"selected": 3}, usage={"calls": 2})
        [row] = store.runs()
        assert row["status"] == "sent" and row["counts"] == {"selected": 3}
        assert store.cached_answer("k") is None
        store.cache_answer("k", "m", '{"x": 1}', {"input_tokens": 5})
        assert store.cached_answer("k").answer == '{"x": 1}'
        assert not store.already_sent("daily:2026-11-23", "A@Example.org")
        store.record_sent("daily:2026-11-23", "a@example.org", "<id@x>")
        assert store.already_sent("daily:2026-11-23", "A@Example.org")
        store.forget_sent("daily:2026-11-23")
        assert not store.already_sent("daily:2026-11-23", "a@example.org")


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        try:
            with store.transaction() as db:
                db.execute(
                    "INSERT INTO papers_seen (id, version, first_seen, digest_date, title) VALUES ('z', 1, 'x', '2026-11-23', 't')"
                )
                raise RuntimeError("crash mid-write")
        except RuntimeError:
            pass
        assert store.seen_count() == 0


def test_a_unit_cut_off_by_a_signal_does_not_break_the_next_one(tmp_path: Path) -> None:
    """Stop 36 (a fresh-clone CI run): SIGTERM while sending landed between a BEGIN and its
    `try`, the transaction stayed open, and the run's clean-up writes failed with "cannot
    start a transaction within a transaction" (exit 2, not 130)."""
    insert = "INSERT INTO papers_seen (id, version, first_seen, digest_date, title) VALUES (?, 1, 'x', '2026-11-23', 't')"
    with Store.open(tmp_path) as store:
        store._db.execute("BEGIN IMMEDIATE")  # what a unit cut off after its BEGIN leaves
        store._db.execute(insert, ("lost",))
        with store.transaction() as db:
            db.execute(insert, ("kept",))
        assert not store._db.in_transaction
        assert store.seen_count() == 1  # the cut-off unit's write did not happen
    with Store.open(tmp_path) as store:
        assert store.seen_count() == 1
        try:
            with store.transaction() as db:
                db.execute(insert, ("half",))
                raise KeyboardInterrupt  # Ctrl-C inside a unit: rolled back, as any error
        except KeyboardInterrupt:
            pass
        assert not store._db.in_transaction and store.seen_count() == 1
