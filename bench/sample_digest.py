"""A realistic Digest built from the bundled sample day, for screenshots and size numbers.

Uses the project's own offline engine when it is there (`agent.summarize.offline`), else a
small stand-in: papers grouped by keywords of their titles, blurbs from the abstracts (the
offline engine's `make_blurb` when importable, else the first sentence).
"""

from __future__ import annotations

import datetime as dt
import json

from agent.models import DegradedNote, Digest, Paper, PaperBlurb, SourceHealth, Theme, Usage
from agent.resources import sample_corpus_path

DATE = dt.date(2026, 11, 26)

# (theme title, summary, title keywords) — first match wins; the rest go to "Other methods".
_GROUPS = (
    (
        "Sentence embeddings and retrieval",
        "Turning sentences into vectors that find, match and rank text, often without labels.",
        ("sentence", "embedding", "retriev", "search", "semantic", "similarity"),
    ),
    (
        "Translation and languages beyond English",
        "Machine translation and models for languages other than English.",
        ("translation", "multilingual", "lingual", "portuguese", "romanian", "chinese", "arabic"),
    ),
    (
        "Surveys, reviews and model reports",
        "Overviews of a field and technical reports on newly released models.",
        ("survey", "review", "report", "comparative", "study"),
    ),
    (
        "Long context and attention",
        "Getting transformers to read longer inputs: attention variants, position encodings, memory.",
        (
            "context",
            "length",
            "long",
            "attention",
            "positional",
            "extrapolat",
            "memory",
            "infinite",
            "token",
        ),
    ),
    (
        "Cheaper inference: compression, sparsity and caching",
        "Making trained models smaller and faster to run, from pruning to KV-cache tricks.",
        (
            "prun",
            "compress",
            "quantiz",
            "kv",
            "sparse",
            "sparsity",
            "distill",
            "cache",
            "inference",
            "approximat",
            "efficient",
        ),
    ),
    (
        "Training at scale",
        "How very large models are trained: parallelism, mixtures of experts and scaling laws.",
        (
            "scal",
            "megatron",
            "parallel",
            "training",
            "pretrain",
            "pre-train",
            "moe",
            "mixture",
            "expert",
            "billion",
        ),
    ),
)
_OTHER = ("Other methods", "Papers that did not fit the themes above.")


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


def _blurb(paper: Paper) -> str:
    try:
        from agent.summarize.offline_text import make_blurb

        return make_blurb(paper)
    except ImportError:  # pragma: no cover
        first = paper.abstract.split(". ")[0].strip()
        return (first if first.endswith(".") else first + ".") if first else paper.title


def sample_digest(*, in_themes: int | None = None, with_extras: bool = True) -> Digest:
    """The sample day as a digest; `in_themes` papers get blurbs, the rest go to also_new."""
    papers = load_sample_papers()
    chosen = papers if in_themes is None else papers[:in_themes]
    rest = [] if in_themes is None else papers[in_themes:]
    buckets: dict[str, list[Paper]] = {g[0]: [] for g in _GROUPS}
    buckets[_OTHER[0]] = []
    for paper in chosen:
        title = paper.title.lower()
        name = next((g[0] for g in _GROUPS if any(k in title for k in g[2])), _OTHER[0])
        buckets[name].append(paper)
    summaries = {g[0]: g[1] for g in _GROUPS} | {_OTHER[0]: _OTHER[1]}
    themes = []
    for name, members in buckets.items():
        if not members:
            continue
        themes.append(
            Theme(
                title=name,
                summary=summaries[name],
                papers=tuple(PaperBlurb(paper_id=p.id, blurb=_blurb(p)) for p in members),
                engine="offline",
                degraded=with_extras and name == "Surveys, reviews and model reports",
            )
        )
    themes.sort(key=lambda t: (t.title == _OTHER[0], -len(t.papers)))
    degraded: tuple[DegradedNote, ...] = ()
    notices: tuple[str, ...] = ()
    health = (SourceHealth(name="sample", status="ok", count=len(papers)),)
    if with_extras:
        degraded = (
            DegradedNote(
                step="blurbs",
                scope="Surveys, reviews and model reports",
                reason="the model's answer left out two papers twice",
                fallback="offline engine",
            ),
        )
        notices = ("This is the bundled sample day, not today's papers.",)
        health += (
            SourceHealth(
                name="arxiv-rss",
                status="failed",
                reason="HTTP 503 from rss.arxiv.org after 4 attempts",
            ),
            SourceHealth(name="hf-daily", status="empty"),
        )
    n = sum(len(t.papers) for t in themes)
    first, second, third = (t.title.lower() for t in themes[:3])
    headline = (
        f"{n} papers explained today. The biggest group is on {first}; "
        f"{second} and {third} follow. Start with the first theme: it has the most new results."
    )
    return Digest(
        kind="daily",
        date=DATE,
        engine="offline",
        headline=headline,
        themes=tuple(themes),
        also_new=tuple(p.id for p in rest),
        papers={p.id: p for p in papers},
        health=health,
        degraded=degraded,
        notices=notices,
        usage=Usage(wall_seconds=1.84),
    )
