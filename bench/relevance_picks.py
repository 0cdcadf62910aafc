"""Honest slots on the relevance profiles: how many papers are picks on day 1 (the rest go to
"Also new"), and how many of them are on the reader's subject (prints numbers).

Each profile of evals/relevance ranks its whole labelled day with `max_papers = 30` and the
default `relevance_threshold = "auto"`. Run: .venv/bin/python bench/relevance_picks.py
"""

from __future__ import annotations

from pathlib import Path

from agent.evals.relevance import load_relevance_cases
from agent.select import select_papers

CASES = Path(__file__).resolve().parents[1] / "evals" / "relevance"


def main() -> None:
    for case in load_relevance_cases(CASES):
        selection = select_papers(case.papers, max_papers=30, interests=case.interests)
        picks = [p.id for p in selection.selected]
        hits = sum(pid in case.on_subject for pid in picks)
        print(
            f"{case.name:20} {len(case.on_subject):3} on subject: {len(picks):2} picks, "
            f"{hits / max(1, len(picks)):.2f} of them on subject, "
            f"{hits / len(case.on_subject):.2f} of the subject's papers"
        )


if __name__ == "__main__":
    main()
