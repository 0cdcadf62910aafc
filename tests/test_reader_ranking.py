"""Per-reader ranking: the model, followed authors, not_interested, ratings, `why`, and the
relevance target on the sample (>= 7 of 10 on subject with 4 seed papers, offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.evals.relevance import entry_of, load_relevance_case
from agent.evals.sessions import day_one
from agent.models import Paper
from agent.resources import sample_corpus_path
from agent.select import Interests, LibraryEntry, ReaderProfile, select_papers
from agent.sources.local import read_paper_file

RELEVANCE = Path(__file__).resolve().parents[1] / "evals" / "relevance"


@pytest.fixture(scope="module")
def sample() -> dict[str, Paper]:
    return {p.id: p for p in read_paper_file(sample_corpus_path(), "sample")}


@pytest.mark.parametrize("name", ["compression", "long-context"])
def test_four_seed_papers_put_the_readers_subject_on_top(name: str) -> None:
    case = load_relevance_case(RELEVANCE / f"{name}.yaml")
    result = day_one(case)
    assert result.precision >= 0.7, result.reason(case.on_subject)
    assert len(result.top) == 10


def test_the_hard_profile_beats_plain_similarity_to_the_seeds() -> None:
    """Plain TF-IDF similarity to the nearest seed (as zotero-arxiv-daily ranks) gets 6 of 10 on
    the compression profile (model reports and GPT reviews creep in); the reader model more."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    case = load_relevance_case(RELEVANCE / "compression.yaml")
    docs = [e.text for e in case.library] + [
        f"{p.title}. {p.title}. {p.abstract}" for p in case.papers
    ]
    matrix = TfidfVectorizer(
        stop_words="english", sublinear_tf=True, ngram_range=(1, 2)
    ).fit_transform(docs)
    n = len(case.library)
    nearest = (matrix[n:] @ matrix[:n].T).toarray().max(axis=1)
    top = sorted(range(len(case.papers)), key=lambda i: -nearest[i])[:10]
    plain_hits = sum(case.papers[i].id in case.on_subject for i in top)
    model_hits = round(day_one(case).precision * 10)
    assert plain_hits < model_hits and model_hits >= 7, (plain_hits, model_hits)


def test_ranking_is_deterministic(sample) -> None:
    case = load_relevance_case(RELEVANCE / "compression.yaml")
    first = select_papers(case.papers, max_papers=15, interests=case.interests)
    second = select_papers(list(case.papers), max_papers=15, interests=case.interests)
    assert [p.id for p in first.selected] == [p.id for p in second.selected]
    assert first.why == second.why


def test_every_selected_paper_says_why(sample) -> None:
    case = load_relevance_case(RELEVANCE / "compression.yaml")
    selection = select_papers(case.papers, max_papers=10, interests=case.interests)
    assert set(selection.why) == {p.id for p in selection.selected}
    top = selection.why[selection.selected[0].id]
    assert top.startswith("close to your library: ") and "(" in top  # the nearest seed and terms


def test_followed_author_is_always_selected_and_says_so(sample) -> None:
    papers = list(sample.values())
    last = papers[-1].model_copy(update={"authors": ("Grace Hopper", "Alan Turing")})
    papers[-1] = last
    profile = ReaderProfile(library=(entry_of(sample["dp-107"]),), authors=("Turing, Alan",))
    selection = select_papers(papers, max_papers=3, interests=Interests(profile=profile))
    assert selection.selected[0].id == last.id
    assert selection.why[last.id] == "followed author: Alan Turing"
    assert len(selection.selected) == 3


def test_not_interested_pushes_papers_down(sample) -> None:
    papers = list(sample.values())
    interests = Interests(text="long context length extrapolation")
    before = [p.id for p in select_papers(papers, max_papers=10, interests=interests).selected]
    disliked = Interests(
        text=interests.text, profile=ReaderProfile(not_interested="survey review of methods")
    )
    after = select_papers(papers, max_papers=10, interests=disliked)
    surveys = {p.id for p in papers if "survey" in p.title.lower()}
    assert surveys & set(before)  # the plain ranking had surveys in its top 10
    assert len(surveys & {p.id for p in after.selected}) < len(surveys & set(before))


def test_down_ratings_are_negatives_and_up_ratings_positives(sample) -> None:
    papers = [p for pid, p in sample.items() if pid not in {"dp-107", "dp-012"}]
    liked = ReaderProfile(liked=(entry_of(sample["dp-107"]),))
    base = select_papers(papers, max_papers=20, interests=Interests(profile=liked))
    assert any("rated up" in why for why in base.why.values())
    disliked = ReaderProfile(liked=liked.liked, disliked=(entry_of(sample["dp-012"]),))
    pushed = select_papers(papers, max_papers=20, interests=Interests(profile=disliked))
    order = lambda s: [p.id for p in (*s.selected, *s.also_new)]
    # the GPT review's near twins (generic "generative pre-trained transformer" reports) sink
    for twin in ("dp-019", "dp-028"):
        assert order(pushed).index(twin) > order(base).index(twin)


def test_category_prior_lifts_the_readers_categories() -> None:
    def paper(pid: str, cat: str) -> Paper:
        return Paper(
            id=pid, title="A study of things", abstract="We study things.", categories=(cat,)
        )

    papers = [paper("a", "math.AG"), paper("b", "cs.CL"), paper("c", "math.AG")]
    entry = LibraryEntry(key="x", title="Other words entirely", categories=("cs.CL",))
    selection = select_papers(
        papers, max_papers=1, interests=Interests(profile=ReaderProfile(library=(entry,)))
    )
    assert selection.selected[0].id == "b"


def test_cold_start_keeps_todays_order_and_is_marked_cold(sample) -> None:
    papers = list(sample.values())[:12]
    selection = select_papers(papers, max_papers=5)
    assert [p.id for p in selection.selected] == [p.id for p in papers[:5]]
    assert set(selection.why.values()) == {"new in your sources"}
    assert Interests().cold and not Interests(profile=ReaderProfile(authors=("X",))).cold
