"""The select stage: what is new and relevant to this reader, ranked, capped, with a `why`.

`core` selects and ranks a day's papers, `profile`/`reader`/`library/` build the reader's
profile, `search` ranks papers against a topic query (BM25) for `digest topic`.
"""

from agent.select.core import Interests, Ranking, Selection, rank, relevance_scores, select_papers
from agent.select.profile import LibraryEntry, ReaderProfile

__all__ = [
    "Interests",
    "LibraryEntry",
    "Ranking",
    "ReaderProfile",
    "Selection",
    "rank",
    "relevance_scores",
    "select_papers",
]
