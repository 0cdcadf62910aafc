"""How well the offline grouping matches the hand-labelled themes of the bundled sample.

Clusters only the labelled papers of evals/gold/sample_themes.json (the grouping sees nothing
else) and prints the adjusted Rand index, the normalised mutual information, the number of
themes, and for each theme its title, size and the gold labels inside it.

    .venv/bin/python bench/offline_quality.py
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from agent.models import Paper
from agent.resources import sample_corpus_path
from agent.summarize.offline import group_papers

GOLD = ROOT / "evals" / "gold" / "sample_themes.json"


def _clean(text: str) -> str:
    try:
        from agent.sources.clean import clean_text
    except ImportError:
        return " ".join(text.split())
    return clean_text(text)


def load_labelled() -> tuple[list[Paper], dict[str, str]]:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))["labels"]
    papers = []
    for line in sample_corpus_path().read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        if rec["id"] in gold:
            papers.append(
                Paper(
                    id=rec["id"],
                    title=_clean(rec["title"]),
                    abstract=_clean(rec.get("abstract", "")),
                    source="sample",
                )
            )
    return papers, gold


def main() -> None:
    papers, gold = load_labelled()
    start = time.perf_counter()
    themes = group_papers(papers)
    seconds = time.perf_counter() - start
    predicted = {pid: i for i, t in enumerate(themes) for pid in t.paper_ids}
    ids = [p.id for p in papers]
    truth = [gold[i] for i in ids]
    guess = [predicted[i] for i in ids]
    ari = adjusted_rand_score(truth, guess)
    nmi = normalized_mutual_info_score(truth, guess)
    print(f"labelled papers: {len(papers)} in {len(set(truth))} gold themes")
    print(f"offline themes:  {len(themes)} ({seconds:.2f} s)")
    print(f"ARI: {ari:.3f}")
    print(f"NMI: {nmi:.3f}")
    print()
    for t in themes:
        mix = Counter(gold[i] for i in t.paper_ids).most_common()
        mix_text = ", ".join(f"{label} {n}" for label, n in mix)
        print(f"{len(t.paper_ids):3d}  {t.title}\n     gold: {mix_text}")


if __name__ == "__main__":
    main()
