"""How well the offline grouping matches hand-labelled themes.

1. The 117 labelled papers of evals/gold/sample_themes.json, clustered alone: ARI, NMI, the
   number of themes and, per theme, its title, size and the gold labels inside it.
2. Ordinary days: every labelled day case of 20-40 papers in evals/cases/ (ARI over the
   labelled papers; the grouping sees the whole day), and 20 random 30-paper draws of the 117
   labelled papers (seeds 100-119): mean ARI and how many themes each day got.

    .venv/bin/python bench/offline_quality.py [--quiet]
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

from agent.evals.cases import load_cases
from agent.models import Paper
from agent.resources import sample_corpus_path
from agent.summarize.offline import OTHER_TITLE, group_papers

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


def day_ari(papers: list[Paper], gold: dict[str, str]) -> tuple[float, int, bool]:
    """(ARI over the labelled papers, named themes, whether there is an Other theme)."""
    themes = group_papers(papers)
    predicted = {pid: i for i, t in enumerate(themes) for pid in t.paper_ids}
    ids = [p.id for p in papers if p.id in gold]
    ari = adjusted_rand_score([gold[i] for i in ids], [predicted[i] for i in ids])
    named = sum(t.title != OTHER_TITLE for t in themes)
    return float(ari), named, any(t.title == OTHER_TITLE for t in themes)


def ordinary_days(papers: list[Paper], gold: dict[str, str]) -> None:
    import random

    rows = []
    for case in load_cases(ROOT / "evals" / "cases", tags=("day",)):
        if case.gold and 20 <= len(case.papers) <= 40:
            rows.append((case.name, *day_ari(list(case.papers), dict(case.gold))))
    for seed in range(100, 120):
        day = random.Random(seed).sample(papers, 30)
        rows.append((f"random-30 seed {seed}", *day_ari(day, gold)))
    print("\nordinary days (20-40 papers): ARI, named themes (+ Other)")
    for name, ari, named, other in rows:
        print(f"  {name:22s} ARI {ari:6.3f}  themes {named}{' + Other' if other else ''}")
    cases = [r for r in rows if not r[0].startswith("random")]
    draws = [r for r in rows if r[0].startswith("random")]
    for label, group in (("day cases", cases), ("random 30-paper days", draws)):
        if group:
            mean = sum(r[1] for r in group) / len(group)
            counts = sorted(r[2] for r in group)
            print(f"mean ARI, {label} ({len(group)}): {mean:.3f}  themes {counts[0]}-{counts[-1]}")


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
        if "--quiet" not in sys.argv:
            print(f"{len(t.paper_ids):3d}  {t.title}\n     gold: {mix_text}")
    ordinary_days(papers, gold)


if __name__ == "__main__":
    main()
