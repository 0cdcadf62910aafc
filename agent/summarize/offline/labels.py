"""Theme labels a reader recognises: noun phrases the papers themselves use.

A label is a noun phrase written in the titles or abstracts of at least two papers of its
theme that sets the theme apart. Candidates are the noun phrases of the papers (runs of
content words, a noun last, no verb or adverb first); each is scored by class-based TF-IDF,
as BERTopic represents a topic: the share of the theme's papers using it (weighted up, so a
label says what most of the theme is about) times how rare it is across the whole day and the
bundled background vocabulary, with a bonus for phrases in the papers' titles. A second phrase
is added by maximal marginal relevance (KeyBERT's MMR, with paper and word overlap in place of
embeddings) when it covers papers the first one misses. Field-wide phrases and generic words
(`GENERIC_LABELS`, 'natural', 'requirement') and phrases made only of broad words ('text
generation') are never labels, and a label must cover at least half of its theme's papers: a
theme without one is named by its papers' systems ('EnergonAI, Vega-MT and Yi') or is none. So
is a theme whose best phrase is a system that fewer than half of its papers use: 'Megatron-LM
and quantization aware training' over two Megatron papers, Q8BERT and GLM-130B names two
minorities, and the next phrases down only say less ('BERT model').
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from agent.models import Paper
from agent.summarize.offline.background import background_df
from agent.summarize.offline.phrases import (
    EMPTY_HEADS,
    EVALUATIVE,
    QUANTITY,
    VAGUE,
    is_modifier,
    is_name,
    is_technical,
    is_verb_form,
    phrase_term,
    same_topic,
)
from agent.summarize.offline.text import STOPWORDS, capitalize_first, surface_form


def _terms(text: str) -> frozenset[str]:
    return frozenset(phrase_term(p) for p in text.replace("\n", " ").split("|") if p.strip())


# Labels that say nothing about a theme: field-wide phrases and generic words, as analysed
# terms (plurals folded, lower case). `digest eval` counts labels on this list as generic.
GENERIC_LABELS = _terms(
    """
    more papers|other|others|paper|work|study|research|approach|method|model|framework|system
    |task|data|dataset|benchmark|result|performance|natural|requirement|language|text
    |language model|large language model|llm|large language|transformer|transformer model
    |neural network|deep learning|machine learning|artificial intelligence|ai|nlp
    |natural language|natural language processing|language processing|pre trained model
    |pretrained model|pre trained language model|pretrained language model|foundation model
    |base model|gpt|model size|training data|downstream task|real world|practical application
    |application|challenge|problem|issue|solution|improvement|technique|analysis|evaluation
    |experiment|accuracy|efficiency|effectiveness|quality|cost|capability|ability|memory|time
    |size|scale|number|amount|attention|architecture|mechanism|representation|sequence
    |training|inference|generation|learning|tuning|fine tuning|pre training|pretraining
    |commodity gpu|computational cost|computational resource|computational overhead
    |state of the art|future direction|research direction|survey|review|overview
    |measure|metric|score|factor|aspect|property|strategy|process|step|component|condition
    |reduction|function|expression|comprehension|reconstruction|enhancement|optimization
    |introduction|dependency|trade off
    """
)

# Words that say little on their own: a phrase made only of these (and 'of') is no label
# ('transformer-based large language models', 'text generation', 'parameter model').
_BROAD_WORDS = (
    VAGUE
    | EVALUATIVE
    | frozenset(
        """
        transformer based large small big language model pre trained pretrained post state art
        parameter architecture mechanism representation sequence attention self multi head
        instruction technology field advancement applicability direction future fluency
        production related original neural network deep machine natural processing nlp llm ai
        gpt text task data performance training generation generative general purpose scale
        scaling size time cost memory resource compute computation computational open source
        new novel fine tuning tuned domain methodology literature implementation capacity
        experience environment appearance deployment communication
        """.split()  # noqa: SIM905 (a word list reads better as text)
    )
)
_EMPTY_HEADS = EMPTY_HEADS | frozenset(["level", "area", "field", "setting", "direction", "way"])
_LEADS = EVALUATIVE | frozenset(["original", "different", "several", "other", "whole"])

_DETERMINERS = frozenset(("the", "a", "an", "its", "their", "these", "this", "our", "his", "her"))
_MAX_WORDS = 4  # words in one candidate phrase ('mixture of experts' counts 'of')
_TITLE_WORDS = 6  # words in a whole label
_COVER = 0.7  # a lead phrase used by fewer of the papers gets a second phrase, if one helps
_SAMPLE = 300  # a big theme's label comes from its first (top-ranked) papers
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*|[^\sA-Za-z]")


@dataclass(frozen=True)
class Candidate:
    """A phrase (its analysed term), the member papers using it and its score."""

    term: str
    papers: frozenset[int]
    score: float


def _stop_piece(token: str) -> bool:
    """'state-of-the-art', 'text-to-text': a compound with a stop word inside (not 'of')."""
    return "-" in token and any(p in STOPWORDS and p != "of" for p in token.split("-"))


def _acronym(token: str) -> bool:
    """'BERT', 'GPT-4', 'LLaMA': capitals after the first letter, or digits."""
    return any(c.isupper() for c in token[1:]) or any(c.isdigit() for c in token)


@lru_cache(maxsize=65_536)
def _noun_phrase(words: tuple[str, ...]) -> bool:
    """Content words only ('of' inside), a noun last, no verb, adverb or quantity first."""
    lowered = [w.lower() for w in words]
    if lowered[0] == "of" or lowered[-1] == "of" or lowered.count("of") > 1:
        return False
    if any(len(w) < 2 or _stop_piece(w) for w in lowered):
        return False
    if is_modifier(words[-1]) and not _acronym(words[-1]):
        return False
    first = lowered[0].split("-")[-1]
    if len(words) > 1 and (is_verb_form(first) or first.endswith("ly")):
        return False
    return first not in QUANTITY and first.rstrip("s") not in QUANTITY


@lru_cache(maxsize=4096)
def phrases_of(text: str) -> frozenset[str]:
    """The candidate noun phrases of a text, as analysed terms ('long context window');
    remembered, since every theme of a day reads the whole day. A word right before 'the',
    'a' or 'its' is taken for a verb ('the agent completes the task'), not a phrase's end."""
    out: set[str] = set()
    run: list[str] = []
    for token in [*_TOKEN.findall(text), "."]:
        word = token.lower()
        if token[0].isalpha() and (word not in STOPWORDS or word == "of"):
            run.append(token)
            continue
        end = len(run) - 1 if word in _DETERMINERS else len(run)
        for i in range(len(run)):
            for j in range(i + 1, min(end, i + _MAX_WORDS) + 1):
                if _noun_phrase(tuple(run[i:j])):
                    out.add(phrase_term(" ".join(run[i:j])))
        run = []
    out.discard("")
    return frozenset(out)


