"""Time and peak memory of the offline engine on big synthetic days (2,000 and 20,000 papers).

Papers are synthesised from the bundled sample with new ids: each one takes a sample paper's
title and a deterministic subset of its sentences, plus one sentence borrowed from another
paper, so texts are varied rather than exact copies. Each size runs in a fresh subprocess so
its peak RSS (resource.getrusage) is its own.

    .venv/bin/python bench/offline_engine.py            # 2,000 and 20,000
    .venv/bin/python bench/offline_engine.py --n 5000   # one size
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _clean(text: str) -> str:
    try:
        from agent.sources.clean import clean_text
    except ImportError:  # the cleaner is optional for this benchmark
        return " ".join(text.split())
    return clean_text(text)


def synthesise(n: int, seed: int = 0):
    from agent.core.resources import sample_corpus_path
    from agent.models import Paper
    from agent.summarize.offline.blurbs import split_sentences

    base = [json.loads(line) for line in sample_corpus_path().read_text().splitlines() if line]
    rng = random.Random(seed)
    papers = []
    for i in range(n):
        a = base[i % len(base)]
        b = base[rng.randrange(len(base))]
        sents = split_sentences(_clean(a["abstract"]))
        keep = [s for s in sents if rng.random() < 0.8] or sents[:1]
        extra = split_sentences(_clean(b["abstract"]))
        if extra:
            keep.insert(rng.randrange(len(keep) + 1), rng.choice(extra))
        papers.append(
            Paper(
                id=f"syn-{i:06d}",
                title=_clean(a["title"])
                + ("" if i < len(base) else f" (variant {i // len(base)})"),
                abstract=" ".join(keep),
                source="bench",
            )
        )
    return papers


def run_one(n: int) -> dict[str, float]:
    from agent.summarize.offline import OfflineEngine

    papers = synthesise(n)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu_start = time.perf_counter(), time.process_time()
    summary = OfflineEngine().summarize(papers)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    placed = sum(len(t.papers) for t in summary.themes)
    assert placed == n, (placed, n)
    return {
        "papers": n,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "peak_rss_mib": round(rss_peak / 1024, 1),
        "rss_growth_mib": round((rss_peak - rss_before) / 1024, 1),
        "themes": len(summary.themes),
        "other": next((len(t.papers) for t in summary.themes if t.title == "Other"), 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="day size (repeatable)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.n[0])))
        return
    sizes = args.n or [2000, 20000]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"offline engine benchmark on {os.cpu_count()} CPU(s), load average {load:.1f}")
    for n in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--n", str(n)],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['papers']:>6} papers: {r['seconds']:6.2f} s wall ({r['cpu_seconds']:.2f} s CPU), "
            f"peak RSS {r['peak_rss_mib']:7.1f} MiB "
            f"(+{r['rss_growth_mib']:.1f} MiB during summarize), {r['themes']} themes, "
            f"{r['other']} in Other"
        )


if __name__ == "__main__":
    main()
