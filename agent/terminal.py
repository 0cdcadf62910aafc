"""What the terminal shows after a run: a short summary and where the files are.

Every value that is not a literal here (titles, ids, whys, model prose, source names and
reasons, paths, messages) goes through `shown`: no control sequence, no rich markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.padding import Padding
from rich.table import Table

from agent.core.console_text import shown
from agent.core.defang import defang
from agent.core.wording import duration, plural
from agent.models import Digest, ModelRun, SourceHealth, Theme, Usage
from agent.pipeline import DailyOutcome, RunOutcome
from agent.render.view import OFFLINE_MARK, written_parts

_STATUS_STYLE = {"ok": "green", "empty": "yellow", "failed": "bold red"}


def health_lines(health: tuple[SourceHealth, ...]) -> list[str]:
    lines = []
    for item in health:
        style = _STATUS_STYLE[item.status]
        detail = plural(item.count, "paper") if item.status == "ok" else (item.reason or "")
        if item.status == "ok" and item.reason:
            detail += f" ({item.reason})"
        if item.note:
            detail += f"; {item.note}"
        lines.append(f"  [{style}]{item.status:<6}[/] {shown(item.name)}: {shown(detail)}")
    return lines


def usage_line(usage: Usage, engine: str, run: ModelRun | None = None) -> str:
    """One line on the engine and its usage; the dialect when a model was asked; no cost
    estimate when a model had no price."""
    dialect = f" [{run.dialect} dialect]" if run is not None and run.dialect else ""
    if usage.calls == 0 and usage.cache_hits == 0:
        return f"Engine: {engine}{dialect}, no model calls"
    cost_known = run.cost_known if run is not None else True
    cost = (
        f"about ${usage.cost_usd:.4f}" if cost_known else "no cost estimate (no price configured)"
    )
    speed = ""
    if run is not None and run.tokens_per_second:
        speed = f"; the local model wrote {run.tokens_per_second:g} tokens/s"
        if run.estimated_seconds is not None:
            speed += f" (estimated after its first call: {duration(run.estimated_seconds)} more)"
    return (
        f"Engine: {engine}{dialect}: {plural(usage.calls, 'model call')} ({usage.cache_hits} from cache), "
        f"{usage.input_tokens:,} tokens in, {usage.output_tokens:,} out "
        f"({usage.cached_tokens:,} cached), {cost}{speed}"
    )


def batch_lines(run: ModelRun | None) -> list[str]:
    """What the Batch API did: requests, batches, the cost at the batch price, and each
    fallback to direct calls; nothing when the run did not use it."""
    batch = run.batch if run is not None else None
    if batch is None or not (batch.batches or batch.resumed or batch.direct or batch.notes):
        return []  # e.g. every answer came from the cache
    batches = plural(batch.batches, "batch", "batches")
    if batch.resumed:
        batches += f" (+{batch.resumed} resumed from an earlier run)"
    cost = (
        f"${batch.cost_usd:.4f} at {batch.price_factor:.0%} of the list price "
        f"(${batch.list_price_usd:.4f})"
        if run is not None and run.cost_known
        else "no cost estimate"
    )
    head = (
        f"Batch engine: {plural(batch.requests, 'request')} answered in {batches}, {cost}; "
        f"{plural(batch.direct, 'direct call')}"
    )
    return [head, *(f"  {note}" for note in batch.notes)]


def engine_line(reason: str, digest: Digest | None) -> str:
    """The run's first line: which engine, and the model its answers named when that is not
    the one asked for (a server that answers under its own name)."""
    run = digest.model_run if digest is not None else None
    if run is not None and run.model != run.requested and reason.endswith(run.requested):
        return f"{reason} (it answers as {run.model})"
    return reason


def print_daily_outcome(console: Console, outcome: RunOutcome) -> None:
    first = engine_line(outcome.engine_reason, outcome.digest)
    console.print(f"[bold]{shown(first)}[/]" if first else "")
    console.print("Sources:")
    for line in health_lines(outcome.health):
        console.print(line)
    digest = outcome.digest
    if digest is None:
        console.print(f"[yellow]{shown(outcome.message)}[/]")
        return
    selection = outcome.selection
    console.print(f"[bold]Digest {digest.date.isoformat()}[/]: {digest.shape_and_listed}")
    if selection is not None and selection.already_seen:
        skipped = plural(selection.already_seen, "paper")
        console.print(f"  {skipped} skipped: already in an earlier digest")
    theme_lines(console, digest)
    if digest.hint:
        console.print(f"[dim]{shown(digest.hint)}[/]")
    if digest.degraded:
        count = plural(len(digest.degraded), "fallback or repair", "fallbacks or repairs")
        console.print(f"[yellow]{count}; see digest.json[/]")
    console.print(
        shown(usage_line(digest.usage, digest.engine, digest.model_run))
        + f"; {outcome.seconds:.1f} s"
    )
    for line in batch_lines(digest.model_run):
        console.print(shown(line), soft_wrap=True)
    table = Table.grid(padding=(0, 2))
    for kind, path in outcome.files.items():
        table.add_row(kind, shown(str(path)))
    console.print("Files:")
    console.print(table)
    console.print(f"[green]{shown(outcome.message)}[/]")


def theme_lines(console: Console, digest: Digest, indent: str = "") -> None:
    """Each theme, and under it each paper's ID (for `digest rate`), title and why."""
    for theme in digest.themes:
        mark = " [yellow](degraded)[/]" if theme.degraded else ""
        console.print(f"{indent}  • {shown(defang(theme.title))} ({len(theme.papers)}){mark}")
        for blurb in theme.papers:
            paper_lines(console, digest, blurb.paper_id, indent)


