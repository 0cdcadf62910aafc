"""The offline summarize engine: themes, blurbs, headline and overview without a model.

Deterministic and fast. A day of 8-60 papers is grouped by what many cuts of its TF-IDF trees
agree on (see `daygroups`), a bigger day by TF-IDF reduced with LSA and cut from an
average-linkage tree (see `grouping`); each theme is labelled by a noun phrase its papers use
(see `labels`); blurbs are the paper's own "what it does" and results sentences, made to stand
alone (see `blurbs`). The LLM engine also uses
`nearest_themes` to repair model output and the whole engine as its last fallback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from agent.core.wording import join_phrases
from agent.models import Paper, PaperBlurb, Summary, Theme
from agent.summarize.drafts import OTHER_TITLE, ThemeDraft
from agent.summarize.offline.blurbs import make_blurb, split_sentences
from agent.summarize.offline.daygroups import closest_group, day_groups, is_ordinary_day
from agent.summarize.offline.grouping import (
    OTHER,
    centroid_similarity,
    cluster,
    vectorize,
)
from agent.summarize.offline.labels import (
    GENERIC_LABELS,
    candidates,
    choose_label,
    label_terms,
    written,
)
from agent.summarize.offline.phrases import doc_count, phrase_term, same_topic
from agent.summarize.offline.text import (
    analyze,
    capitalize_first,
    paper_text,
    short_name,
    term_set,
)
from agent.summarize.offline.vectors import one_blas_thread

_PHRASE_SAMPLE = 300  # key phrases of a big theme come from its first (top-ranked) papers


# ----------------------------------------------------------------------------- grouping


def _unique(papers: Sequence[Paper]) -> list[Paper]:
    seen: set[str] = set()
    out = []
    for p in papers:
        if p.id not in seen:
            seen.add(p.id)
            out.append(p)
    return out


def group_papers(papers: Sequence[Paper], *, max_themes: int = 12) -> list[ThemeDraft]:
    """Deterministic; every paper id exactly once; "Other" last if present; themes ordered by
    size desc then title. Papers keep their input order within a theme."""
    papers = _unique(papers)
    if not papers:
        return []
    together = None
    with one_blas_thread():
        if is_ordinary_day(len(papers)):
            labels, together = day_groups(papers, max_themes=max(1, max_themes))
        else:
            labels = cluster(
                vectorize([paper_text(p) for p in papers]), max_themes=max(1, max_themes)
            )
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels.tolist()):
        groups.setdefault(label, []).append(i)
    real = [g for g in groups if g != OTHER]
    titled: list[tuple[str, list[int]]] = []
    taken = label_terms(OTHER_TITLE)
    other = list(groups.get(OTHER, []))
    # Label the biggest groups first so they get the plainest labels.
    for label in sorted(real, key=lambda g: (-len(groups[g]), groups[g][0])):
        members = [papers[i] for i in groups[label]]
        title = theme_title(members, papers, taken, contrast=len(groups) > 1)
        if title is None:  # nothing names it: not a theme a reader would recognise
            other += _rehome(groups[label], titled, together, papers)
            continue
        taken |= label_terms(title)
        titled.append((title, list(groups[label])))
    drafts = [
        ThemeDraft(title, _summary(title, [papers[i] for i in sorted(ids)]), _ids(papers, ids))
        for title, ids in titled
    ]
    drafts.sort(key=lambda d: (-len(d.paper_ids), d.title))
    if other and not drafts:  # one theme of all, named by what the day shares
        members = [papers[i] for i in sorted(other)]
        title = theme_title(members, papers, taken, contrast=False) or _names_title(members)
        if title is not None:
            return [ThemeDraft(title, _summary(title, members), tuple(p.id for p in members))]
    if other:
        members = [papers[i] for i in sorted(other)]
        summary = write_theme_summary(OTHER_TITLE, members)
        drafts.append(ThemeDraft(OTHER_TITLE, summary, tuple(p.id for p in members)))
    return drafts


def _rehome(
    ids: list[int],
    titled: list[tuple[str, list[int]]],
    together: np.ndarray | None,
    papers: Sequence[Paper],
) -> list[int]:
    """Papers of a group with no label join the labelled theme they were most often grouped
    with (see `daygroups.closest_group`) when they use a phrase of its label; the rest are
    returned, for Other."""
    if together is None:
        return ids
    left = []
    for i in ids:
        g = closest_group(i, [members for _, members in titled], together)
        text = [f"{papers[i].title}\n{papers[i].abstract}"]
        if g is not None and any(doc_count(part, text) for part in _label_parts(titled[g][0])):
            titled[g][1].append(i)
        else:
            left.append(i)
    return left


def _label_parts(title: str) -> list[str]:
    return [part for part in re.split(r", | and ", title) if part]


def _ids(papers: Sequence[Paper], ids: list[int]) -> tuple[str, ...]:
    return tuple(papers[i].id for i in sorted(ids))


def theme_title(
    members: Sequence[Paper], day: Sequence[Paper], taken: set[str], *, contrast: bool = True
) -> str | None:
    """A theme's label (see `labels`); when no phrase covers half of its papers, the systems
    its papers name ('EnergonAI, Vega-MT and Yi'); None when there is neither."""
    title = choose_label(candidates(members, day, contrast=contrast), members, taken)
    if title is None:
        names = _names_title(members)
        title = names if names and not label_terms(names) & taken else None
    return title


def write_theme_title(members: Sequence[Paper], day: Sequence[Paper]) -> str | None:
    """A label for a theme a model left untitled (or titled with junk): what its papers share,
    as the offline grouping names its own themes, else the systems they name; None when
    nothing names it."""
    with one_blas_thread():
        return theme_title(members, day, set(), contrast=len(members) < len(day))


def _names_title(members: Sequence[Paper]) -> str | None:
    """'EnergonAI, Vega-MT and Yi': the systems the papers' titles announce, when two or more
    do (at most three, in paper order; see `_system_name`)."""
    names: list[str] = []
    for p in members:
        name = _system_name(p.title)
        if name and name.lower() not in (n.lower() for n in names):
            names.append(name)
    return join_phrases(names[:3]) if len(names) >= 2 else None


def _system_name(title: str) -> str | None:
    """'Keyformer: KV Cache ...' -> 'Keyformer' (one word, or a capital inside or a digit);
    'The birth of Romanian BERT' -> 'BERT' (a name in the title, not 'LLMs' or 'GPT')."""
    head = short_name(title) or ""
    if head and (" " not in head or re.search(r"\w[A-Z0-9]", head)):
        return head
    for token in re.findall(r"[A-Za-z][\w.+-]*[\w+]", title):
        if re.search(r"\w[A-Z0-9]", token) and phrase_term(token) not in GENERIC_LABELS:
            return token
    return None


def _summary(title: str, members: Sequence[Paper]) -> str:
    """The theme's sentence; a theme named by its systems is not 'on' them."""
    return write_theme_summary(title, members, about=title != _names_title(members))


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
    """Topics the papers share beyond the title: noun phrases of two or more of them (and of
    at least `min_share`), best first (see `labels`), none that the title already says."""
    papers = papers[:_PHRASE_SAMPLE]
    said = [title]
    out: list[str] = []
    for c in candidates(papers, papers, contrast=False):
        if len(c.papers) < min_share * len(papers) or any(same_topic(c.term, s) for s in said):
            continue
        form = written(c.term, papers)
        if form:
            out.append(form)
            said.append(form)
        if len(out) == count:
            break
    return out


