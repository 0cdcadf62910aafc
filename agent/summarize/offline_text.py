"""Text helpers for the offline engine: terms for TF-IDF, readable phrases, sentences, blurbs.

Everything here is deterministic and model-free. The input is already-cleaned text (see
`agent.sources.clean`); these helpers only pick and tidy sentences and terms.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from agent.models import Paper

MAX_BLURB_WORDS = 60

# Stop words for the grouping features: English stop words and the commonest abstract verbs.
# (A longer filler list made the grouping worse on the labelled sample, so it is kept apart.)
_ABSTRACT_BOILERPLATE = """
    propose proposed paper approach method result show novel work based using use new state
    art performance
    """
CLUSTER_STOPWORDS: frozenset[str] = frozenset(ENGLISH_STOP_WORDS) | frozenset(
    _ABSTRACT_BOILERPLATE.split()
)

# Words that never make a theme title or key phrase: the above plus academic filler.
_FILLER = """
    propose proposed proposes proposing present presents presented introduce introduces introduced
    paper papers work works approach approaches method methods result results show shows shown
    showing novel new based using use used uses state art performance significant significantly
    existing recent recently different various achieve achieves achieved achieving demonstrate
    demonstrates demonstrated study studies studied investigate investigates explore explores
    including include includes furthermore moreover however additionally addition finally
    specifically notably particular particularly respectively compared comparable compare
    effective effectively efficient efficiently simple simply improve improves improved improving
    improvement improvements outperform outperforms outperforming provide provides provided
    make makes making way ways able allow allows allowing enable enables enabling given
    number numbers amount set range variety lot lots great greatly higher lower
    larger smaller good better best strong stronger key important crucial critical
    challenge challenges challenging problem problems issue issues task tasks time times
    technique techniques framework frameworks proposed experiment experiments experimental
    evaluation evaluate evaluated extensive propose achieves remarkable impressive substantial
    recent years year prior previous previously current currently paradigm widely commonly
    leading lead leads focus focuses aim aims goal called named dubbed termed known like
    typically usually often generally general overall despite whilst while et al fig eq
    code available publicly open-source github com https http www org via ie eg etc vs
    wide broad diverse multiple single specific certain common standard vanilla conventional
    popular successful success successfully tremendous promising powerful potential
    require requires required requiring need needs needed instead thus hence therefore
    terms term respect regard regarding according due able first second third one two three
    relatively relative particular certain around across toward towards within without
    lack lacks lacking valuable insight insights excel excels pave paves difficulty
    fundamentally fundamental prove proves unprecedented incur incurs progressively growing
    considerable considerably extremely highly largely mainly mostly nearly fully
    demonstrating illustrate illustrates discuss discusses discussed report reports
    indicate indicates indicating date gain gains reduce reduces reducing increase increases
    increasing generate generates obtain obtains yield yields perform performs conduct
    capable represent represents community understand understands support supports
    supported supporting contribute contributes contribution contributions
    taken given seen known extend extends extending tend tends
    """
STOPWORDS: frozenset[str] = CLUSTER_STOPWORDS | frozenset(_FILLER.split())

# "of" is allowed to bridge two content words ("mixture of experts", "chain of thought").
_BRIDGE = "of"
# A word, or a punctuation mark that ends a phrase (hyphens and apostrophes do not).
_TOKEN = re.compile(r"[a-z][a-z0-9]*|[^\w\s'-]|_")
_NO_STRIP = ("ss", "us", "is", "as", "os")


@lru_cache(maxsize=200_000)
def normalize_word(word: str) -> str:
    """Fold simple English plurals so 'models' and 'model' are one term."""
    if len(word) <= 2 or not word.endswith("s") or word.endswith(_NO_STRIP):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    return word[:-1]


_CONTENT: dict[str, str | None] = {}  # raw token -> normalised word, or None for a break


def _content(raw: str) -> str | None:
    word = _CONTENT.get(raw, "")
    if word == "":
        ok = raw[0].isalpha() and len(raw) >= 2 and raw not in CLUSTER_STOPWORDS
        word = normalize_word(raw) if ok else None
        if len(_CONTENT) < 500_000:
            _CONTENT[raw] = word
    return word


def analyze(text: str) -> list[str]:
    """Unigram and bigram terms of a text: stop words and punctuation break phrases;
    'of' may join two words ('mixture of expert')."""
    terms: list[str] = []
    append = terms.append
    prev: str | None = None
    bridge: str | None = None
    for raw in _TOKEN.findall(text.lower()):
        if raw == _BRIDGE and prev is not None:
            bridge, prev = prev, None
            continue
        word = _content(raw)
        if word is None:
            prev = bridge = None
            continue
        append(word)
        if prev is not None:
            append(prev + " " + word)
        elif bridge is not None:
            append(bridge + " of " + word)
        prev, bridge = word, None
    return terms


@lru_cache(maxsize=8192)
def term_set(text: str) -> frozenset[str]:
    """The distinct terms of a text (cached: titles and summaries ask for the same papers)."""
    return frozenset(analyze(text))


def paper_text(paper: Paper) -> str:
    """The text the engine reads for a paper; the title counts twice."""
    return f"{paper.title}.\n{paper.title}.\n{paper.abstract}"


# ---------------------------------------------------------------- readable phrases


def _word_pattern(token: str) -> str:
    forms = {token, token + "s", token + "es"}
    if token.endswith("y"):
        forms.add(token[:-1] + "ies")
    return "(?:" + "|".join(sorted((re.escape(f) for f in forms), key=len, reverse=True)) + ")"


@lru_cache(maxsize=4096)
def _term_regex(term: str) -> re.Pattern[str]:
    words = term.split(" ")
    parts = [words[0] if words[0] == "of" else _word_pattern(words[0])]
    for w in words[1:]:
        parts.append(r"[\s-]+" + (w if w == "of" else _word_pattern(w)))
    return re.compile(r"(?<![\w-])" + "".join(parts) + r"(?![\w-])", re.IGNORECASE)


def _at_sentence_start(text: str, start: int) -> bool:
    before = text[max(0, start - 2) : start]
    return start == 0 or before.endswith((". ", "\n", ": ", "? ", "! ")) or before in (".", "\n")


def _cased(word_forms: Counter[str], alone: bool) -> str:
    """One word's casing: acronyms as written ('KV', 'LLaMA'); a lone name ('Arabic') when it
    is nearly always capitalised; everything else lower case."""
    best = min(word_forms.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    total = sum(word_forms.values())
    if any(c.isupper() for c in best[1:]):
        return best
    capitalized = sum(n for w, n in word_forms.items() if w[:1].isupper())
    if alone and best[:1].isupper() and capitalized >= 0.9 * total:
        return best
    return best.lower()


def surface_form(term: str, texts: Iterable[str]) -> str | None:
    """How people write `term` in these texts (hyphens, plural, casing); None if never."""
    pattern = _term_regex(term)
    shapes: Counter[str] = Counter()
    words: dict[str, list[Counter[str]]] = {}
    for text in texts:
        for m in pattern.finditer(text):
            form = re.sub(r"\s+", " ", m.group(0))
            shape = form.lower()
            shapes[shape] += 1
            pieces = re.split(r"([\s-]+)", form)[::2]
            slots = words.setdefault(shape, [Counter() for _ in pieces])
            first_ambiguous = _at_sentence_start(text, m.start())
            for i, piece in enumerate(pieces):
                if i == 0 and first_ambiguous and piece[1:].islower():
                    continue  # "Sentence embeddings ..." at a sentence start says nothing
                slots[i][piece] += 1
    if not shapes:
        return None
    shape = min(shapes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    seps = re.split(r"[^\s-]+", shape)[1:-1]
    slots = words[shape]
    # A name with an acronym in it ('Transformer-XL', 'Megatron-LM') keeps its casing.
    named = any(
        any(c.isupper() for c in min(f.items(), key=lambda kv: (-kv[1], kv[0]))[0][1:])
        for f in slots
        if f
    )
    out = []
    for i, piece in enumerate(re.split(r"[\s-]+", shape)):
        forms = slots[i]
        if named and forms:
            out.append(min(forms.items(), key=lambda kv: (-kv[1], kv[0]))[0])
        else:
            out.append(_cased(forms, alone=len(seps) == 0) if forms else piece)
        if i < len(seps):
            out.append(seps[i])
    return "".join(out)


def extend_phrase(term: str, texts: Sequence[str]) -> str:
    """'semantic textual' -> 'semantic textual similarity' when the texts nearly always say so."""
    pattern = _term_regex(term)
    after: Counter[str] = Counter()
    before: Counter[str] = Counter()
    total = 0
    for text in texts:
        for m in pattern.finditer(text):
            total += 1
            nxt = re.match(r"[ -]([A-Za-z][A-Za-z0-9]+)", text[m.end() : m.end() + 40])
            prv = re.search(
                r"([A-Za-z][A-Za-z0-9]+)[ -]$", text[max(0, m.start() - 40) : m.start()]
            )
            if nxt:
                after[nxt.group(1).lower()] += 1
            if prv:
                before[prv.group(1).lower()] += 1
    words = term.split()
    for counter, at_end in ((after, True), (before, False)):
        if not counter:
            continue
        word, n = min(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        if n < 0.6 * total or word in CLUSTER_STOPWORDS or len(word) < 3:
            continue
        if not at_end and word.endswith(("ing", "ed")):
            continue  # 'training multi-billion' is a verb phrase, not a topic
        word = normalize_word(word)
        return " ".join(words + [word] if at_end else [word] + words)  # one word at most
    return " ".join(words)


def capitalize_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def join_phrases(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def short_name(title: str) -> str | None:
    """The system name a title announces ('Keyformer: KV Cache Reduction ...' -> 'Keyformer')."""
    head, sep, _ = title.partition(":")
    head = head.strip()
    if sep and head and len(head.split()) <= 3 and len(head) <= 30:
        return head
    return None


# ---------------------------------------------------------------- sentences and blurbs

_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Figs|Eq|Eqs|Sec|approx|resp|Dr|Mr|Ms|No)\.|\b[A-Z]\.)$"
)
_SENT_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split plain text into sentences, not breaking after 'e.g.', 'et al.' or initials."""
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return []
    pieces: list[str] = []
    start = 0
    for m in _SENT_END.finditer(text):
        if _ABBREV.search(text[start : m.start() + 1].rstrip("\"')] ")):
            continue
        pieces.append(text[start : m.end()].strip())
        start = m.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


