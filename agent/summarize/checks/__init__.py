"""Checks of what a model wrote against the paper it is attached to (no model involved):
`right_paper` (which paper of a call a text describes) and `figures` (numbers and names the
abstract states). The model engine runs them on every blurb before keeping it; the evals score
with them."""

from agent.summarize.checks.figures import (
    COMMON_ACRONYMS,
    NUMBER_WORDS,
    Figure,
    figures,
    shown,
    ungrounded,
    without_sentences,
)

__all__ = [
    "COMMON_ACRONYMS",
    "NUMBER_WORDS",
    "Figure",
    "figures",
    "shown",
    "ungrounded",
    "without_sentences",
]
