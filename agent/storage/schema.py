"""The state database's schema: ordered migrations, the schema version is their count."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: papers seen, runs
    """
    CREATE TABLE papers_seen (
        id TEXT PRIMARY KEY,
        version INTEGER,
        first_seen TEXT NOT NULL,
        digest_date TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX papers_seen_date ON papers_seen(digest_date);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        digest_date TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT,
        counts TEXT NOT NULL DEFAULT '{}',
        usage TEXT NOT NULL DEFAULT '{}',
        message TEXT
    );
    """,
    # 2: model answer cache
    """
    CREATE TABLE model_cache (
        key TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        created TEXT NOT NULL,
        answer TEXT NOT NULL,
        usage TEXT NOT NULL DEFAULT '{}'
    );
    """,
    # 3: sent ledger
    """
    CREATE TABLE sent_ledger (
        digest_key TEXT NOT NULL,
        recipient TEXT NOT NULL,
        message_id TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        PRIMARY KEY (digest_key, recipient)
    );
    """,
    # 4: HTTP validators for conditional requests
    """
    CREATE TABLE http_validators (
        url TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        body BLOB,
        stored_at TEXT NOT NULL
    );
    """,
    # 5: papers kept for `digest topic` search (title, abstract, metadata as JSON)
    """
    CREATE TABLE papers_kept (
        id TEXT PRIMARY KEY,
        paper TEXT NOT NULL,
        stored_at TEXT NOT NULL
    );
    """,
    # 6: the reader's parsed libraries (re-read only when the file changes) and ratings
    """
    CREATE TABLE library_cache (
        origin TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        entries TEXT NOT NULL,
        stored_at TEXT NOT NULL
    );
    CREATE TABLE ratings (
        paper_id TEXT PRIMARY KEY,
        rating INTEGER NOT NULL,
        title TEXT NOT NULL,
        abstract TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '[]',
        rated_at TEXT NOT NULL
    );
    """,
    # 7: the structured-output dialect each endpoint and model took (llm.dialect = "auto")
    """
    CREATE TABLE IF NOT EXISTS llm_dialects (
        endpoint TEXT NOT NULL,
        model TEXT NOT NULL,
        dialect TEXT NOT NULL,
        updated TEXT NOT NULL,
        PRIMARY KEY (endpoint, model)
    );
    """,
    # 8: batches submitted to the provider's Batch API and not collected yet, by request set,
    # with the ids of their requests (a JSON list)
    """
    CREATE TABLE IF NOT EXISTS pending_batches (
        request_set TEXT PRIMARY KEY,
        batch_id TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        ids TEXT NOT NULL,
        submitted TEXT NOT NULL
    );
    """,
    # 9: several readers on one state: named readers' seen ledgers and ratings (the single
    # reader of a config without [readers] keeps the tables above), and blurbs kept per paper
    """
    CREATE TABLE reader_papers_seen (
        reader TEXT NOT NULL,
        id TEXT NOT NULL,
        version INTEGER,
        first_seen TEXT NOT NULL,
        digest_date TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (reader, id)
    );
    CREATE TABLE reader_ratings (
        reader TEXT NOT NULL,
        paper_id TEXT NOT NULL,
        rating INTEGER NOT NULL,
        title TEXT NOT NULL,
        abstract TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '[]',
        rated_at TEXT NOT NULL,
        PRIMARY KEY (reader, paper_id)
    );
    CREATE TABLE paper_blurbs (
        key TEXT PRIMARY KEY,
        paper_id TEXT NOT NULL,
        blurb TEXT NOT NULL,
        why TEXT,
        created TEXT NOT NULL
    );
    """,
    # 10: a local server's calls per planned call (re-asks and second asks included), so the
    # next run's time estimate counts them (`agent.summarize.llm.steps.budget_plan`)
    """
    CREATE TABLE IF NOT EXISTS llm_pace (
        endpoint TEXT NOT NULL,
        model TEXT NOT NULL,
        calls_per_planned REAL NOT NULL,
        updated TEXT NOT NULL,
        PRIMARY KEY (endpoint, model)
    );
    """,
    # 11: the days each source read for a digest (a run that finished), so the next run reads
    # the days it missed and a rebuild the same days (`agent.pipeline.catch_up`)
    """
    CREATE TABLE IF NOT EXISTS source_reads (
        source TEXT NOT NULL,
        digest_date TEXT NOT NULL,
        read_after TEXT,
        read_through TEXT NOT NULL,
        updated TEXT NOT NULL,
        PRIMARY KEY (source, digest_date)
    );
    """,
    # 12: the digest that listed a paper's latest version as an update, and the version known
    # before it, so re-running that date lists the update again
    """
    ALTER TABLE papers_seen ADD COLUMN updated_date TEXT;
    ALTER TABLE papers_seen ADD COLUMN prior_version INTEGER;
    ALTER TABLE reader_papers_seen ADD COLUMN updated_date TEXT;
    ALTER TABLE reader_papers_seen ADD COLUMN prior_version INTEGER;
    """,
)

__all__ = ["MIGRATIONS"]