def usable(term: str) -> bool:
    """Whether a phrase can be a label: not generic or made only of broad words ('text
    generation'), no evaluative lead or empty head ('semantic level'), and a lone word only
    when it names a technique ('quantization', 'pruning')."""
    words = [w for w in term.split() if w != "of"]
    if not words or term in GENERIC_LABELS or words[0] in _LEADS or words[-1] in _EMPTY_HEADS:
        return False
    if all(w in _BROAD_WORDS for w in words):
        return False
    return len(words) > 1 or is_technical(term)


def candidates(
    members: Sequence[Paper], day: Sequence[Paper], *, contrast: bool = True, need: int = 2
) -> list[Candidate]:
    """A theme's phrases used by at least `need` of its papers (all when it has fewer), best
    first: share of the papers using it, squared, x log(1 + papers / papers using it), where
    'papers' counts the whole day (with `contrast`) and the background vocabulary."""
    members = list(members[:_SAMPLE])
    title_sets = [phrases_of(p.title) for p in members]
    uses: dict[str, set[int]] = {}
    for i, p in enumerate(members):
        for term in phrases_of(f"{p.title}.\n{p.abstract}"):
            uses.setdefault(term, set()).add(i)
    need = min(need, len(members))
    day_df: Counter[str] = Counter()
    if contrast:
        for p in day:
            day_df.update(t for t in phrases_of(f"{p.title}.\n{p.abstract}") if t in uses)
    bg, bg_n = background_df()
    total = (len(day) if contrast else len(members)) + bg_n
    out = []
    for term, used in uses.items():
        if len(used) < need or not usable(term):
            continue
        df = (day_df[term] if contrast else len(used)) + _background(term, bg)
        share = len(used) / len(members)
        titled = sum(term in title_sets[i] for i in used) / len(members)
        score = share * share * math.log(1 + total / (df + 1)) * (1 + titled)
        score *= 1.0 + 0.15 * (len(term.split()) - 1)  # a longer phrase says more
        out.append(Candidate(term, frozenset(used), score))
    return _drop_fragments(sorted(out, key=lambda c: (-c.score, c.term)))