_CONTRIB = re.compile(
    r"\b(?:we|this (?:paper|work|study|report|article|survey|book|contribution)|here)\b[^.]*?\b"
    r"(?:propose|present|introduce|develop|describe|design|build|train|release|construct|"
    r"devise|formulate|offer|provide|report|study|investigate|explore|examine|analy[sz]e|"
    r"evaluate|show|demonstrate|advocate|pose|consider|aim|create)",
    re.IGNORECASE,
)
_RESULT = re.compile(
    r"\b(?:results? (?:show|demonstrate|indicate|suggest|reveal|confirm)|experiments? "
    r"(?:show|demonstrate|indicate|reveal|on)|outperform\w*|surpass\w*|achiev\w*|improv\w*|"
    r"speed-?ups?|faster|reduc\w*|we (?:find|found|show|observe|demonstrate)|find that|"
    r"state[- ]of[- ]the[- ]art|competitive|comparable|gains?)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?\s?(?:%|x\b|×|times\b|points?\b|BLEU|F1)")
_PAREN = re.compile(r"\s+\((?:[^()]{0,160})\)")  # ' (e.g., ...)', not 'O(n)'

_CONNECTIVE = re.compile(
    r"^(?:Furthermore|Moreover|Additionally|In addition|Finally|Specifically|Notably|"
    r"Interestingly|Importantly|Overall|Concretely|Consequently|As a result|To this end|"
    r"In particular|Further|Also|Then|Thus|Hence|Therefore|Besides|Lastly|Second|Third|"
    r"First|Secondly|Thirdly)\s*,?\s+"
)
_LEAD_IN = re.compile(
    r"^(?:In|Within|Through|With) this (?:paper|work|study|report|article|contribution|"
    r"technical report|research)\s*,?\s+(?=we\b)|^Here\s*,?\s+(?=we\b)",
    re.IGNORECASE,
)
_PLAIN = (
    (re.compile(r"\be\.g\.,?\s*"), "for example "),
    (re.compile(r"\bi\.e\.,?\s*"), "that is, "),
    (re.compile(r"\bvs\.\s*"), "versus "),
    (re.compile(r"\bet al\.\s*"), "and colleagues "),
    (re.compile(r"\betc\.(?=\s+[a-z])"), "and so on"),
)


