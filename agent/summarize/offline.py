"""The offline summarize engine: themes, blurbs, headline and overview without a model.

Deterministic and fast. Grouping is TF-IDF (unigrams and bigrams, sublinear tf) reduced with
LSA and cut from an average-linkage tree (see `offline_grouping`); blurbs are the paper's own
"we propose" and results sentences, tidied (see `offline_text`). The LLM engine also uses
`nearest_themes` to repair model output and the whole engine as its last fallback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from agent.models import Paper, PaperBlurb, Summary, Theme
from agent.summarize.offline_grouping import (
    OTHER,
    centroid_similarity,
    cluster,
    contrast_terms,
    ranked_terms,
    title_phrases,
    vectorize,
)
from agent.summarize.offline_text import (
    analyze,
    capitalize_first,
    join_phrases,
    make_blurb,
    paper_text,
    short_name,
    split_sentences,
    term_set,
)

OTHER_TITLE = "Other"
_PHRASE_SAMPLE = 300  # key phrases of a big theme come from its first (top-ranked) papers

__all__ = [
    "OTHER_TITLE",
    "OfflineEngine",
    "ThemeDraft",
    "group_papers",
    "nearest_themes",
    "write_blurb",
    "write_headline",
    "write_overview",
    "write_theme_summary",
]


@dataclass(frozen=True)
class ThemeDraft:
    title: str
    summary: str
    paper_ids: tuple[str, ...]


# ----------------------------------------------------------------------------- grouping


def _unique(papers: Sequence[Paper]) -> list[Paper]:
    seen: set[str] = set()
    out = []
    for p in papers:
        if p.id not in seen:
            seen.add(p.id)
            out.append(p)
    return out


def _title_from(phrases: Sequence[str], taken: set[str]) -> str:
    """'Pruning, quantization and distillation' or 'Sentence embeddings and contrastive
    learning'; never repeats a title already used."""
    candidates = []
    if len(phrases) >= 3 and sum(len(p.split()) for p in phrases[:3]) <= 4:
        candidates.append(f"{phrases[0]}, {phrases[1]} and {phrases[2]}")
    if len(phrases) >= 2:
        candidates += [f"{phrases[0]} and {p}" for p in phrases[1:]]
    if phrases:
        candidates.append(phrases[0])
    for c in candidates:
        title = capitalize_first(c)
        if len(title.split()) > 7 and c != phrases[0]:
            continue  # too long to read as a title: fall back to the first phrase alone
        if title.lower() not in taken and title.lower() != OTHER_TITLE.lower():
            return title
    base = capitalize_first(phrases[0]) if phrases else "More papers"
    i = 2
    while f"{base} ({i})".lower() in taken:
        i += 1
    return f"{base} ({i})"


def group_papers(papers: Sequence[Paper], *, max_themes: int = 12) -> list[ThemeDraft]:
    """Deterministic; every paper id exactly once; "Other" last if present; themes ordered by
    size desc then title. Papers keep their input order within a theme."""
    papers = _unique(papers)
    if not papers:
        return []
    # One BLAS thread: the matrices are small and thread hand-offs cost more than they save
    # (measured 2x slower wall time on a busy 2-core machine).
    with threadpool_limits(limits=1, user_api="blas"):
        vectors = vectorize([paper_text(p) for p in papers])
        labels = cluster(vectors, max_themes=max(1, max_themes))
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels.tolist()):
        groups.setdefault(label, []).append(i)
    real = [g for g in groups if g != OTHER]
    if len(groups) == 1:  # nothing to contrast with: use the bundled background corpus
        texts = [paper_text(p) for p in papers[:_PHRASE_SAMPLE]]
        terms = {next(iter(groups)): ranked_terms(texts, None)}
    else:
        terms = contrast_terms(vectors, labels)
    drafts: list[ThemeDraft] = []
    taken: set[str] = set()
    # Title the biggest groups first so they get the plainest titles.
    for label in sorted(real, key=lambda g: (-len(groups[g]), groups[g][0])):
        members = [papers[i] for i in groups[label]]
        phrases = title_phrases(terms.get(label, []), members, 3) or [_fallback_phrase(members)]
        title = _title_from(phrases, taken)
        taken.add(title.lower())
        drafts.append(
            ThemeDraft(title, write_theme_summary(title, members), tuple(p.id for p in members))
        )
    drafts.sort(key=lambda d: (-len(d.paper_ids), d.title))
    if OTHER in groups:
        members = [papers[i] for i in groups[OTHER]]
        summary = write_theme_summary(OTHER_TITLE, members)
        drafts.append(ThemeDraft(OTHER_TITLE, summary, tuple(p.id for p in members)))
    return drafts


