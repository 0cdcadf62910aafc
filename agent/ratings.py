"""`digest rate ID up|down` and `digest rate --list`: the reader's ratings in the state.

A rating keeps the paper's title and abstract, found among the papers of earlier digests (the
state) or the bundled sample day, so it can be learnt from on any later day."""

from __future__ import annotations

from agent.config import Settings
from agent.core.one_line import one_line
from agent.errors import ConfigError
from agent.models import Paper
from agent.store import PaperShelf, Store


def find_paper(store: PaperShelf, paper_id: str) -> Paper | None:
    """A paper by id (an arXiv id may carry a version): kept papers first, then the sample."""
    from agent.core.resources import sample_corpus_path
    from agent.sources.arxiv_ids import find_arxiv_id
    from agent.sources.local import read_paper_file

    wanted = paper_id.strip()
    found = find_arxiv_id(wanted)
    if found is not None:
        wanted = found[0]
    blob = store.kept_paper(wanted)
    if blob is not None:
        return Paper.model_validate_json(blob)
    for paper in read_paper_file(sample_corpus_path(), "sample"):
        if paper.id == wanted:
            return paper
    return None


def rate_paper(settings: Settings, paper_id: str, verdict: str, reader: str = "") -> str:
    """Record `reader`'s rating; returns the sentence to print. Unknown ids raise ConfigError."""
    with Store.open(settings.home) as store:
        paper = find_paper(store, paper_id)
        if paper is None:
            raise ConfigError(
                f"no paper {one_line(paper_id, 80)!r} in your digests: rate a paper by the ID "
                "shown in the terminal summary or the email"
            )
        rating = 1 if verdict == "up" else -1
        store.rate(paper.id, rating, paper.title, paper.abstract, paper.authors, reader)
    effect = "like your library" if rating > 0 else "as a paper you do not want"
    whose = f" for {reader}" if reader else ""
    return f"Rated {verdict}{whose}: {paper.id} {paper.title}. It counts {effect} from the next run on."


def list_ratings(settings: Settings, reader: str = "") -> list[str]:
    with Store.open(settings.home) as store:
        ratings = store.ratings(reader)
    return [
        f"{'up  ' if r.rating > 0 else 'down'}  {r.paper_id}  {r.title}  ({r.rated_at[:10]})"
        for r in ratings
    ]
