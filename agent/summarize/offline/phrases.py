"""Offline theme titles: whether a phrase reads as a topic a person would put in a heading."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

from agent.summarize.offline.text import (
    STOPWORDS,
    normalize_word,
    surface_form,
    term_in,
    term_matches,
)

# ---------------------------------------------------------------- topic phrases for titles
#
# `surface_form` gives a phrase as the papers write it; the helpers below decide whether it
# reads as a topic a person would put in a heading ('KV cache', 'machine translation') or is a
# fragment of one ('dynamic', 'long-context', 'maintaining high', 'findings reveal').


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
    outperform enhance boost leverage optimize adopt apply tune
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

# Phrases that name a whole field, not a theme within it: a title only when nothing else fits.
_BROAD = frozenset(
    """
    natural language processing|nlp|artificial intelligence|ai|machine learning|deep learning
    |language model|large language model|llm|large language|nlp model|base model
    |transformer model|transformer|neural network|research direction|future research
    |downstream task|practical application|real world|gpt model|pre trained model
    |pretrained model|pretrained language model|pre trained language model|survey
    |accuracy loss|computational overhead|computational cost|computational requirement
    |inference speed|model size|training data|bert model|nlp task|language task
    """.replace("\n", "").split("|")
)
_BROAD = frozenset(p.strip() for p in _BROAD)

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


def _technical(term: str) -> bool:
    return len(term) >= 7 and term.endswith(_TECHNICAL_ENDINGS)


def doc_count(form: str, texts: Iterable[str]) -> int:
    """How many of the texts use a written phrase (any plural, casing or hyphenation)."""
    term = phrase_term(form)
    return sum(1 for t in texts if term_in(term, t))


def strip_evaluative(form: str) -> str:
    """'comprehensive survey' -> 'survey'; 'useful sentence representations' -> 'sentence
    representations'. Leaves a phrase of one word alone."""
    words = form.split()
    while len(words) > 1 and words[0].lower() in EVALUATIVE:
        words = words[1:]
    return " ".join(words)


def _followers(form: str, texts: Sequence[str]) -> tuple[int, Counter[str], Counter[str]]:
    """Occurrences of a phrase, the written words right after it, and those before it."""
    total = 0
    after: Counter[str] = Counter()
    before: Counter[str] = Counter()
    for text, m in term_matches(phrase_term(form), texts):
        total += 1
        nxt = re.match(r"[ -]([A-Za-z][A-Za-z0-9]*)", text[m.end() : m.end() + 40])
        if nxt:
            after[nxt.group(1)] += 1
        prv = re.search(r"\b([A-Za-z]+) $", text[max(0, m.start() - 30) : m.start()])
        if prv:
            before[prv.group(1).lower()] += 1
    return total, after, before


def _head_noun(form: str, texts: Sequence[str]) -> str | None:
    """'long-context' -> 'long-context language models', 'low-resource' -> 'low-resource
    languages': the noun the papers usually put after a modifier (a second one after a noun
    that is itself a modifier, like 'language'); None when they do not agree on one."""
    start = form
    for _ in range(2):
        word = _next_noun(form, texts)
        longer = surface_form(phrase_term(form) + " " + word, texts) if word else None
        if not longer:
            break
        form = longer
        if word not in _NOUN_MODIFIERS and not is_modifier(form.split()[-1]):
            break
    if form == start or is_modifier(form.split()[-1]):
        return None
    return form


_NOUN_MODIFIERS = frozenset(("language", "text", "sequence", "vision"))


def _next_noun(form: str, texts: Sequence[str]) -> str | None:
    """The (normalised) word that follows a phrase in at least 40% of its uses, if a noun."""
    total, after, _ = _followers(form, texts)
    folded: Counter[str] = Counter()
    for word, n in after.items():
        folded[normalize_word(word.lower())] += n
    if not total or not folded:
        return None
    word, n = min(folded.items(), key=lambda kv: (-kv[1], kv[0]))
    if n < max(2, 0.4 * total) or word in STOPWORDS or len(word) < 3:
        return None
    if is_verb_form(word) or word in _MODIFIER_WORDS:
        return None
    return word


_OPEN_FIRST = frozenset(("long", "short"))