_MARKUP = re.compile(r"</?[A-Za-z][\w:-]{0,30}(?:\s[^<>]{0,80})?/?>")  # '<system>', '</paper>'


def _tidy(sentence: str) -> str:
    s = _MARKUP.sub(" ", sentence)  # a blurb never carries markup, even quoted from an abstract
    s = _PAREN.sub("", s)
    for pattern, repl in _PLAIN:
        s = pattern.sub(repl, s)
    s = _CONNECTIVE.sub("", s)
    s = _LEAD_IN.sub("", s)
    s = re.sub(r"\s+([,.;:!?])", r"\1", s)
    s = re.sub(r",\s*,", ",", s)
    s = re.sub(r"\s+", " ", s).strip()
    head = s.split(" ", 1)[0]
    if head.isalpha() and head[1:].islower():  # leave names like 'mLongT5' alone
        s = capitalize_first(s)
    if s and s[-1] not in ".!?":
        s = s.rstrip(",;:-") + "."
    return s


_PRONOUN = re.compile(r"\b(?:[Ww]e|[Oo]ur|us|ourselves)\b")


def _third_person(sentences: list[str]) -> list[str]:
    """'We propose X. Our model ...' -> 'The authors propose X. The model ...'."""
    out: list[str] = []
    named = False

    def swap(m: re.Match[str]) -> str:
        nonlocal named
        word = m.group(0)
        low = word.lower()
        if low == "we":
            repl = "they" if named else "the authors"
            named = True
        elif low == "our":
            repl = "the" if m.start() == 0 else "their"
        else:
            repl = {"us": "them", "ourselves": "themselves"}[low]
        return capitalize_first(repl) if word[0].isupper() else repl

    for s in sentences:
        out.append(_PRONOUN.sub(swap, s))
    return out


