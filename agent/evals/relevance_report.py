"""The relevance benchmark on the terminal: one row per profile and ranker, and the means."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from agent.evals.report import terminal_table
from agent.evals.sessions import DAYS, DOWN, SHIPPED, SHOWN, UP, SessionResult
from agent.render.view import usage_parts

if TYPE_CHECKING:
    from agent.evals.relevance_rerank import RerankRun


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


def rerank_usage(run: RerankRun) -> str:
    """The model, its calls, tokens and cost, as the engine counted them (the email footer's
    words, without its wall time)."""
    parts = usage_parts(run.usage, cost_known=run.cost_known, wall_time=False)
    return f"model {run.model}: {', '.join(parts)}"


def print_rerank(console: Console, run: RerankRun) -> None:
    """Day 1 offline next to day 1 after the model's rerank, a row per profile and the mean;
    the model's usage, and each profile where the rerank was not applied (and why)."""
    k = run.days[0].case.k if run.days else 10
    table = terminal_table(escape("Day 1 with the model's rerank ([llm] rerank)"))
    table.add_column("profile", no_wrap=True)
    table.add_column(f"p@{k} day 1\noffline → model", justify="right", no_wrap=True)
    table.add_column(f"nDCG@{k} day 1\noffline → model", justify="right", no_wrap=True)
    table.add_column("scored", justify="right", no_wrap=True)
    for day in run.days:
        table.add_row(
            escape(day.case.name),
            _pair(day.offline.precision, day.reranked.precision),
            _pair(day.offline.ndcg, day.reranked.ndcg),
            f"{day.scored}/{day.candidates}" + ("" if day.applied else " [bold red]✗[/]"),
        )
    days = run.days
    table.add_row(
        "mean",
        _pair(
            _mean([d.offline.precision for d in days]), _mean([d.reranked.precision for d in days])
        ),
        _pair(_mean([d.offline.ndcg for d in days]), _mean([d.reranked.ndcg for d in days])),
        "",
        end_section=False,
    )
    console.print(table)
    console.print(
        "offline: the shipped ranker's day 1 (the table above). model: its top candidates "
        "reordered by the model's scores, as `\\[llm] rerank` does in a daily run; scored: papers "
        "the model scored of those sent. The day-6 sessions stay offline."
    )
    console.print(escape(rerank_usage(run)), highlight=False)
    for day in days:
        if not day.applied:
            console.print(
                f"[bold red]not applied:[/] {escape(day.case.name)}: the model scored none of "
                "its candidates, so the offline order stands"
            )
        for note in day.notes:
            console.print(
                f"[yellow]degraded:[/] {escape(day.case.name)}: {escape(note.reason)} "
                f"({escape(note.fallback)})",
                highlight=False,
            )


__all__ = ["failures", "print_relevance", "print_rerank", "rerank_usage"]
