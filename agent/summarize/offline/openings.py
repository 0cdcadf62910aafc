"""Sentences made to stand alone: what an abstract's sentence leans on at its start goes.

A blurb quotes one or two sentences out of their abstract, so an opening that points back
('However, ...', 'To address this issue, ...', 'In this review, we also ...') is rewritten:
connectives and purpose clauses that refer back are dropped, a lead-in naming the paper
('In this paper, ...', 'In this survey paper, ...', 'Here, ...') is dropped, and an 'also' among
the first words goes, as does a 'then' after 'we' ('Through X, we then show ...').
What still leans on the sentence before (`agent.dangling`) is left to the caller to avoid.
Citations and parentheses that need the paper ('[12]', '(see Table 2)', '(Smith et al.,
2020)') are dropped; a parenthesis that spells out an acronym ('(LLMs)') or holds a result in
numbers ('(90.9% compared to 89.4%)') is kept.
"""

from __future__ import annotations

import re

from agent.dangling import THE_PROBLEM

_REFERS_BACK = (
    r"(?:this|these|that|those|such|the\s+above|the\s+aforementioned|both|it|them)"
    r"(?:\s+[\w-]+){0,3}?"
)
_SUBJECT = (
    r"(?=we\b|our\b|this\s+(?:paper|work|study|article|report|survey|review)\b|the\s+authors\b)"
)
_PURPOSE = re.compile(
    rf"^(?:in\s+order\s+)?to\s+(?:[a-z]+ly\s+)?[a-z]+\s+(?:{_REFERS_BACK}|{THE_PROBLEM})"
    rf"\s*(?:,\s*|\s+{_SUBJECT})",
    re.IGNORECASE,
)
_RESUMING = re.compile(
    r"^(?:towards?\s+(?:this|that|these|those)(?:\s+[\w-]+){0,2}|to\s+(?:this|that)\s+end|for\s+(?:this|that)\s+(?:reason|purpose)|in\s+this\s+(?:"
    r"context|regard|light|setting|spirit|direction|vein|sense|way|case|manner)|with\s+this\s+in\s+mind|motivated\s+by"
    r"[^,]{0,60}|inspired\s+by[^,]{0,60}|(?:building|based|relying|drawing)\s+(?:up)?on\s+"
    rf"{_REFERS_BACK}|given\s+{_REFERS_BACK}|against\s+this\s+background"
    rf"|in\s+response(?:\s+to\s+{_REFERS_BACK})?"
    r"|as\s+an?\s+(?:solution|remedy|alternative|workaround|countermeasure)"
    rf"(?:\s+(?:to|for)\s+{_REFERS_BACK})?)\s*(?:,\s*|\s+{_SUBJECT})",
    re.IGNORECASE,
)
_CONNECTIVE = re.compile(
    r"^(?:however|moreover|furthermore|additionally|in\s+addition|finally|specifically|notably"
    r"|interestingly|importantly|more\s+importantly|crucially|overall|concretely|consequently"
    r"|as\s+a\s+result|as\s+such|in\s+particular|further|also|then|thus|hence|therefore|besides"
    r"|lastly|second|third|first|secondly|thirdly|instead|meanwhile|similarly|likewise"
    r"|nevertheless|nonetheless|still|yet|in\s+contrast|by\s+contrast|in\s+comparison"
    r"|on\s+the\s+other\s+hand|accordingly|ultimately|alternatively|in\s+turn|in\s+other\s+words"
    r"|that\s+is|for\s+instance|for\s+example|in\s+summary|in\s+short|to\s+summarize"
    r"|in\s+conclusion)\b\s*,?\s+",
    re.IGNORECASE,
)
_DOCUMENT = (
    r"(?:paper|work|study|report|article|contribution|research|review|survey|thesis|tutorial"
    r"|chapter|note|letter|manuscript)\b"
)
_LEAD_IN = re.compile(  # 'In this paper,', 'In this survey paper,', 'In this short note we'
    rf"^(?:(?:in|within|through|with)\s+(?:this|the\s+present)\s+(?:[\w-]+\s+){{0,2}}?"
    rf"{_DOCUMENT}(?!\s+{_DOCUMENT})|here)\s*,?\s+",
    re.IGNORECASE,
)
_CLAIM = re.compile(  # 'These results show that X' -> 'X'
    r"^(?:these|the|our|such|this|overall,?\s+(?:the|our))\s+(?:[\w-]+\s+){0,2}?(?:results?|findings?"
    r"|experiments?|evaluations?|analys[ie]s|observations?|studies|evidence)\s+(?:\w+\s+)?"
    r"(?:show|demonstrate|suggest|indicate|reveal|confirm|highlight|prove|imply|verify)s?\s+that\s+"
    r"|^this\s+(?:shows|demonstrates|suggests|indicates|reveals|confirms|implies)\s+that\s+",
    re.IGNORECASE,
)
_ALSO = re.compile(r"^((?:[\w-]+[\s,]+){0,5}?)also\s+", re.IGNORECASE)
_THEN = re.compile(r"^((?:[\w-]+[\s,]+){0,5}?(?:we|the\s+authors|they)\s+)then\s+", re.IGNORECASE)
_OPENERS = (_CONNECTIVE, _RESUMING, _PURPOSE, _LEAD_IN, _CLAIM)

_CITATION = re.compile(r"\s*\[\s*\d+(?:\s*[,–-]\s*\d+)*\s*\]")  # '[12]', '[3, 7-9]'
_PAREN = re.compile(r"\s+\(([^()]{0,160})\)")  # ' (e.g., ...)', not 'O(n)'
_ACRONYM = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,11}")
_RESULT_NUMBER = re.compile(r"\d(?:\.\d+)?\s?(?:%|x\b|×)")


def stand_alone(sentence: str) -> str:
    """The sentence without what points back at its start (see the module docstring); the
    caller restores the capital letter."""
    s = sentence.strip()
    changed = True
    while changed:
        changed = False
        for pattern in _OPENERS:
            rest = pattern.sub("", s, count=1)
            if rest != s and rest:
                s, changed = rest, True
    return _THEN.sub(r"\1", _ALSO.sub(r"\1", s, count=1), count=1)


def drop_asides(sentence: str) -> str:
    """Citations and parentheses removed, except one that spells out an acronym ('(LLMs)')."""
    s = _CITATION.sub("", sentence)
    return _PAREN.sub(_keep_acronym, s)


def _keep_acronym(m: re.Match[str]) -> str:
    """Keep '(LLMs)' and '(90.9% compared to 89.4%)': an acronym, or a result in numbers."""
    inside = m.group(1).strip()
    capitals = sum(c.isupper() for c in inside)
    if _ACRONYM.fullmatch(inside) and capitals >= 2:
        return m.group(0)
    if len(inside) <= 80 and _RESULT_NUMBER.search(inside):
        return m.group(0)
    return ""


__all__ = ["drop_asides", "stand_alone"]
