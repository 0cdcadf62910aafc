"""CPU seconds (user + system) of `digest topic "long context"` over 20,000 stored papers, with
the offline engine: the median of 5 fresh processes, each on a fresh copy of the same
DIGEST_HOME. A second row reads the same papers, as raw text with the sample's LaTeX residue,
from a `file:` source, so that text cleaning is in the figure too.

Papers are synthesised from the bundled sample (see bench/offline_engine.py).

    .venv/bin/python bench/topic_search.py [--n 20000] [--runs 5]

Target (issue 13, printed, never asserted): <= 4 s for the stored papers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

from cpu import ROOT, child_cpu, digest_command, summary

sys.path.insert(0, str(ROOT))

QUERY = "long context"


def stored_home(home: Path, n: int) -> None:
    """A DIGEST_HOME whose state database keeps n papers, as earlier digests leave them."""
    from offline_engine import synthesise

    from agent.store import Store

    papers = synthesise(n)
    with Store.open(home) as store:
        store.keep_papers((p.id, p.model_dump_json()) for p in papers)


def raw_file(path: Path, n: int, seed: int = 0) -> None:
    """n raw records (uncleaned titles and abstracts) made from the sample's, with new ids."""
    from agent.core.resources import sample_corpus_path

    base = [json.loads(line) for line in sample_corpus_path().read_text().splitlines() if line]
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            a, b = base[i % len(base)], base[rng.randrange(len(base))]
            record = {"id": f"raw-{i:06d}", "title": a["title"],
                      "abstract": a["abstract"] + " " + b["abstract"][: rng.randrange(400)]}  # fmt: skip
            fh.write(json.dumps(record) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DIGEST_"))}
    digest = digest_command()
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template"
        stored_home(template, args.n)
        papers_file = Path(tmp) / "papers.jsonl"
        raw_file(papers_file, args.n)
        print(f'digest topic "{QUERY}" --engine offline, {args.n:,} papers, {os.cpu_count()} cores')
        for label, source, target in (
            ("stored papers (--source local)", "local", 4.0),
            ("raw file (--source file:...)", f"file:{papers_file}", None),
        ):
            times = []
            for run in range(args.runs):
                home = Path(tmp) / f"home-{label[:3]}-{run}"
                shutil.copytree(template, home)
                cmd = [*digest, "topic", QUERY, "--source", source, "--engine", "offline",
                       "--since", "10y", "--out", str(home / "out")]  # fmt: skip
                times.append(child_cpu(cmd, {**env, "DIGEST_HOME": str(home)}, cwd=home))
            print(summary(f"  {label}", times, target))


if __name__ == "__main__":
    main()