def _open_form(form: str, texts: Sequence[str]) -> str | None:
    """'long-context' -> 'long context' (a noun phrase; its words are the papers' words)."""
    pieces = form.split("-")
    if len(pieces) != 2 or pieces[0].lower() not in _OPEN_FIRST or is_modifier(pieces[1]):
        return None
    alone = [re.compile(r"(?<![\w-])" + re.escape(p) + r"(?![\w-])", re.IGNORECASE) for p in pieces]
    if all(any(a.search(t) for t in texts) for a in alone):
        return f"{pieces[0]} {pieces[1]}".lower()
    return None


def _used_as_modifier(form: str, texts: Sequence[str]) -> bool:
    """A hyphenated compound the papers nearly always put before a noun ('vision-language
    models', 'encoder-decoder architecture'), unlike 'fine-tuning' or 'mixture-of-experts'."""
    if " " in form or "-" not in form:
        return False
    total, after, _ = _followers(form, texts)
    nouns = sum(n for w, n in after.items() if w.lower() not in STOPWORDS)
    return total >= 2 and nouns >= 0.7 * total


def topic_phrase(form: str, texts: Sequence[str]) -> tuple[str, int] | None:
    """A written phrase made ready for a heading, with its rank: 0 names a topic, 1 is broad
    (a field, a single system's name) and only fits when nothing better does. None for
    fragments: adjectives, participles, verb phrases, vague words, quantities."""
    form = strip_evaluative(" ".join(form.split()))
    words = form.split()
    if not words or _starts_as_fragment(words):
        return None
    if (is_modifier(words[-1]) and not is_name(words[-1])) or _used_as_modifier(form, texts):
        longer = _head_noun(form, texts) or _open_form(form, texts)
        if longer is None:
            return None
        form = strip_evaluative(longer)  # 'comprehensive' -> 'comprehensive survey' -> 'survey'
    term = phrase_term(form)
    if _not_a_topic(form, term, texts):
        return None
    return form, 1 if term in _BROAD else 0


def _starts_as_fragment(words: Sequence[str]) -> bool:
    """A quantity ('billion parameters'), a verb phrase or adverb ('exploring sparsity',
    'optimize LLM') or a vague word 'of' something ('popularity of LLMs')."""
    lowered = [w.lower() for w in words]
    if lowered[0] in QUANTITY or lowered[0].rstrip("s") in QUANTITY:
        return True
    first = _pieces(words[0])
    if (
        len(words) > 1
        and first
        and (
            is_verb_form(first[-1])
            or (first[-1].endswith(("ize", "ise")) and len(first[-1]) > 6)
            or first[-1].endswith("ly")
        )
    ):
        return True
    return "of" in lowered and phrase_term(" ".join(words[: lowered.index("of")])) in VAGUE


def _not_a_topic(form: str, term: str, texts: Sequence[str]) -> bool:
    """A clause ('findings reveal (that)'), an empty head ('generation process'), a vague
    word ('resources', but not 'fine-tuning') or a plain word ('loss', 'researchers')."""
    words = form.split()
    total, after, _ = _followers(form, texts)
    if total and after.get("that", 0) >= 0.5 * total:
        return True
    if len(words) > 1 and term.split()[-1] in EMPTY_HEADS:
        return True
    if len(words) == 1 and not is_name(form) and all(w in VAGUE for w in term.split()):
        return True
    return len(words) == 1 and "-" not in form and not is_name(form) and not _technical(term)


def initials(form: str) -> str:
    """'neural machine translation' -> 'NMT'."""
    return "".join(w[0] for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", form)).upper()


def same_topic(a: str, b: str) -> bool:
    """Two phrases that say the same thing: shared words, or one the acronym of the other
    ('NMT models' and 'machine translation')."""
    ta = {w.rstrip("s") for w in phrase_term(a).split()} - {"of", "and"}
    tb = {w.rstrip("s") for w in phrase_term(b).split()} - {"of", "and"}
    if ta & tb:
        return True
    for x, y in ((a, b), (b, a)):
        for token in x.split():
            letters = re.sub(r"[^A-Za-z]", "", token)
            if letters.isupper() and len(letters) >= 2:
                ini = initials(y)
                if len(ini) >= 2 and (letters.endswith(ini) or ini.endswith(letters)):
                    return True
    return False