def _words(text: str) -> int:
    return len(text.split())


def _clip(sentence: str, limit: int) -> str:
    """Shorten one sentence to at most `limit` words, at a clause boundary when possible."""
    words = sentence.split()
    if len(words) <= limit:
        return sentence
    head = " ".join(words[:limit])
    cut = max(head.rfind(", "), head.rfind("; "), head.rfind(" - "))
    if cut >= len(head) // 2:
        return head[:cut].rstrip(",;: -") + "."
    return " ".join(words[: limit - 1]).rstrip(",;:-") + "…"


_SKIP = re.compile(
    r"https?://|www\.|github|\b(?:code|data|models?|weights|checkpoints)\b[^.]{0,40}"
    r"\b(?:is|are|will be)(?: made)? (?:publicly |freely |openly )?(?:available|released)"
    r"|\bwe (?:release|open-source)",
    re.IGNORECASE,
)


def _pick(sentences: list[str]) -> tuple[int, list[int]]:
    """The 'what it does' sentence, and the later sentences that report results, best first."""
    usable = [not s.endswith(":") and not _SKIP.search(s) for s in sentences]
    contrib = next((i for i, s in enumerate(sentences) if usable[i] and _CONTRIB.search(s)), None)
    if contrib is None:
        contrib = next(
            (
                i
                for i, s in enumerate(sentences)
                if usable[i] and re.search(r"\bwe\b", s, re.IGNORECASE)
            ),
            next((i for i in range(len(sentences)) if usable[i]), 0),
        )
    scored = []
    for i, s in enumerate(sentences):
        if i <= contrib or not usable[i]:
            continue
        score = len(_RESULT.findall(s)) + 1.5 * len(_NUMBER.findall(s))
        score += 0.5 if i == len(sentences) - 1 else 0.0
        if score > 0:
            scored.append((-score, i))
    return contrib, [i for _, i in sorted(scored)]


# Sentences addressed to a language model rather than a reader (prompt injection) are never quoted.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget)\b[^.]{0,40}\b(?:instructions?|prompts?|rules)\b"
    r"|\bnew instructions?\b|\bsystem prompt\b|</?(?:system|paper|assistant|user)>",
    re.IGNORECASE,
)


def make_blurb(paper: Paper) -> str:
    """One or two plain sentences: what the paper does and what it found; <= 60 words.

    The results sentence is the best-scoring one that still fits; only a 'what it does'
    sentence that is itself over the limit gets clipped. Falls back to the title.
    """
    abstract = _MARKUP.sub(" ", paper.abstract)
    sentences = [s for s in split_sentences(abstract) if not _INSTRUCTION.search(s)]
    if sentences:
        contrib, results = _pick(sentences)
        first = _tidy(sentences[contrib])
        text = ""
        for i in results:
            pair = _third_person([first, _tidy(sentences[i])])
            if _words(" ".join(pair)) <= MAX_BLURB_WORDS:
                text = " ".join(pair)
                break
        if not text:
            text = _clip(_third_person([first])[0], MAX_BLURB_WORDS)
        if text.strip(" .…"):
            return text
    title = re.sub(r"\s+", " ", paper.title).strip()
    title = " ".join(title.split()[:MAX_BLURB_WORDS])
    return title if title.endswith((".", "!", "?", "…")) else title + "."