def paper_lines(console: Console, digest: Digest, paper_id: str, indent: str = "") -> None:
    """One selected paper: its ID (for `digest rate`), title, and why it is here."""
    paper = digest.papers.get(paper_id)
    title = paper.title if paper else paper_id
    console.print(f"{indent}      [cyan]{shown(paper_id)}[/]  {shown(title)}", soft_wrap=True)
    why = digest.why.get(paper_id)
    if why:
        console.print(f"{indent}        [dim]{shown(why)}[/]", soft_wrap=True)


def _block(console: Console, markup: str, pad: tuple[int, int]) -> None:
    """`markup` with `pad` (blank lines above and below, spaces on the left): wrapped to the
    width on a terminal; to a pipe or a file, whole lines, never cut at the console's width."""
    if console.is_terminal:
        console.print(Padding(markup, pad))
        return
    lines, left = markup.split("\n"), " " * pad[1]
    blank = [""] * pad[0]
    console.print("\n".join([*blank, *(left + line for line in lines), *blank]), soft_wrap=True)


def print_digest(console: Console, digest: Digest) -> None:
    """A readable digest in the terminal (for `digest topic`)."""
    heading = f"Papers on “{digest.topic}”" if digest.topic else f"Digest {digest.date.isoformat()}"
    console.rule(f"[bold]{shown(heading)}")
    if digest.overview:
        _block(console, shown(defang(digest.overview)), (1, 2))
    _block(console, f"[italic]{shown(defang(digest.headline))}[/]", (0, 2))
    model_digest = digest.engine != "offline"
    for theme in digest.themes:
        title = shown(defang(theme.title))
        console.print(f"\n[bold cyan]{title}[/] ({len(theme.papers)}){_offline_mark(theme)}")
        if theme.summary:
            _block(console, shown(defang(theme.summary)), (0, 2))
        for blurb in theme.papers:
            paper = digest.papers[blurb.paper_id]
            _block(console, f"[bold]• {shown(paper.title)}[/]", (0, 2))
            if digest.why.get(blurb.paper_id):
                reason = f"{blurb.paper_id} · {digest.why[blurb.paper_id]}"
                _block(console, f"[dim]{shown(reason)}[/]", (0, 4))
            marked = model_digest and blurb.engine == "offline"
            mark = f" [yellow]\\[{OFFLINE_MARK}][/]" if marked else ""
            _block(console, shown(defang(blurb.blurb)) + mark, (0, 4))
            if paper.url:
                _block(console, f"[dim]{shown(paper.url)}[/]", (0, 4))
    if digest.also_new:
        console.print(f"\n[bold]Also found ({len(digest.also_new)})[/]")
        # One print for the whole list: a topic can list thousands, and each print costs.
        titles = (f"• {shown(digest.papers[paper_id].title)}" for paper_id in digest.also_new)
        _block(console, "\n".join(titles), (0, 2))
    console.print()
    for line in health_lines(digest.health):
        console.print(line)
    console.print(shown(usage_line(digest.usage, digest.engine, digest.model_run)))


def _offline_mark(theme: Theme) -> str:
    """ "  (offline engine: the title and the summary)": what the offline engine wrote of a
    model digest's degraded section (its blurbs are marked one by one)."""
    if not theme.degraded:
        return ""
    offline, _ = written_parts(theme)
    return f"  [yellow](offline engine: {shown(', '.join(offline))})[/]" if offline else ""


def print_readers_outcome(console: Console, several: DailyOutcome) -> None:
    """Several readers' run: the sources once, then one short block per reader."""
    console.print(f"[bold]{shown(several.engine_reason)}[/]" if several.engine_reason else "")
    console.print("Sources:")
    for line in health_lines(several.health):
        console.print(line)
    if several.shared.calls or several.shared.cache_hits:
        console.print(shown(f"Shared blurbs: {usage_line(several.shared, 'llm')}"))
    for result in several.results:
        console.print(f"[bold]Reader {shown(result.reader)}[/]")
        outcome = result.outcome
        if outcome is None:
            console.print(f"  [bold red]spooled:[/] {shown(result.spooled or '')}", soft_wrap=True)
            continue
        digest = outcome.digest
        if digest is not None:
            theme_lines(console, digest, indent="  ")
            console.print(f"  {shown(usage_line(digest.usage, digest.engine, digest.model_run))}")
            folder = next(iter(outcome.files.values()), None)
            if folder is not None:
                console.print(f"  files: {shown(str(folder.parent))}", soft_wrap=True)
        style = "green" if digest is not None else "yellow"
        console.print(f"  [{style}]{shown(outcome.message)}[/]", soft_wrap=True)
    console.print(f"{plural(len(several.results), 'reader')} in {several.seconds:.1f} s")
