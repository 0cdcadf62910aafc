"""Honest slots on the relevance profiles: how many papers are picks on day 1 (the rest go to
"Also new"), and how many of them are on the reader's subject (prints numbers).

Each profile of evals/relevance ranks its whole labelled day with `max_papers = 30` and the
default `relevance_threshold = "auto"`. Then each of the profiles' library papers alone, as a
one-paper library, against the same day with the threshold and without it (`"off"`: 30 picks,
what a one-paper library got until stop 36). Run: .venv/bin/python bench/relevance_picks.py
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from agent.evals.relevance import RelevanceCase, load_relevance_cases
from agent.select import Interests, select_papers
from agent.select.core import Threshold

CASES = Path(__file__).resolve().parents[1] / "evals" / "relevance"


def _picks(case: RelevanceCase, interests: Interests) -> tuple[int, int]:
    """(picks, picks on the case's subject) of a 30-paper digest of the case's day."""
    picks = [p.id for p in select_papers(case.papers, max_papers=30, interests=interests).selected]
    return len(picks), sum(pid in case.on_subject for pid in picks)


def one_paper_libraries(cases: list[RelevanceCase]) -> None:
    totals: dict[Threshold, list[int]] = {"auto": [0, 0], "off": [0, 0]}
    libraries = 0
    for case in cases:
        for entry in case.interests.profile.library:
            profile = dataclasses.replace(case.interests.profile, library=(entry,))
            for threshold, total in totals.items():
                interests = dataclasses.replace(
                    case.interests, profile=profile, threshold=threshold
                )
                picks, hits = _picks(case, interests)
                total[0] += picks
                total[1] += hits
            libraries += 1
    print(f"\none-paper libraries ({libraries}, each profile's papers alone): per day")
    for threshold, (picks, hits) in totals.items():
        print(
            f"  threshold {threshold:4}: {picks / libraries:4.1f} picks, "
            f"{hits / max(1, picks):.2f} of them on subject, {hits / libraries:4.1f} on subject"
        )


def main() -> None:
    cases = load_relevance_cases(CASES)
    for case in cases:
        picks, hits = _picks(case, case.interests)
        print(
            f"{case.name:20} {len(case.on_subject):3} on subject: {picks:2} picks, "
            f"{hits / max(1, picks):.2f} of them on subject, "
            f"{hits / len(case.on_subject):.2f} of the subject's papers"
        )
    one_paper_libraries(cases)


if __name__ == "__main__":
    main()
