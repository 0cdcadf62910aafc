"""Ranking speed: one day of N papers against a 1,000-entry library (prints numbers).

The papers are the bundled sample day, repeated with shuffled sentences so every paper is a
distinct text; the library is built the same way. Run: .venv/bin/python bench/ranking.py
"""

from __future__ import annotations

import random
import statistics
import time

from agent.core.resources import sample_corpus_path
from agent.models import Paper
from agent.select import Interests, LibraryEntry, ReaderProfile, select_papers
from agent.sources.local import read_paper_file


def synthetic(base: list[Paper], count: int, seed: int, prefix: str) -> list[Paper]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        paper = base[i % len(base)]
        sentences = paper.abstract.split(". ")
        rng.shuffle(sentences)
        out.append(
            paper.model_copy(update={"id": f"{prefix}-{i}", "abstract": ". ".join(sentences)})
        )
    return out


def main() -> None:
    base = read_paper_file(sample_corpus_path(), "sample")
    library = tuple(
        LibraryEntry(key=p.id, title=p.title, abstract=p.abstract)
        for p in synthetic(base, 1000, 1, "lib")
    )
    interests = Interests(
        text="quantization and pruning of language models",
        include_keywords=("quantization",),
        profile=ReaderProfile(library=library, authors=("Nobody Here",), not_interested="surveys"),
    )
    select_papers(base, max_papers=30, interests=interests)  # imports and warm-up
    for count in (2_000, 20_000):
        day = synthetic(base, count, 2, "day")
        times, cpu = [], []
        for _ in range(3):
            started, started_cpu = time.perf_counter(), time.process_time()
            select_papers(day, max_papers=30, interests=interests)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        print(
            f"rank {count:>6,} papers, library of {len(library):,}: "
            f"wall median {statistics.median(times):.2f} s, best {min(times):.2f} s; "
            f"CPU median {statistics.median(cpu):.2f} s (3 runs)"
        )


if __name__ == "__main__":
    main()