def _fallback_phrase(papers: Sequence[Paper]) -> str:
    name = short_name(papers[0].title)
    return f"{name} and related work" if name else "Papers of the day"


# ------------------------------------------------------------------------ sentences


def write_blurb(paper: Paper) -> str:
    """One to three plain sentences on what the paper does and finds; at most 60 words."""
    return make_blurb(paper)


def _examples(papers: Sequence[Paper], phrases: Sequence[str], limit: int = 3) -> list[str]:
    """Named systems from the papers that best match the theme's phrases (input order on ties)."""
    keys = [set(analyze(ph)) for ph in phrases]
    scored = []
    for i, p in enumerate(papers):
        name = short_name(p.title)
        if not name:
            continue
        terms = term_set(paper_text(p))
        scored.append((-sum(len(k & terms) for k in keys), i, name))
    names: list[str] = []
    for _, _, name in sorted(scored):
        if name not in names:
            names.append(name)
        if len(names) == limit:
            break
    return names


def _key_phrases(
    title: str, papers: Sequence[Paper], count: int, *, min_share: float = 0.15
) -> list[str]:
    papers = papers[:_PHRASE_SAMPLE]
    texts = [paper_text(p) for p in papers]
    title_words = set(analyze(title))
    scored = [
        (t, s)
        for t, s in ranked_terms(texts, None, limit=40)
        if not (set(t.split()) - {"of"}) & title_words
    ]
    return title_phrases(scored, papers, count, min_share=min_share)


def write_theme_summary(title: str, papers: Sequence[Paper]) -> str:
    """One plain sentence on what the papers of a theme are about, with examples."""
    papers = list(papers)
    if not papers:
        return "No papers."
    phrases = _key_phrases(title, papers, 3)
    about = join_phrases(phrases)
    names = _examples(papers[:_PHRASE_SAMPLE], [title, *phrases])
    if title == OTHER_TITLE:
        lead = "Papers that fit no larger theme"
        if about:
            lead += f", touching on {about}"
        return lead + "."
    if len(papers) == 1:
        head = f"A single paper: {papers[0].title.rstrip('.')}"
        return head + "."
    count = f"{len(papers)} papers"
    lead = f"{count} on {title[:1].lower() + title[1:] if _lower_ok(title) else title}"
    if about:
        lead += f", covering {about}"
    if names:
        lead += f", for example {join_phrases(names)}"
    return lead + "."


def _lower_ok(title: str) -> bool:
    """Whether the first letter of a title can go lower case inside a sentence ('KV' cannot)."""
    first = title.split(" ", 1)[0]
    return len(first) > 1 and first[1:].islower() and first[:1].isupper()


def _inline(title: str) -> str:
    return title[:1].lower() + title[1:] if _lower_ok(title) else title


def _count(n: int, word: str = "paper") -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def write_headline(themes: Sequence[ThemeDraft], papers_by_id: Mapping[str, Paper]) -> str:
    """'Today at a glance': 2-3 sentences naming the biggest themes and counts."""
    total = sum(len(t.paper_ids) for t in themes)
    if total == 0:
        return "No new papers today."
    named = sorted(
        (t for t in themes if t.title != OTHER_TITLE), key=lambda t: (-len(t.paper_ids), t.title)
    )
    other = total - sum(len(t.paper_ids) for t in named)
    papers = _count(total, "new paper")
    if total == 1:
        only = papers_by_id.get(themes[0].paper_ids[0])
        if only is not None:
            return f'One new paper today: "{only.title.rstrip(".")}".'
    if not named:
        return f"{papers} today, none forming a clear theme."
    rest = ""
    if other:
        verb = "is" if other == 1 else "are"
        rest = f" {_count(other)} did not fit a theme and {verb} under Other."
    if len(named) == 1:
        first = f"{papers} today, {'mostly' if other else 'all'} about {_inline(named[0].title)}."
        if other:
            return first + rest
        lead = papers_by_id.get(named[0].paper_ids[0])
        if lead is not None:
            return f'{first} First on the list: "{lead.title.rstrip(".")}".'
        return first
    top = named[:3]
    parts = [f"{_inline(top[0].title)} ({_count(len(top[0].paper_ids))})"]
    parts += [f"{_inline(t.title)} ({len(t.paper_ids)})" for t in top[1:]]
    first = f"{papers} today in {_count(len(named), 'theme')}."
    second = capitalize_first(f"The biggest are {join_phrases(parts)}.")
    return f"{first} {second}{rest}"


