"""Offline theme labels: what kind of word or phrase a written phrase is (a modifier, a verb
form, a name, a technique), and whether two phrases say the same thing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from agent.summarize.offline.text import (
    normalize_word,
    term_in,
)

# `labels` builds theme labels from the papers' noun phrases; the word lists and tests below
# tell a topic ('KV cache', 'machine translation') from a fragment of one ('dynamic',
# 'long-context', 'maintaining high').


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Leading words that grade rather than name ('comprehensive survey' -> 'survey').
EVALUATIVE = _wordset(
    """
    comprehensive systematic thorough useful future minimal novel remarkable notable impressive
    significant extensive consistent practical various recent current existing new better good
    great high huge massive powerful promising simple key main inherent
    """
)

# Gerunds that name a topic ('pruning', 'fine-tuning'); any other '-ing' word is a verb form.
_TOPIC_GERUNDS = _wordset(
    """
    training learning tuning modeling modelling processing reasoning understanding embedding
    encoding decoding pruning routing caching batching sharding parsing tagging labeling
    labelling scaling sampling pooling clustering ranking retrieving answering prompting
    pretraining finetuning computing serving planning forecasting matching mining
    summarizing translating offloading checkpointing pipelining partitioning indexing
    sliding rewriting editing alignment grounding recognizing captioning chunking streaming
    """
)

# Single words that are adjectives, adverbs or verbs however they end.
_MODIFIER_WORDS = _wordset(
    """
    fast faster fastest slow slower high higher low lower long longer short shorter large
    larger small smaller deep open free robust sparse dense linear quadratic multilingual
    multimodal bidirectional autoregressive recurrent causal lightweight scalable efficient
    effective expensive cheap accurate simple zero few multi non pre post intra inter cross
    auto self semi sub uni bi end real hard soft general specific generic global local
    downstream upstream
    english german french chinese japanese korean arabic spanish russian romanian norwegian
    italian portuguese dutch hindi vietnamese turkish polish czech swedish finnish greek
    implement offer reveal restrict remain exhibit suffer rely struggle hinder advance thank
    outperform enhance boost leverage optimize adopt apply tune complete achieve require perform
    enable provide become allow produce exceed surpass emerge fail succeed depend
    """
)

# Nouns with adjective-looking endings.
_NOUN_EXCEPTIONS = _wordset(
    """
    retrieval proposal signal interval arrival rehearsal trial tutorial potential material
    logic topic music arithmetic traffic rhetoric clinic mechanic
    objective alternative initiative directive
    variable table cable vocabulary summary library dictionary
    """
)
_ADJECTIVE_SUFFIXES = ("ic", "al", "ive", "ous", "able", "ible", "ful", "less", "ish", "ese")
_PARTICIPLES = frozenset(("driven", "given", "taken", "shown", "known", "written", "grown"))
_NOT_PARTICIPLE = frozenset(("speed", "embed", "seed", "feed", "need", "breed", "shred"))

# Words that never head a heading on their own: too vague to say what the papers are about.
VAGUE = _wordset(
    """
    research resource algorithm solution future intelligence average document process property
    limitation category instruction finding
    image grouping configuration scheme complexity corpus corpora block limit length
    encoder decoder component mechanism question answer classification generalization
    parameter capability application benchmark dataset task model language text data system
    method approach technique variant version family popularity emergence birth advent rise
    use usage number amount variety range kind type form level stage step part aspect
    perspective direction trend advance development progress insight lesson case study
    survey review overview analysis evaluation experiment baseline setting scenario
    information modification operation feasibility flexibility execution iteration projection
    position prediction generation inference computing modelling modeling sentence word
    token feature representation structure architecture training learning tuning
    examination replacement investigation efficiency optimization growth sota
    understanding encoder decoder
    """
)

# Nouns that say nothing as the head of a phrase either.
EMPTY_HEADS = _wordset(
    """
    process procedure manner way aspect issue property category kind type factor average
    variant version advance finding result solution thank growth
    """
)


QUANTITY = frozenset(("billion", "trillion", "million", "thousand", "hundred", "dozen"))


@lru_cache(maxsize=65_536)
def phrase_term(form: str) -> str:
    """The analysed term of a written phrase: 'Long-context models' -> 'long context model'."""
    return " ".join(normalize_word(w) for w in re.findall(r"[a-z][a-z0-9]*", form.lower()))


def _pieces(token: str) -> list[str]:
    return [p for p in re.split(r"-", token.lower()) if p]


def is_verb_form(word: str) -> bool:
    """'maintaining', 'constrained', 'driven' (a word, not a hyphenated compound)."""
    if word.endswith("ing") and len(word) >= 5:
        return word not in _TOPIC_GERUNDS
    if word in _PARTICIPLES:
        return True
    return len(word) >= 5 and word.endswith("ed") and word not in _NOT_PARTICIPLE


def is_modifier(token: str) -> bool:
    """Whether a written token reads as an adjective, adverb, participle or verb rather than a
    noun: 'dynamic', 'faster', 'low-resource', 'auto-regressive', 'providing', 'English'.
    Hyphenated compounds are judged by their last piece and, for 'low-resource'-style
    compounds, by their first."""
    pieces = _pieces(token)
    if not pieces:
        return True
    last = pieces[-1]
    # 'low-resource', 'long-context', 'zero-shot', 'open-source' modify a noun;
    # 'self-attention' and 'cross-attention' are nouns.
    if (
        len(pieces) > 1
        and pieces[0] in _MODIFIER_WORDS
        and last not in _TOPIC_GERUNDS
        and last not in ("attention", "supervision", "distillation", "consistency")
    ):
        return True
    if last in _MODIFIER_WORDS or normalize_word(last) in _MODIFIER_WORDS or is_verb_form(last):
        return True
    if last.endswith("ly") and len(last) > 4:
        return True
    if last in _NOUN_EXCEPTIONS or last.endswith("ics"):
        return False
    return len(last) > 4 and last.endswith(_ADJECTIVE_SUFFIXES)


def is_name(phrase: str) -> bool:
    """A name as written: 'Megatron-LM', 'BERT', 'ChatGPT', 'T5', 'Google', 'BERT Large'."""
    tokens = phrase.split()
    return bool(tokens) and all(any(c.isupper() or c.isdigit() for c in t) for t in tokens)


# Endings of single words that name a technique or property ('quantization', 'parallelism',
# 'sparsity', 'alignment', 'robustness', 'latency'); other lone words ('loss', 'space',
# 'researchers') are too plain to stand as a heading.
_TECHNICAL_ENDINGS = tuple(
    sorted(_wordset("tion sion ism ity ing ment ness ance ence ogy phy ics ncy ure sis"))
)


def is_technical(term: str) -> bool:
    """A word that names a technique or property ('quantization', 'sparsity')."""
    return len(term) >= 7 and term.endswith(_TECHNICAL_ENDINGS)


def doc_count(form: str, texts: Iterable[str]) -> int:
    """How many of the texts use a written phrase (any plural, casing or hyphenation)."""
    term = phrase_term(form)
    return sum(1 for t in texts if term_in(term, t))


def initials(form: str) -> str:
    """'neural machine translation' -> 'NMT'."""
    return "".join(w[0] for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", form)).upper()


def same_topic(a: str, b: str) -> bool:
    """Two phrases that say the same thing: shared words, or one the acronym of the other
    ('NMT models' and 'machine translation')."""
    ta = {w.rstrip("s") for w in phrase_term(a).split()} - {"of", "and"}
    tb = {w.rstrip("s") for w in phrase_term(b).split()} - {"of", "and"}
    if ta & tb or {w[:6] for w in ta if len(w) > 6} & {w[:6] for w in tb if len(w) > 6}:
        return True  # the same word, or the same stem ('sparsification' and 'sparsity')
    for x, y in ((a, b), (b, a)):
        for token in x.split():
            letters = re.sub(r"[^A-Za-z]", "", token)
            if letters.isupper() and len(letters) >= 2:
                ini = initials(y)
                if len(ini) >= 2 and (letters.endswith(ini) or ini.endswith(letters)):
                    return True
    return False
