"""arxiv: recorded API responses (current and legacy 2016 format) through a loopback server."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest

from agent.config import Settings, SourcesSettings
from agent.errors import SourceError
from agent.sources.arxiv_api import ArxivApiSource, build_search_query, parse_atom
from agent.sources.base import FetchContext
from agent.sources.http import HttpFetcher, RateGate
from tests.fakes.http_server import FakeClock, Reply, ScriptedHttpServer

API = Path(__file__).parent / "fixtures" / "arxiv_api"
DAY = dt.date(2026, 4, 27)
UTC = dt.UTC


def recorded(name: str) -> tuple[int, bytes]:
    """(status, body bytes) of a fixture. The arxiv.py JSON files hold the body as text that
    was decoded as latin-1 (hence `JosÃ©`); encoding it back as latin-1 gives the exact bytes
    the server sent, which the fetcher then decodes as UTF-8."""
    path = API / name
    if path.suffix == ".json":
        wrapper = json.loads(path.read_text(encoding="utf-8"))
        return wrapper["status_code"], wrapper["body"].encode("latin-1")
    return 200, path.read_bytes()


@pytest.fixture
def server():
    with ScriptedHttpServer() as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def fetch(server, clock, tmp_path, query, replies, *, since=None, topic=None, **sources):
    for name in replies:
        status, body = recorded(name)
        server.enqueue(Reply(status, body, {"Content-Type": "application/atom+xml"}))
    settings = Settings(
        home=tmp_path,
        sources=SourcesSettings(arxiv_api_url=f"{server.url}/api/query", **sources),
    )
    gate = RateGate(clock=clock.now, sleep=clock.asleep)
    ctx = FetchContext(DAY, settings.sources, since=since, query=topic)
    with HttpFetcher(settings.sources, sleep=clock.asleep, arxiv_gate=gate) as fetcher:
        return asyncio.run(ArxivApiSource(query, fetcher=fetcher).fetch(ctx))


def test_search_testing_fixes_mojibake(server, clock, tmp_path):
    papers = fetch(
        server,
        clock,
        tmp_path,
        "all:testing",
        ["arxivpy_q_testing_s0_m10_bc5a6c384fe9.json"],
        arxiv_api_max_results=10,
    )
    assert len(papers) == 10
    first = papers[0]
    assert first.id == "2202.12139" and first.version == 1
    assert first.title.startswith("Testing Deep Learning Models: A First Comparative Study")
    assert first.authors == ("Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker")
    assert first.categories == ("cs.SE", "cs.LG") and first.primary_category == "cs.SE"
    assert first.url == "https://arxiv.org/abs/2202.12139"
    assert first.pdf_url == "https://arxiv.org/pdf/2202.12139v1"
    assert first.published == dt.datetime(2022, 2, 24, 15, 5, 19, tzinfo=UTC)
    assert first.source == "arxiv:all:testing"
    assert papers[1].authors[:3] == ("Aurora Ramírez", "Mario Berrios", "José Raúl Romero")
    assert [p.version for p in papers[2:5]] == [2, 3, 3]
    assert all("Ã" not in a for p in papers for a in p.authors)
    assert all("\n" not in p.abstract and p.abstract == p.abstract.strip() for p in papers)
    request = server.requests[0]
    assert request.path == "/api/query"
    assert request.param("search_query") == "all:testing"
    assert request.param("sortBy") == "submittedDate"
    assert request.param("sortOrder") == "descending"
    assert (request.param("start"), request.param("max_results")) == ("0", "10")


def test_paging_up_to_max_results_with_spacing(server, clock, tmp_path):
    # totalResults is 214881, so a limit of 200 takes two pages of 100; the server repeats
    # the same page, whose papers are deduplicated.
    page = "arxivpy_q_testing_s0_m10_bc5a6c384fe9.json"
    papers = fetch(server, clock, tmp_path, "all:testing", [page, page], arxiv_api_max_results=200)
    assert len(papers) == 10
    assert [(r.param("start"), r.param("max_results")) for r in server.requests] == [
        ("0", "100"),
        ("100", "100"),
    ]
    assert clock.sleeps == [pytest.approx(3.0)]  # arXiv's spacing between the pages


def test_paging_stops_at_total(server, clock, tmp_path):
    papers = fetch(
        server,
        clock,
        tmp_path,
        "au:del_maestro AND ti:checkerboard",
        ["arxivpy2016_search_query_au_del_maestro_AND_ti_checkerboard.xml"],
    )
    assert [p.id for p in papers] == ["cond-mat/0603029"]
    assert len(server.requests) == 1


def test_error_feed_http_400(server, clock, tmp_path):
    with pytest.raises(SourceError) as info:
        fetch(server, clock, tmp_path, "id:abc", ["arxivpy_id_abc_s0_m100_b79c8dcf6bc3.json"])
    assert str(info.value) == "arxiv:id:abc: arXiv API error: incorrect id format for abc"
    assert len(server.requests) == 1  # a 400 is an answer, not retried


def test_zero_results(server, clock, tmp_path):
    assert (
        fetch(
            server,
            clock,
            tmp_path,
            "id:0000.0000",
            ["arxivpy_id_0000.0000_s0_m100_8b51d9633a68.json"],
        )
        == []
    )


def test_34_authors_and_mojibake(tmp_path):
    _, body = recorded("arxivpy_id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.json")
    page = parse_atom(body.decode("utf-8"), source="arxiv:x")
    assert page.total == 1
    (paper,) = page.papers
    assert paper.id == "1707.08567" and paper.version == 1
    assert len(paper.authors) == 34 and paper.authors[0] == "Kees A. Schouhamer Immink"
    assert any("Wübben" in name for name in paper.authors)
    assert paper.categories == ("cs.IT",) and paper.primary_category == "cs.IT"


def test_old_style_id(tmp_path):
    _, body = recorded("arxivpy_id_astro-ph_0601001_s0_m100_3150dca9dc76.json")
    (paper,) = parse_atom(body.decode("utf-8"), source="arxiv:x").papers
    assert (paper.id, paper.version) == ("astro-ph/0601001", 1)
    assert paper.url == "https://arxiv.org/abs/astro-ph/0601001"
    assert paper.pdf_url == "https://arxiv.org/pdf/astro-ph/0601001v1"
    assert paper.abstract.startswith("We derive the frequencies of hot Jupiters")  # 2 spaces gone
    assert "Gould & Morgan (2003)" in paper.abstract and "V_max<17.5" in paper.abstract
    assert paper.authors[0] == "Andrew Gould" and len(paper.authors) == 4  # not affiliations
    assert paper.primary_category == "astro-ph"


def test_versioned_old_style_id(tmp_path):
    _, body = recorded("arxivpy_id_quant-ph_0201082v1_s0_m100_86989fe779ef.json")
    (paper,) = parse_atom(body.decode("utf-8"), source="arxiv:x").papers
    assert (paper.id, paper.version) == ("quant-ph/0201082", 1)
    assert paper.categories == ("quant-ph", "cs.PL") and paper.primary_category == "quant-ph"
    assert paper.authors == ("Stephen Blaha",)


def test_legacy_2016_format(server, clock, tmp_path):
    papers = fetch(
        server,
        clock,
        tmp_path,
        "au:del_maestro",
        ["arxivpy2016_search_query_au_del_maestro.xml"],
        arxiv_api_max_results=10,
    )
    assert len(papers) == 10
    assert papers[0].id == "1201.4869" and papers[0].version == 1
    assert papers[1].id == "cond-mat/0412498"
    assert [p.version for p in papers if p.id in ("1303.6954", "cond-mat/0607501")] == [2, 2]
    assert all(p.primary_category and p.authors and p.abstract for p in papers)
    assert all("\n" not in p.title and "\n" not in p.abstract for p in papers)


def test_legacy_id_list_fields(tmp_path):
    _, body = recorded("arxivpy2016_id_list_1111.2011v2.xml")
    page = parse_atom(body.decode("utf-8"), source="arxiv:x")
    assert page.total == 1
    (paper,) = page.papers
    assert (paper.id, paper.version) == ("1111.2011", 2)
    assert paper.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert paper.authors == ("James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic")
    assert paper.primary_category == "cond-mat.str-el"
    assert paper.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert paper.published == dt.datetime(2011, 11, 8, 18, 48, 36, tzinfo=UTC)
    assert paper.updated == dt.datetime(2012, 4, 2, 12, 38, 54, tzinfo=UTC)
    assert paper.pdf_url == "https://arxiv.org/pdf/1111.2011v2"
    assert paper.abstract.startswith("Theoretical description of anisotropic systems, such as")


def test_truncated_api_feed(server, clock, tmp_path):
    _, body = recorded("arxivpy_q_testing_s0_m10_bc5a6c384fe9.json")
    server.enqueue(Reply(200, body[: len(body) // 2]))
    settings = Settings(home=tmp_path, sources=SourcesSettings(arxiv_api_url=f"{server.url}/q"))
    gate = RateGate(clock=clock.now, sleep=clock.asleep)
    with HttpFetcher(settings.sources, arxiv_gate=gate) as fetcher, pytest.raises(SourceError) as e:
        asyncio.run(
            ArxivApiSource("all:testing", fetcher=fetcher).fetch(
                FetchContext(DAY, settings.sources)
            )
        )
    assert str(e.value).startswith("arxiv:all:testing: malformed XML (")


def test_date_range_from_ctx_since_sent_to_server(server, clock, tmp_path):
    fetch(
        server,
        clock,
        tmp_path,
        "cat:cs.CL",
        ["arxivpy_id_0000.0000_s0_m100_8b51d9633a68.json"],
        since=dt.date(2026, 4, 20),
        topic="speculative decoding",
    )
    assert server.requests[0].param("search_query") == (
        "cat:cs.CL AND all:speculative AND all:decoding "
        "AND submittedDate:[202604200000 TO 202604272359]"
    )


@pytest.mark.parametrize(
    ("query", "since", "topic", "expected"),
    [
        ("cat:cs.CL", None, None, "cat:cs.CL"),
        (
            "cat:cs.CL",
            dt.date(2026, 4, 1),
            None,
            "cat:cs.CL AND submittedDate:[202604010000 TO 202604272359]",
        ),
        (  # a range in the query is kept, none added
            "cat:cs.CL AND submittedDate:[202601010000 TO 202601312359]",
            dt.date(2026, 4, 1),
            None,
            "cat:cs.CL AND submittedDate:[202601010000 TO 202601312359]",
        ),
        ("cs.CL+cs.LG", None, None, "cat:cs.CL OR cat:cs.LG"),
        (
            "cs.CL+cs.LG",
            dt.date(2026, 4, 26),
            None,
            "(cat:cs.CL OR cat:cs.LG) AND submittedDate:[202604260000 TO 202604272359]",
        ),
        ('cs.CL "speculative decoding"', None, None, 'cat:cs.CL AND all:"speculative decoding"'),
        ("hep-th", None, "holography", "cat:hep-th AND all:holography"),
        ("", None, "retrieval", "all:retrieval"),
    ],
)
def test_build_search_query(query, since, topic, expected):
    assert build_search_query(query, topic=topic, since=since, until=DAY) == expected


def test_empty_query_is_a_source_error(tmp_path):
    settings = Settings(home=tmp_path)
    with pytest.raises(SourceError, match="empty query"):
        asyncio.run(ArxivApiSource("").fetch(FetchContext(DAY, settings.sources)))
