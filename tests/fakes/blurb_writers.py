"""Blurbs as a fake model writes them, from the papers a blurbs prompt shows.

- `plain_blurb`: a competent blurb by a fixed rule: the abstract's sentence that says what the
  authors did, in the third person, without asides, and the first later sentence with a
  figure when both fit in 50 words. It says only what the abstract says.
- `blurbs_answer`: a whole answer to a blurbs request; `mix="shift"` gives each paper the
  blurb of the next paper of its call (the last gets the first's), `mix="swap"` swaps
  neighbours (P1<->P2, P3<->P4, ...), as fluent models that mix papers up do; `invent` adds a
  sentence with a figure no abstract gives to the blurbs of those short ids.

The bench (bench/faithful.py) measures the checks with these; tests script the fake server
with them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any, Literal

from agent.core.defang import find_address
from agent.summarize.offline.blurbs import split_sentences

Mix = Literal["none", "shift", "swap"]
INVENTED = "It runs 37% faster than GPT-5 on every benchmark."
MAX_WORDS = 50
_PAPER = re.compile(r'<paper id="(P\d+)">(.*?)\n(.*?)</paper>', re.DOTALL)
_DID = re.compile(r"\b(?:we|this (?:paper|work|study))\b", re.IGNORECASE)
_ASIDE = re.compile(r"\s*\([^()]*\)")
_LINKISH = re.compile(r"https?:|www\.|\.com\b|\.org\b|\.io\b|github|[<>]", re.IGNORECASE)
_PERSON = (
    (re.compile(r"\bWe\b"), "The authors"),
    (re.compile(r"\bwe\b"), "the authors"),
    (re.compile(r"\bOur\b"), "Their"),
    (re.compile(r"\bour\b"), "their"),
    (re.compile(r"\bus\b"), "them"),
)


def _linkish(sentence: str) -> bool:
    """A sentence a competent model leaves out: it gives an address (the schemas reject it)."""
    return bool(_LINKISH.search(sentence) or find_address(sentence))


def papers_in(prompt: str) -> list[tuple[str, str, str]]:
    """(short id, title, abstract) of each fenced paper of a blurbs prompt."""
    return [(m.group(1), m.group(2).strip(), m.group(3).strip()) for m in _PAPER.finditer(prompt)]


def plain_blurb(title: str, abstract: str) -> str:
    """A blurb by the fixed rule of the module docstring (the title when there is no abstract)."""
    sentences = [_third_person(s) for s in split_sentences(abstract) if not _linkish(s)]
    if not sentences:
        return f"The paper is about {title.rstrip('.')}, as its title says in brief."
    did = next((i for i, s in enumerate(sentences) if _DID.search(s)), 0)
    chosen = [sentences[did]]
    figure = next((s for s in sentences[did + 1 :] if re.search(r"\d", s)), None)
    if figure and len(f"{chosen[0]} {figure}".split()) <= MAX_WORDS:
        chosen.append(figure)
    words = " ".join(chosen).split()
    text = " ".join(words[:MAX_WORDS])
    return text if text.endswith((".", "!", "?")) else text.rstrip(",;:") + "."


def _third_person(sentence: str) -> str:
    sentence = _ASIDE.sub("", sentence)
    for pattern, replacement in _PERSON:
        sentence = pattern.sub(replacement, sentence)
    return " ".join(sentence.split())


def plain_why(abstract: str) -> str | None:
    """A why_it_matters by rule: the abstract's last sentence without figures, cut to 20
    words (None when there is none)."""
    sentences = [
        s for s in split_sentences(abstract) if not re.search(r"\d", s) and not _linkish(s)
    ]
    if len(sentences) < 2:
        return None
    words = _third_person(sentences[-1]).split()[:20]
    return " ".join(words).rstrip(",;:.") + "."


def blurbs_answer(
    prompt: str,
    ids: Sequence[str],
    *,
    mix: Mix = "none",
    invent: Collection[str] = (),
    why: bool = False,
) -> dict[str, Any]:
    """An answer to a blurbs request whose prompt is `prompt` and whose schema names `ids`
    (with `why`, each blurb's why_it_matters from the same paper's abstract)."""
    shown = {sid: (title, text) for sid, title, text in papers_in(prompt)}
    order = [sid for sid in ids if sid in shown] or list(ids)
    source = {sid: _mixed(order, i, mix) for i, sid in enumerate(order)}
    blurbs = []
    for sid in ids:
        paper = shown.get(source.get(sid, sid))
        text = plain_blurb(*paper) if paper else "The authors describe a method and its results."
        if sid in invent:
            text = f"{text} {INVENTED}"
        reason = plain_why(paper[1]) if why and paper else None
        blurbs.append({"paper_id": sid, "blurb": text, "why_it_matters": reason})
    return {"summary": "These papers share one subject.", "blurbs": blurbs}


def _mixed(order: Sequence[str], i: int, mix: Mix) -> str:
    if mix == "shift":
        return order[(i + 1) % len(order)]
    if mix == "swap":
        j = i + 1 if i % 2 == 0 else i - 1
        return order[j] if j < len(order) else order[i]
    return order[i]


__all__ = ["INVENTED", "blurbs_answer", "papers_in", "plain_blurb", "plain_why"]
