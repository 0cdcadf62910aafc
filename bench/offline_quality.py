"""How good the offline digest is: grouping against hand labels, theme labels, blurbs.

1. Grouping. The 117 labelled papers of evals/gold/sample_themes.json clustered alone (ARI,
   NMI, each theme's title, size and gold labels); every labelled day case of 20-40 papers in
   evals/cases (ARI over the labelled papers; the grouping sees the whole day); random 30-paper
   days of the labelled papers: seeds 100-119 (the draws the grouping was tuned on) and, held
   out, seeds 200-239. Mean, min, max and standard deviation of the ARI.
2. Labels, on the sample digest's day (the first 30 papers, what `digest daily --source sample`
   shows), the recorded Hugging Face day and the day cases: the share of labels that are noun
   phrases found in two or more of their papers, and the share of generic labels.
3. Blurbs, on all 207 papers of the sample and on the day cases: the share that start with a
   dangling reference, the copy rate (longest verbatim run from the abstract / blurb length)
   and the mean Flesch-Kincaid grade; the eval's definitions (agent/evals/scorers_*.py).

    .venv/bin/python bench/offline_quality.py [--quiet] [--terms-only]

`--terms-only` groups without the word vectors (TF-IDF views alone, the path taken when the
wordllama package is missing): the figures before they were added.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from agent.core.resources import demo_day_path, sample_corpus_path
from agent.dangling import dangling_start
from agent.evals.cases import load_cases
from agent.evals.scorers_labels import is_generic, label_problem
from agent.evals.scorers_text import copy_ratio, grade
from agent.models import Paper
from agent.sources.local import read_paper_file
from agent.summarize.offline import OTHER_TITLE, ThemeDraft, daygroups, group_papers, write_blurb

GOLD = ROOT / "evals" / "gold" / "sample_themes.json"
TUNED, HELD_OUT = range(100, 120), range(200, 240)


def load_labelled() -> tuple[list[Paper], dict[str, str]]:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))["labels"]
    papers = [p for p in read_paper_file(sample_corpus_path(), "sample") if p.id in gold]
    return papers, gold


def day_ari(papers: list[Paper], gold: dict[str, str]) -> tuple[float, int, bool]:
    """(ARI over the labelled papers, named themes, whether there is an Other theme)."""
    themes = group_papers(papers)
    predicted = {pid: i for i, t in enumerate(themes) for pid in t.paper_ids}
    ids = [p.id for p in papers if p.id in gold]
    ari = adjusted_rand_score([gold[i] for i in ids], [predicted[i] for i in ids])
    named = sum(t.title != OTHER_TITLE for t in themes)
    return float(ari), named, any(t.title == OTHER_TITLE for t in themes)


def _spread(values: list[float]) -> str:
    return (
        f"mean {statistics.mean(values):.3f}  min {min(values):.3f}  max {max(values):.3f}  "
        f"sd {statistics.pstdev(values):.3f}"
    )


def ordinary_days(papers: list[Paper], gold: dict[str, str], quiet: bool) -> None:
    cases = []
    for case in load_cases(ROOT / "evals" / "cases", tags=("day",)):
        if case.gold and 20 <= len(case.papers) <= 40:
            cases.append((case.name, *day_ari(list(case.papers), dict(case.gold))))
    print("\nordinary days (20-40 papers): ARI, named themes (+ Other)")
    for name, ari, named, other in cases:
        print(f"  {name:22s} ARI {ari:6.3f}  themes {named}{' + Other' if other else ''}")
    print(f"day cases ({len(cases)}): {_spread([c[1] for c in cases])}")
    for label, seeds in (("tuned on", TUNED), ("held out", HELD_OUT)):
        rows = [day_ari(random.Random(s).sample(papers, 30), gold) for s in seeds]
        if not quiet and seeds is TUNED:
            for seed, (ari, named, other) in zip(seeds, rows, strict=True):
                print(f"  random-30 seed {seed}   ARI {ari:6.3f}  themes {named}")
        counts = sorted(r[1] for r in rows)
        print(
            f"random 30-paper days, seeds {seeds.start}-{seeds.stop - 1} ({label}, {len(rows)}): "
            f"{_spread([r[0] for r in rows])}  themes {counts[0]}-{counts[-1]}"
        )


def label_quality(days: dict[str, list[Paper]]) -> None:
    print("\nlabels: noun phrases of two or more of their papers / generic (themes of 2+ papers)")
    good = generic = total = 0
    for name, papers in days.items():
        by_id = {p.id: p for p in papers}
        themes = [
            t for t in group_papers(papers) if t.title != OTHER_TITLE and len(t.paper_ids) > 1
        ]
        ok = [t for t in themes if label_problem(t.title, [by_id[i] for i in t.paper_ids]) is None]
        bad = [t.title for t in themes if is_generic(t.title)]
        good, generic, total = good + len(ok), generic + len(bad), total + len(themes)
        print(
            f"  {name:14s} {len(ok)}/{len(themes)} phrases, {len(bad)} generic: {_titles(themes)}"
        )
    print(f"all days: {good}/{total} = {good / total:.0%} phrases, {generic / total:.0%} generic")


def _titles(themes: list[ThemeDraft]) -> str:
    return "; ".join(t.title for t in themes)


def blurb_quality(days: dict[str, list[Paper]]) -> None:
    print("\nblurbs: dangling starts, copy rate, Flesch-Kincaid grade")
    for name, papers in days.items():
        blurbs = [(p, write_blurb(p)) for p in papers]
        dangling = sum(dangling_start(b) is not None for _, b in blurbs)
        copies = [copy_ratio(b, p.abstract)[0] for p, b in blurbs if p.abstract]
        grades = [grade(b) for _, b in blurbs]
        print(
            f"  {name:14s} {len(blurbs):3d} blurbs: dangling {dangling / len(blurbs):.1%}  "
            f"copy rate {statistics.mean(copies):.3f}  grade {statistics.mean(grades):.1f}"
        )


def main() -> None:
    quiet = "--quiet" in sys.argv
    if "--terms-only" in sys.argv:
        daygroups.word_sense = lambda papers: None  # as when the vectors are not installed
    print(f"grouping: TF-IDF views{'' if '--terms-only' in sys.argv else ' + word vectors'}")
    papers, gold = load_labelled()
    start = time.perf_counter()
    themes = group_papers(papers)
    seconds = time.perf_counter() - start
    predicted = {pid: i for i, t in enumerate(themes) for pid in t.paper_ids}
    truth = [gold[p.id] for p in papers]
    guess = [predicted[p.id] for p in papers]
    print(f"labelled papers: {len(papers)} in {len(set(truth))} gold themes")
    print(f"offline themes:  {len(themes)} ({seconds:.2f} s)")
    print(f"ARI: {adjusted_rand_score(truth, guess):.3f}")
    print(f"NMI: {normalized_mutual_info_score(truth, guess):.3f}")
    if not quiet:
        for t in themes:
            mix = Counter(gold[i] for i in t.paper_ids).most_common()
            print(
                f"{len(t.paper_ids):3d}  {t.title}\n     gold: {', '.join(f'{g} {n}' for g, n in mix)}"
            )
    ordinary_days(papers, gold, quiet)
    sample = read_paper_file(sample_corpus_path(), "sample")
    cases = {c.name: list(c.papers) for c in load_cases(ROOT / "evals" / "cases", tags=("day",))}
    label_quality(
        {"sample-30": sample[:30], "hf-day": read_paper_file(demo_day_path(), "demo"), **cases}
    )
    blurb_quality({"sample-207": sample, **cases})


if __name__ == "__main__":
    main()