# ---------------------------------------------------------------- topic phrases for titles
#
# `surface_form` gives a phrase as the papers write it; the helpers below decide whether it
# reads as a topic a person would put in a heading ('KV cache', 'machine translation') or is a
# fragment of one ('dynamic', 'long-context', 'maintaining high', 'findings reveal').


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Leading words that grade rather than name ('comprehensive survey' -> 'survey').
_EVALUATIVE = _wordset(
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
_VAGUE = _wordset(
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
_EMPTY_HEADS = _wordset(
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

_QUANTITY = frozenset(("billion", "trillion", "million", "thousand", "hundred", "dozen"))


def phrase_term(form: str) -> str:
    """The analysed term of a written phrase: 'Long-context models' -> 'long context model'."""
    return " ".join(normalize_word(w) for w in re.findall(r"[a-z][a-z0-9]*", form.lower()))


def _pieces(token: str) -> list[str]:
    return [p for p in re.split(r"-", token.lower()) if p]


def _is_verb_form(word: str) -> bool:
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
    if last in _MODIFIER_WORDS or normalize_word(last) in _MODIFIER_WORDS or _is_verb_form(last):
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
    pattern = _term_regex(phrase_term(form))
    return sum(1 for t in texts if pattern.search(t))


def strip_evaluative(form: str) -> str:
    """'comprehensive survey' -> 'survey'; 'useful sentence representations' -> 'sentence
    representations'. Leaves a phrase of one word alone."""
    words = form.split()
    while len(words) > 1 and words[0].lower() in _EVALUATIVE:
        words = words[1:]
    return " ".join(words)


def _followers(form: str, texts: Sequence[str]) -> tuple[int, Counter[str], Counter[str]]:
    """Occurrences of a phrase, the written words right after it, and those before it."""
    pattern = _term_regex(phrase_term(form))
    total = 0
    after: Counter[str] = Counter()
    before: Counter[str] = Counter()
    for text in texts:
        for m in pattern.finditer(text):
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
    if _is_verb_form(word) or word in _MODIFIER_WORDS:
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
    if not words:
        return None
    lowered = [w.lower() for w in words]
    if lowered[0] in _QUANTITY or lowered[0].rstrip("s") in _QUANTITY:
        return None  # 'billion parameters', 'thousands of tokens'
    first = _pieces(words[0])
    if (
        len(words) > 1
        and first
        and (
            _is_verb_form(first[-1])
            or (first[-1].endswith(("ize", "ise")) and len(first[-1]) > 6)
            or first[-1].endswith("ly")
        )
    ):
        return None  # 'maintaining high', 'exploring sparsity', 'optimize LLM'
    if "of" in lowered and phrase_term(" ".join(words[: lowered.index("of")])) in _VAGUE:
        return None  # 'popularity of LLMs', 'family of large language'
    if (is_modifier(words[-1]) and not is_name(words[-1])) or _used_as_modifier(form, texts):
        longer = _head_noun(form, texts) or _open_form(form, texts)
        if longer is None:
            return None
        form = strip_evaluative(longer)  # 'comprehensive' -> 'comprehensive survey' -> 'survey'
        words = form.split()
    total, after, _ = _followers(form, texts)
    if total and after.get("that", 0) >= 0.5 * total:
        return None  # 'findings reveal (that)': a clause, not a topic
    term = phrase_term(form)
    if len(words) > 1 and term.split()[-1] in _EMPTY_HEADS:
        return None  # 'generation process', 'scaling factor'
    if len(words) == 1 and not is_name(form) and all(w in _VAGUE for w in term.split()):
        return None  # 'resources', 'algorithms', 'encoder-decoder' (but 'fine-tuning')
    if len(words) == 1 and "-" not in form and not is_name(form) and not _technical(term):
        return None  # 'loss', 'space', 'researchers': a word, not a topic
    rank = 1 if term in _BROAD else 0
    return form, rank


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
