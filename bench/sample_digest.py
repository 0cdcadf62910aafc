"""A realistic Digest built from the bundled sample day, for screenshots and size numbers.

Runs the real selection, offline engine and digest assembly, as `digest daily` does.
"""

from __future__ import annotations

import datetime as dt
import json

from agent.core.resources import demo_day_path, sample_corpus_path
from agent.models import Digest, Paper, SourceHealth

DATE = dt.date(2026, 11, 26)

# (theme title, summary, title keywords) — first match wins; the rest go to "Other methods".


def load_sample_papers() -> list[Paper]:
    try:
        from agent.sources.local import read_paper_file

        return read_paper_file(sample_corpus_path(), "sample")
    except ImportError:  # pragma: no cover - the local source not built yet
        with sample_corpus_path().open(encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        return [
            Paper(id=r["id"], title=r["title"], abstract=r["abstract"], source="sample")
            for r in rows
        ]


def sample_digest(*, in_themes: int | None = 30, with_extras: bool = False) -> Digest:
    """The sample day as `digest daily` builds it: the real selection, offline engine and
    digest assembly; `in_themes` papers get blurbs (None: all), the rest go to also_new.
    `with_extras` adds a failed source, as a day with an arXiv outage would show."""
    from agent.pipeline import SAMPLE_NOTICE, build_digest
    from agent.select import select_papers
    from agent.summarize import NO_MODEL_NOTICE
    from agent.summarize.offline import OfflineEngine

    papers = load_sample_papers()
    selection = select_papers(papers, max_papers=in_themes or len(papers))
    summary = OfflineEngine().summarize(selection.selected)
    health = (SourceHealth(name="sample", status="ok", count=len(papers)),)
    if with_extras:
        health += (
            SourceHealth(
                name="arxiv-rss:cs.CL",
                status="failed",
                reason="arxiv-rss:cs.CL: HTTP 503 after 4 attempts",
            ),
        )
    return build_digest(
        kind="daily",
        date=DATE,
        summary=summary,
        selection=selection,
        health=health,
        notices=(SAMPLE_NOTICE, NO_MODEL_NOTICE),
    )


HF_DAY = demo_day_path()  # the recorded Hugging Face day `make demo` shows


def hf_day_digest() -> Digest:
    """A real ordinary day: the 30 Hugging Face daily papers of 2026-06-12 (with their code
    repositories, stars and upvotes), through the same selection and offline engine."""
    from agent.pipeline import build_digest
    from agent.select import select_papers
    from agent.sources.local import read_paper_file
    from agent.summarize import NO_MODEL_NOTICE
    from agent.summarize.offline import OfflineEngine

    papers = read_paper_file(HF_DAY, "hf-daily")
    selection = select_papers(papers, max_papers=30)
    summary = OfflineEngine().summarize(selection.selected)
    health = (SourceHealth(name="hf-daily", status="ok", count=len(papers)),)
    return build_digest(
        kind="daily", date=dt.date(2026, 6, 12), summary=summary, selection=selection,
        health=health, notices=(NO_MODEL_NOTICE,),
    )  # fmt: skip