def write_theme_summary(title: str, papers: Sequence[Paper], *, about: bool = True) -> str:
    """One plain sentence on what the papers of a theme are about, with examples:
    '9 papers on sentence embeddings, covering contrastive learning and semantic search, for
    example SGPT, Sentence-T5 and TSDAE.' The 'covering' list never repeats the title or an
    example's name; with `about` False the title is not a topic (a theme named by its
    systems) and the sentence does not say the papers are on it."""
    papers = list(papers)
    if not papers:
        return "No papers."
    phrases = _key_phrases(title, papers, 5)
    names = _examples(papers[:_PHRASE_SAMPLE], [title, *phrases[:3]])
    phrases = [p for p in phrases if not any(same_topic(p, n) for n in names)][:3]
    covering = join_phrases(phrases)
    if title == OTHER_TITLE:
        lead = "Papers that fit no larger theme"
        if covering:
            lead += f", touching on {covering}"
        return lead + "."
    if len(papers) == 1:
        head = f"A single paper: {papers[0].title.rstrip('.')}"
        return head + "."
    lead = _count(len(papers))
    if about:
        lead += _on_title(title, papers)
    if covering:
        lead += f", covering {covering}"
    if names:
        lead += f", for example {join_phrases(names)}"
    return lead + "."


def _on_title(title: str, papers: Sequence[Paper]) -> str:
    """' on speculative decoding' when most papers say so; else how many do, so the summary
    never claims more than the papers: ', 3 of them on diffusion models and 2 on tokenizers'."""
    docs = [f"{p.title}\n{p.abstract}" for p in papers[:_PHRASE_SAMPLE]]
    parts = [p for p in re.split(r", | and ", title) if p]
    counts = [doc_count(p, docs) for p in parts]
    if not all(counts) or min(counts) * 2 >= len(docs):
        return f" on {_inline(title)}"
    if sum(counts) > len(docs):  # a paper on both: counts that read as a split would add up wrong
        said = [
            f"{_inline(p) if i == 0 else p} ({n})" for i, (p, n) in enumerate(zip(parts, counts))
        ]
        return " on " + join_phrases(said)
    said = [f"{n} on {_inline(p) if i == 0 else p}" for i, (p, n) in enumerate(zip(parts, counts))]
    said[0] = said[0].replace(" on ", " of them on ", 1)
    return ", " + join_phrases(said)


