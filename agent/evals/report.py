"""Show a comparison: a rich table on the terminal, and a Markdown or HTML report file with
per-case details and example blurbs side by side (Jinja2 templates in `templates/`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.errors import ConfigError
from agent.evals.cases import EvalCase
from agent.evals.compare import (
    BASELINE,
    CANDIDATE,
    OFFLINE,
    CaseCell,
    CaseComparison,
    Comparison,
    Row,
    Stat,
)
from agent.evals.results import CaseResult

TEMPLATES = Path(__file__).resolve().parent / "templates"
EXAMPLES_PER_CASE = 4
_FORMATS = {
    ".md": "report.md.j2",
    ".markdown": "report.md.j2",
    ".html": "report.html.j2",
    ".htm": "report.html.j2",
}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#<>])")


def markdown_escape(text: Any) -> str:
    """Text safe inside a Markdown table cell: specials backslashed, no HTML, one line."""
    plain = " ".join(str(text if text is not None else "").split())
    plain = plain.replace("&", "&amp;")
    escaped = _MD_SPECIAL.sub(r"\\\1", plain)
    return escaped.replace("\\<", "&lt;").replace("\\>", "&gt;")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = markdown_escape
    return env


# -- view model ---------------------------------------------------------------------------------


def _stat(stat: Stat | None, fmt: str) -> str:
    return stat.show(fmt) if stat is not None else "–"


def _row_view(row: Row) -> dict[str, Any]:
    fmt = row.scorer.fmt
    delta = row.delta
    return {
        "name": row.scorer.name,
        "description": row.scorer.description,
        "direction": "↑" if row.scorer.higher_is_better else "↓",
        "offline": _stat(row.offline, fmt),
        "baseline": _stat(row.baseline, fmt),
        "candidate": _stat(row.candidate, fmt),
        "delta": "–" if delta is None else ("+" if delta >= 0 else "") + fmt.format(delta),
        "allowed": "–" if row.allowed is None else fmt.format(row.allowed),
        "threshold": row.scorer.describe_threshold(),
        "status": row.status,
        "regressed": row.regressed,
        "improved": row.improved,
        "below_floor": row.below_floor,
    }


def _example_ids(case: EvalCase | None, results: Mapping[str, CaseResult]) -> list[str]:
    """Papers worth showing: those with notes, injected or gold-less first, then the rest."""
    ids = list(case.paper_ids) if case else list(next(iter(results.values())).blurbs())
    if case is None or len(ids) <= EXAMPLES_PER_CASE + 1:
        return ids[: EXAMPLES_PER_CASE + 1]
    first = [pid for pid in ids if pid in case.notes or pid not in case.gold]
    ordered = list(dict.fromkeys([*first, *ids]))
    return ordered[:EXAMPLES_PER_CASE]


def _cell_view(cell: CaseCell, variants: Sequence[str]) -> dict[str, Any]:
    """One scorer's row of a case: each variant's value, the bar, and whether it is met."""
    fmt = cell.scorer.fmt
    bar = "" if cell.bar is None else f"{'≥' if cell.scorer.higher_is_better else '≤'} {cell.bar:g}"
    return {
        "name": cell.scorer.name,
        "values": {v: fmt.format(cell.values[v]) if v in cell.values else "–" for v in variants},
        "bar": bar,
        "meets": {v: cell.meets(v) for v in variants},
        "broken": cell.broken,
        "reasons": {v: cell.reasons.get(v, "") for v in variants},
    }


def _example_views(
    case: EvalCase | None, results: Mapping[str, CaseResult], variants: Sequence[str]
) -> list[dict[str, Any]]:
    """A few papers of the case with each variant's blurb side by side."""
    titles = case.papers_by_id if case else {}
    blurbs = {v: r.blurbs() for v, r in results.items()}
    return [
        {
            "id": pid,
            "title": titles[pid].title if pid in titles else pid,
            "blurbs": {v: blurbs.get(v, {}).get(pid, "(no blurb)") for v in variants},
        }
        for pid in _example_ids(case, results)
    ]


def _degraded_views(results: Mapping[str, CaseResult]) -> dict[str, list[str]]:
    """Per variant, what fell back and why (only variants with a degraded summary)."""
    return {
        v: [f"{d.step} ({d.scope}): {d.reason} -> {d.fallback}" for d in r.summary.degraded]
        for v, r in results.items()
        if r.summary and r.summary.degraded
    }


def _case_view(
    compared: CaseComparison, case: EvalCase | None, variants: Sequence[str]
) -> dict[str, Any]:
    results = compared.results
    themes = {
        v: [(t.title, len(t.papers)) for t in (r.summary.themes if r.summary else ())]
        for v, r in results.items()
    }
    return {
        "name": compared.case,
        "description": case.description if case else "",
        "tags": list(case.tags) if case else [],
        "papers": len(case.papers) if case else 0,
        "cells": [_cell_view(cell, variants) for cell in compared.cells],
        "examples": _example_views(case, results, variants),
        "themes": themes,
        "headlines": {v: (r.summary.headline if r.summary else "") for v, r in results.items()},
        "errors": {v: r.error for v, r in results.items() if r.error},
        "degraded": _degraded_views(results),
        "broken": bool(compared.broken),
    }


