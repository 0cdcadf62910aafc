"""The background vocabulary of the offline engine: in how many papers of the bundled sample
day each term occurs. A day too small (or too uniform) to contrast with itself is contrasted
with it.

It is package data (`agent/data/background-df.json.gz`), computed at build time rather than on
every run. Regenerate it after changing the sample or the term analysis (`text`):

    .venv/bin/python -m agent.summarize.offline.background

A test checks that the shipped file equals what this module computes.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from functools import lru_cache
from pathlib import Path

from agent.core.resources import background_vocabulary_path, sample_corpus_path
from agent.summarize.offline.text import term_set


def compute() -> tuple[Counter[str], int]:
    """(document frequency of every term, number of documents) over the sample day."""
    df: Counter[str] = Counter()
    documents = 0
    with sample_corpus_path().open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                df.update(term_set(f"{rec.get('title', '')}.\n{rec.get('abstract', '')}"))
                documents += 1
    return df, documents


def encode(df: Counter[str], documents: int) -> bytes:
    """Deterministic bytes for the package data file (sorted, compact, gzip without a time)."""
    data = {"documents": documents, "df": dict(sorted(df.items()))}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def read(path: Path) -> tuple[Counter[str], int]:
    data = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
    return Counter(data["df"]), int(data["documents"])


@lru_cache(maxsize=1)
def background_df() -> tuple[Counter[str], int]:
    """The shipped background vocabulary (computed on the fly if the file is missing)."""
    path = background_vocabulary_path()
    return read(path) if path.is_file() else compute()


def main() -> None:
    path = background_vocabulary_path()
    df, documents = compute()
    path.write_bytes(encode(df, documents))
    print(f"wrote {path}: {len(df):,} terms over {documents} papers, {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