def _lower_ok(title: str) -> bool:
    """Whether the first letter of a title can go lower case inside a sentence ('KV' cannot)."""
    first = title.split(" ", 1)[0]
    return len(first) > 1 and first[1:].islower() and first[:1].isupper()


def _inline(title: str) -> str:
    return title[:1].lower() + title[1:] if _lower_ok(title) else title


def _count(n: int, word: str = "paper") -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def write_headline(
    themes: Sequence[ThemeDraft],
    papers_by_id: Mapping[str, Paper],
    *,
    topic: str | None = None,
    chosen_from: int | None = None,
) -> str:
    """'Today at a glance': 2-3 sentences naming the biggest themes and counts. For a topic
    digest the papers are not 'today's' but the ones that matched: '40 papers matched "long
    context" in 4 themes. ...'. When the themes hold only some of the papers (`chosen_from`,
    the day's new papers or the topic's matches), both counts are given: '207 new papers today,
    30 of them summarised here in 8 themes. ...'."""
    total = sum(len(t.paper_ids) for t in themes)
    whole = chosen_from if chosen_from is not None and chosen_from > total else None
    topic = " ".join(topic.split()) if topic is not None else None
    if total == 0:
        return f'No papers matched "{topic}".' if topic is not None else "No new papers today."
    named = sorted(
        (t for t in themes if t.title != OTHER_TITLE), key=lambda t: (-len(t.paper_ids), t.title)
    )
    other = total - sum(len(t.paper_ids) for t in named)
    # 'N new papers today' for the day's digest, 'N papers matched "topic"' for a topic.
    papers = _count(total, "new paper") + " today"
    if topic is not None:
        papers = f'{_count(total)} matched "{topic}"'
    if whole is not None:
        papers = f"{whole} new papers today, {total} of them summarised here"
        if topic is not None:
            closest = "the closest" if total == 1 else f"the {total} closest"
            papers = f'{whole} papers matched "{topic}", {closest} summarised here'
    elif total == 1:
        only = papers_by_id.get(themes[0].paper_ids[0])
        if only is not None:
            if topic is not None:
                return f'One paper matched "{topic}": "{only.title.rstrip(".")}".'
            return f'One new paper today: "{only.title.rstrip(".")}".'
    if not named:
        return f"{papers}, none forming a clear theme."
    rest = ""
    if other:
        verb = "is" if other == 1 else "are"
        rest = f" {_count(other)} did not fit a theme and {verb} under Other."
    if len(named) == 1:
        first = f"{papers}, {'mostly' if other else 'all'} about {_inline(named[0].title)}."
        if other:
            return first + rest
        lead = papers_by_id.get(named[0].paper_ids[0])
        if lead is not None:
            return f'{first} First on the list: "{lead.title.rstrip(".")}".'
        return first
    top = named[:3]
    parts = [f"{_inline(top[0].title)} ({_count(len(top[0].paper_ids))})"]
    parts += [f"{_inline(t.title)} ({len(t.paper_ids)})" for t in top[1:]]
    first = f"{papers} in {_count(len(named), 'theme')}."
    second = capitalize_first(f"The biggest are {join_phrases(parts)}.")
    return f"{first} {second}{rest}"


def write_overview(
    topic: str,
    themes: Sequence[ThemeDraft],
    papers_by_id: Mapping[str, Paper],
    *,
    chosen_from: int | None = None,
) -> str:
    """For `digest topic`: a short paragraph on what these papers say about the topic (of
    `chosen_from` matches, when the themes hold only the closest)."""
    ids = [i for t in themes for i in t.paper_ids if i in papers_by_id]
    papers = [papers_by_id[i] for i in ids]
    topic = " ".join(topic.split()) or "this topic"
    if not papers:
        return f'No papers matched "{topic}".'
    sentences = [f'{_count(len(papers))} matched "{topic}".']
    if chosen_from is not None and chosen_from > len(papers):
        closest = "the closest is" if len(papers) == 1 else f"the {len(papers)} closest are"
        sentences = [f'{chosen_from} papers matched "{topic}"; {closest} summarised here.']
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
        with one_blas_thread():
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

    def summarize(
        self, papers: Sequence[Paper], *, topic: str | None = None, total: int | None = None
    ) -> Summary:
        """Themes (Theme with PaperBlurb engine='offline'), headline, overview when topic given;
        engine='offline'. `total`: how many papers these were chosen from (see `summarize`)."""
        papers = _unique(papers)
        if not papers:
            overview = f'No papers matched "{topic}".' if topic else None
            headline = f'No papers matched "{topic}".' if topic else "No new papers today."
            return Summary(themes=(), headline=headline, overview=overview)
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
        overview = write_overview(topic, drafts, by_id, chosen_from=total) if topic else None
        return Summary(
            themes=themes,
            headline=write_headline(drafts, by_id, topic=topic or None, chosen_from=total),
            overview=overview,
            engine="offline",
        )