def _background(term: str, bg: Counter[str]) -> int:
    """Papers of the background vocabulary using a term (its rarest bigram when longer)."""
    words = [w for w in term.split() if w != "of"]
    if len(words) <= 2:
        return bg.get(" ".join(words), 0)
    return min(bg.get(f"{a} {b}", 0) for a, b in itertools.pairwise(words))


def _drop_fragments(ranked: list[Candidate]) -> list[Candidate]:
    """A phrase gives way to a longer one used by the same papers ('textual similarity' to
    'semantic textual similarity')."""
    return [
        c
        for c in ranked
        if not any(
            other is not c and c.papers <= other.papers and f" {c.term} " in f" {other.term} "
            for other in ranked
        )
    ]


def written(term: str, members: Sequence[Paper]) -> str | None:
    """The phrase as the papers write it ('KV cache', 'mixture-of-experts')."""
    abstracts = [p.abstract for p in members[:_SAMPLE] if p.abstract]
    titles = [p.title for p in members[:_SAMPLE]]
    form = surface_form(term, abstracts) or surface_form(term, titles)
    if form and " " not in form and "-" in form and is_modifier(form):
        form = form.replace("-", " ")  # 'long-context' modifies; 'long context' names
    return form


def choose_label(
    ranked: Sequence[Candidate], members: Sequence[Paper], taken: set[str], *, mmr: float = 0.6
) -> str | None:
    """The label: the best phrase no other theme uses (`taken` holds the terms of the labels
    so far, see `label_terms`), and a second one when the first
    covers less than `_COVER` of the papers and another adds papers and says something else;
    None when no label covers at least half of the papers, or when the best phrase left is a
    system's name used by fewer than half of them."""
    n = min(len(members), _SAMPLE)
    ranked = [c for c in ranked if c.term not in taken]
    for first in ranked:
        lead = written(first.term, members)
        if lead is not None and is_name(lead) and 2 * len(first.papers) < n:
            return None  # what sets the theme apart is a system a few of its papers use
        if lead is None:
            continue
        label, covered = lead, first.papers
        if len(first.papers) < _COVER * n:
            second = _second(first, ranked, mmr)
            form = written(second.term, members) if second else None
            if form and is_name(form) and second and 2 * len(second.papers) < n:
                form = None
            if second and form and len(f"{lead} and {form}".split()) <= _TITLE_WORDS:
                label, covered = f"{lead} and {form}", covered | second.papers
        if 2 * len(covered) >= n:
            return capitalize_first(label)
    return None


def _second(first: Candidate, ranked: Sequence[Candidate], mmr: float) -> Candidate | None:
    """MMR: relevance (score relative to the best) minus overlap with the first phrase (the
    share of papers both cover); only phrases that cover papers the first does not."""
    best, best_value = None, 0.0
    top = ranked[0].score or 1.0
    for c in ranked:
        if c is first or same_topic(c.term, first.term) or not (c.papers - first.papers):
            continue
        overlap = len(c.papers & first.papers) / len(c.papers | first.papers)
        value = mmr * c.score / top - (1 - mmr) * overlap
        if value > best_value + 1e-12 and c.score >= 0.3 * first.score:
            best, best_value = c, value
    return best


def label_terms(label: str) -> set[str]:
    """The analysed terms of a label's parts: 'KV cache and pruning' -> {'kv cache', 'pruning'}."""
    return {phrase_term(part) for part in re.split(r", | and ", label) if part.strip()}