def report_context(
    comparison: Comparison,
    cases: Sequence[EvalCase],
    *,
    meta: Mapping[str, Any],
    labels: Mapping[str, str],
) -> dict[str, Any]:
    by_name = {case.name: case for case in cases}
    variants = [v for v in (OFFLINE, BASELINE, CANDIDATE) if v in comparison.variants]
    shown = [v for v in (BASELINE, CANDIDATE) if v in variants] or variants
    return {
        "verdict": "REGRESSED" if comparison.exit_code else "PASS",
        "meta": {
            "engine": "?",
            "model": None,
            "cases": [],
            "repeat": 1,
            "judge": False,
            "started": None,
            **meta,
        },
        "labels": {v: labels.get(v, v) for v in variants},
        "variants": variants,
        "shown": shown,
        "rows": [_row_view(row) for row in comparison.rows],
        "regressions": comparison.regressions,
        "below_floor": comparison.below_floor,
        "notes": list(comparison.notes),
        "cases": [_case_view(c, by_name.get(c.case), variants) for c in comparison.cases],
    }


# -- outputs ------------------------------------------------------------------------------------


def write_report(
    path: Path,
    comparison: Comparison,
    cases: Sequence[EvalCase],
    *,
    meta: Mapping[str, Any],
    labels: Mapping[str, str],
) -> Path:
    """Write a Markdown (.md) or HTML (.html) report, chosen by the file's extension."""
    template = _FORMATS.get(path.suffix.lower())
    if template is None:
        raise ConfigError(f"--report {path}: use a .md or .html file name")
    text = (
        _environment()
        .get_template(template)
        .render(**report_context(comparison, cases, meta=meta, labels=labels))
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip() + "\n", encoding="utf-8")
    return path


NAME_WIDTH = 12  # longer scorer names are cut in the terminal table and listed in full below


def short_names(names: Sequence[str], width: int = NAME_WIDTH) -> dict[str, str]:
    """name -> itself when it fits in `width`, else a unique cut ending in "…"."""
    out: dict[str, str] = {}
    taken = {name for name in names if len(name) <= width}
    for name in names:
        if len(name) <= width:
            out[name] = name
            continue
        short, n = name[: width - 1] + "…", 1
        while short in taken:
            n += 1
            short = f"{name[: width - 1 - len(str(n))]}{n}…"
        taken.add(short)
        out[name] = short
    return out


def _delta_cell(row: Row, delta: str) -> str:
    """Δ, with its interval on a second line when there are repeats (the verdict's basis)."""
    if row.delta_interval is None:
        return delta
    low, high = (row.scorer.fmt.format(v) for v in row.delta_interval)
    return f"{delta}\n{low}..{high}"


def _short_status(row: Row) -> str:
    """The status in a few characters for the terminal (the report has the long one)."""
    if row.regressed:
        return "REGRESSED"
    word = "better" if row.improved else ("same" if row.delta is not None else "ok")
    if row.sureness.endswith("spans the threshold"):
        word += "?"
    return word + (" <floor" if row.below_floor else "")


def terminal_table(title: str) -> Table:
    """The eval tables' style on the terminal: a title on the left, a rule under the header."""
    return Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )


def print_table(console: Console, comparison: Comparison, *, labels: Mapping[str, str]) -> None:
    """The side-by-side table: one row per scorer, offline floor, baseline, candidate, delta.

    Made to read at 80 columns: long scorer names are cut (full names listed below), the
    variant columns show means (their intervals are in the report and the JSONL), and the Δ
    column carries the interval of the difference that the verdict is taken on."""
    table = terminal_table("Prompt eval: candidate vs baseline")
    table.add_column("scorer", no_wrap=True)
    has_offline = any(row.offline for row in comparison.rows)
    if has_offline:
        table.add_column("floor", justify="right", no_wrap=True)
    table.add_column(BASELINE, justify="right", no_wrap=True)
    table.add_column(CANDIDATE, justify="right", no_wrap=True)
    table.add_column("Δ", justify="right", no_wrap=True)
    table.add_column("allowed", justify="right", no_wrap=True)
    table.add_column("status")
    names = short_names([row.scorer.name for row in comparison.rows])
    for row in comparison.rows:
        view = _row_view(row)
        fmt = row.scorer.fmt
        for variant, stat in (
            (OFFLINE, row.offline),
            (BASELINE, row.baseline),
            (CANDIDATE, row.candidate),
        ):
            view[variant] = "–" if stat is None else fmt.format(stat.mean)
        status = escape(_short_status(row))
        if row.regressed:
            status = f"[bold red]{status}[/]"
        elif row.improved:
            status = status.replace("better", "[green]better[/]", 1)
        if row.below_floor:
            status = status.replace("<floor", "[yellow]<floor[/]")
        cells = [f"{escape(names[row.scorer.name])} {view['direction']}"]
        if has_offline:
            cells.append(view["offline"])
        delta = _delta_cell(row, view["delta"])
        cells += [view["baseline"], view["candidate"], delta, view["allowed"], status]
        table.add_row(*cells)
    console.print(table)
    console.print(
        "↑/↓: higher/lower is better; Δ: candidate - baseline (with repeats, its 95% CI below);"
        " same?: the CI spans the threshold; <floor: below the offline engine"
    )
    for name, short in names.items():
        if short != name:
            console.print(f"{escape(short)} = {escape(name)}")
    for variant in (BASELINE, CANDIDATE):
        if variant in labels:
            console.print(f"{variant}: {escape(labels[variant])}")
    for note in comparison.notes:
        console.print(f"note: {escape(note)}")
    for line in comparison.regressions:
        console.print(f"[bold red]regression:[/] {escape(line)}")


__all__ = ["markdown_escape", "print_table", "report_context", "short_names", "write_report"]
