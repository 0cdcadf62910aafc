"""The relevance benchmark on the terminal: one row per profile and ranker, and the means."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from agent.evals.report import terminal_table
from agent.evals.sessions import DAYS, DOWN, SHIPPED, SHOWN, UP, SessionResult


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _pair(before: float, after: float) -> str:
    return f"{before:.2f} → {after:.2f}"


def failures(results: Sequence[SessionResult]) -> list[str]:
    """What the shipped ranker misses: a day-1 bar, or ratings that made day 6 worse beyond the
    sessions' noise."""
    lines = []
    for result in results:
        if result.ranker != SHIPPED:
            continue
        case = result.case
        if not result.meets_bar:
            lines.append(
                f"{case.name}: precision@{case.k} on day 1 is {result.day1.precision:.2f}, "
                f"below its bar {case.min_precision:.2f} "
                f"({result.day1.reason(case.on_subject)})"
            )
        if result.ratings_hurt:
            (p, p_err), (n, n_err) = result.change(), result.change(ndcg=True)
            lines.append(
                f"{case.name}: ratings made day 6 worse beyond noise (precision@{case.k} "
                f"{p:+.3f} ± {p_err:.3f}, nDCG {n:+.3f} ± {n_err:.3f} over "
                f"{len(result.folds)} sessions)"
            )
    return lines


def print_relevance(console: Console, results: Sequence[SessionResult]) -> None:
    """The table (made to read at 80 columns), what each column means, and any failure."""
    k = results[0].case.k if results else 10
    table = terminal_table("Relevance: do the reader's papers come first, and do ratings help?")
    table.add_column("profile", no_wrap=True)
    table.add_column("ranker", no_wrap=True)
    table.add_column(f"p@{k}\nday 1", justify="right", no_wrap=True)
    table.add_column(f"p@{k} day 6\nlib → rated", justify="right", no_wrap=True)
    table.add_column(f"nDCG@{k}\nday 1", justify="right", no_wrap=True)
    table.add_column("nDCG day 6\nlib → rated", justify="right", no_wrap=True)
    names = list(dict.fromkeys(r.ranker for r in results))
    for index, result in enumerate(results):
        case = result.case
        row = len([r for r in results[:index] if r.case.name == case.name])
        label = {0: case.name, 1: f"{len(case.on_subject)} on subject"}.get(row, "")
        marks = "" if result.ranker != SHIPPED or result.passed else " [bold red]✗[/]"
        last = index + 1 == len(results) or results[index + 1].case.name != case.name
        table.add_row(
            escape(label),
            escape(result.ranker) + marks,
            f"{result.day1.precision:.2f}",
            _pair(result.before[0], result.after[0]),
            f"{result.day1.ndcg:.2f}",
            _pair(result.before[1], result.after[1]),
            end_section=last,
        )
    for name in names:
        mine = [r for r in results if r.ranker == name]
        table.add_row(
            "mean" if name == names[0] else "",
            escape(name),
            f"{_mean([r.day1.precision for r in mine]):.2f}",
            _pair(_mean([r.before[0] for r in mine]), _mean([r.after[0] for r in mine])),
            f"{_mean([r.day1.ndcg for r in mine]):.2f}",
            _pair(_mean([r.before[1] for r in mine]), _mean([r.after[1] for r in mine])),
        )
    console.print(table)
    sessions = len(results[0].folds) if results else 0
    console.print(
        f"day 1: the whole day ranked with the library only. day 6: new papers, ranked with the "
        f"library only → with {DAYS} days of ratings ({UP} up, {DOWN} down a day, from the top "
        f"{SHOWN} shown); the mean of {sessions} sessions (evals/README.md, 'Relevance')."
    )
    for line in failures(results):
        console.print(f"[bold red]below:[/] {escape(line)}")


__all__ = ["failures", "print_relevance"]