def write_overview(
    topic: str, themes: Sequence[ThemeDraft], papers_by_id: Mapping[str, Paper]
) -> str:
    """For `digest topic`: a short paragraph on what these papers say about the topic."""
    ids = [i for t in themes for i in t.paper_ids if i in papers_by_id]
    papers = [papers_by_id[i] for i in ids]
    topic = " ".join(topic.split()) or "this topic"
    if not papers:
        return f'No papers matched "{topic}".'
    sentences = [f'{_count(len(papers))} matched "{topic}".']
    named = sorted(
        (t for t in themes if t.title != OTHER_TITLE), key=lambda t: (-len(t.paper_ids), t.title)
    )
    if len(named) > 1:
        parts = [f"{_inline(t.title)} ({len(t.paper_ids)})" for t in named[:3]]
        sentences.append(f"Most of them are about {join_phrases(parts)}.")
    elif named:
        sentences.append(f"They centre on {_inline(named[0].title)}.")
    mentioned = " ".join([topic, *(t.title for t in named[:3])])
    phrases = _key_phrases(mentioned, papers, 3)
    if phrases:
        sentences.append(f"Recurring ideas include {join_phrases(phrases)}.")
    lead = _closest_to(topic, papers)
    found = split_sentences(make_blurb(lead))
    if found:
        sentences.append(f'A good place to start is "{lead.title.rstrip(".")}": {found[0]}')
    return " ".join(sentences)


def _closest_to(topic: str, papers: Sequence[Paper]) -> Paper:
    """The paper that says most about the topic (title words count double); ties keep the
    input (ranked) order."""
    wanted = term_set(topic)
    best, best_score = papers[0], 0
    for p in papers[:_PHRASE_SAMPLE]:
        score = len(wanted & term_set(paper_text(p))) + len(wanted & term_set(p.title))
        if score > best_score:
            best, best_score = p, score
    return best


# -------------------------------------------------------------------------- repair aid


def nearest_themes(
    papers: Sequence[Paper],
    themes: Sequence[Sequence[Paper]],
    *,
    min_similarity: float = 0.05,
) -> list[int | None]:
    """For repairing model output: index of the most similar theme (TF-IDF cosine) per paper,
    None when nothing is similar enough (caller puts it in 'Other')."""
    if not papers:
        return []
    if not themes or not any(themes):
        return [None] * len(papers)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            sims = centroid_similarity(papers, themes)
    except ValueError:  # no usable terms at all (e.g. one-letter titles, empty abstracts)
        return [None] * len(papers)
    out: list[int | None] = []
    for row in sims:
        best = int(np.argmax(row))
        out.append(best if float(row[best]) >= min_similarity else None)
    return out


# ------------------------------------------------------------------------------ engine


class OfflineEngine:
    """Summarize with no model: themes with blurbs, headline, and an overview for topics."""

    name = "offline"

    def __init__(self, *, max_themes: int = 12) -> None:
        self.max_themes = max_themes

    def summarize(self, papers: Sequence[Paper], *, topic: str | None = None) -> Summary:
        """Themes (Theme with PaperBlurb engine='offline'), headline, overview when topic given;
        engine='offline'."""
        papers = _unique(papers)
        if not papers:
            overview = f'No papers matched "{topic}".' if topic else None
            return Summary(themes=(), headline="No new papers today.", overview=overview)
        by_id = {p.id: p for p in papers}
        drafts = group_papers(papers, max_themes=self.max_themes)
        themes = tuple(
            Theme(
                title=d.title,
                summary=d.summary,
                papers=tuple(
                    PaperBlurb(paper_id=i, blurb=write_blurb(by_id[i]), engine="offline")
                    for i in d.paper_ids
                ),
                engine="offline",
            )
            for d in drafts
        )
        overview = write_overview(topic, drafts, by_id) if topic else None
        return Summary(
            themes=themes,
            headline=write_headline(drafts, by_id),
            overview=overview,
            engine="offline",
        )
