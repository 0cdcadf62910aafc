"""Openings that lean on a sentence the reader has not seen: 'This shows...', 'However, ...',
'To address this issue, ...', 'the authors also ...'.

A blurb is read under its paper's title, without the abstract around it, so it must not start
with one. The offline engine rewrites or avoids them (`agent.summarize.offline.blurbs`);
`digest eval` counts the blurbs that still start with one (the `dangling_start` scorer).
'This paper', 'This work' and the like name the paper itself and are not dangling.
"""

from __future__ import annotations

import re

# What 'this'/'these' may point at without a sentence before: the paper itself.
_THE_PAPER = (
    r"paper|work|study|article|report|survey|review|thesis|tutorial|chapter|book|note|letter"
    r"|position\s+paper|technical\s+report|contribution|project|manuscript"
)
_REFERS_BACK = r"this|these|that|those|such|it|its|they|their|them|both|the\s+former|the\s+latter"
_CONNECTIVES = (
    r"however|moreover|furthermore|further|additionally|in\s+addition|also|besides|thus|hence"
    r"|therefore|consequently|accordingly|as\s+a\s+result|as\s+such|instead|meanwhile|similarly"
    r"|likewise|nevertheless|nonetheless|yet|still|then|next|finally|lastly|secondly|second"
    r"|thirdly|third|in\s+contrast|by\s+contrast|in\s+comparison|on\s+the\s+other\s+hand"
    r"|in\s+particular|specifically|notably|importantly|more\s+importantly|crucially"
    r"|especially|particularly|above\s+all"
    r"|in\s+turn|to\s+(?:this|that)\s+end|for\s+this\s+(?:reason|purpose)|otherwise|alternatively"
    r"|in\s+other\s+words|put\s+differently|conversely|together|at\s+last"
)
# What an abstract says it found or faced, named as if the reader knew it ('this gap').
_ANTECEDENT = (
    r"gaps?|trends?|problems?|issues?|limitations?|challenges?|phenomen(?:on|a)|propert(?:y|ies)"
    r"|observations?|findings?|questions?|bottlenecks?|shortcomings?|drawbacks?|difficult(?:y|ies)"
    r"|paradigms?|interactions?|tensions?|trade-?offs?|discrepanc(?:y|ies)|mismatch(?:es)?"
)
# A problem named as if the reader knew it: 'the issue', but not 'the issue of long inputs'
# (also what `agent.summarize.offline.openings` drops from a purpose clause).
THE_PROBLEM = (
    r"the\s+(?:issues?|problems?|challenges?|limitations?|gaps?|bottlenecks?|drawbacks?"
    r"|shortcomings?|difficult(?:y|ies)|concerns?)\b(?!\s+(?:of|in|with|that|where)\b)"
)
_PATTERN = re.compile(
    rf"""^[\s"'(\[]*(
        (?:{_REFERS_BACK})\b(?!\s+(?:[\w-]+\s+){{0,2}}?(?:{_THE_PAPER})\b)  # 'These models ...', 'It ...'
      | (?:{_CONNECTIVES})\b                              # 'However, ...'
      | (?:to|in\s+order\s+to)\s+(?:[a-z]+ly\s+)?[a-z]+\s+(?:{_REFERS_BACK}|the\s+above
            |the\s+aforementioned|{THE_PROBLEM})\b          # 'To (better) address this issue'
      | in\s+response\b(?!\s+to\s+(?!(?:{_REFERS_BACK})\b))   # 'In response, ...'
      | as\s+an?\s+(?:solution|remedy|alternative|workaround|countermeasure|consequence)\b
            (?!\s+(?:to|for|of)\s+(?!(?:{_REFERS_BACK})\b))   # 'As a solution, ...'
      | (?:[\w-]+\s+){{1,3}}?of\s+(?:these|those|such)\b   # 'The efficiency of these methods'
      | (?:in|with|given|under)\s+(?:this|that|these|those|such\s+an?)\s+(?:context|regard|light
            |setting|settings|spirit|direction|vein|sense|way|case|cases|manner|scenarios?
            |situations?|conditions?|observations?|insights?|in\s+mind)\b   # 'In this way, ...'
      | (?:[\w-]+[\s,]+){{0,5}}?(?:we|the\s+authors|they)\s+then\b   # 'Through X, we then show'
      | (?:[\w-]+[\s,]+){{0,5}}?(?:we|the\s+authors|they)\s+(?:therefore|thus|hence
            |consequently|accordingly|instead)\b           # 'The authors therefore propose'
      | towards?\s+(?:this|these|that|those|such)\b            # 'Towards this goal, ...'
      | (?:building|based|relying|drawing)\s+(?:up)?on\s+(?:{_REFERS_BACK})\b
      | (?:[\w-]+[\s,]+){{0,5}}?also\b                     # 'the authors also explored'
      | the\s+(?:same|above|aforementioned|previous|resulting)\b
      | (?:[\w-]+[\s,]+){{0,6}}?(?:this|these|such)\s+(?:[\w-]+\s+)?
            (?:{_ANTECEDENT})\b                           # 'The authors study this gap'
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def dangling_start(sentence: str) -> str | None:
    """The words a sentence opens with that need the sentence before ('However', 'These
    models', 'To address this'), or None when it stands alone."""
    m = _PATTERN.match(sentence)
    return " ".join(m.group(1).split()) if m else None


__all__ = ["THE_PROBLEM", "dangling_start"]
