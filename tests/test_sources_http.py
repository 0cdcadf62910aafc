"""The HTTP fetcher against a real loopback server: retries, Retry-After, 304s, arXiv spacing."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from pathlib import Path

import pytest

from agent.config import Settings, SourcesSettings
from agent.core.retry_policy import parse_retry_after
from agent.errors import SourceError
from agent.sources.arxiv_api import ArxivApiSource
from agent.sources.arxiv_rss import ArxivRssSource
from agent.sources.base import FetchContext
from agent.sources.http import HttpFetcher, RateGate, decode_body
from agent.store import Store
from tests.fakes.http_server import FakeClock, Reply, ScriptedHttpServer

FIXTURES = Path(__file__).parent / "fixtures"
RSS_CL = (FIXTURES / "arxiv_rss" / "distill_rss_arxiv_cs_cl.xml").read_bytes()
DAY = dt.date(2026, 4, 27)


@pytest.fixture
def server():
    with ScriptedHttpServer() as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_settings(server: ScriptedHttpServer, tmp_path: Path, **sources) -> Settings:
    fields = {
        "arxiv_rss_url": f"{server.url}/rss/",
        "arxiv_api_url": f"{server.url}/api/query",
        "hf_url": f"{server.url}/api/daily_papers",
        **sources,
    }
    return Settings(home=tmp_path, sources=SourcesSettings(**fields))


def make_fetcher(settings: Settings, clock: FakeClock, **kwargs) -> HttpFetcher:
    gate = RateGate(clock=clock.now, sleep=clock.asleep)
    return HttpFetcher(settings.sources, sleep=clock.asleep, arxiv_gate=gate, **kwargs)


def test_429_with_retry_after_then_success(server, clock, tmp_path):
    server.enqueue(Reply(429, b"slow down", {"Retry-After": "1"}))
    server.add("/rss/cs.CL", Reply(200, RSS_CL))
    settings = make_settings(server, tmp_path)
    with make_fetcher(settings, clock) as fetcher:
        papers = asyncio.run(
            ArxivRssSource("cs.CL", fetcher=fetcher).fetch(FetchContext(DAY, settings.sources))
        )
    assert [p.id for p in papers] == ["2604.22002", "2604.22027", "2604.22038"]
    assert len(server.requests) == 2
    # The Retry-After wait went through the injected sleep; the gate then waited out the rest
    # of arXiv's 3 s spacing (counted from the end of the 429 answer) on the same fake clock.
    assert clock.sleeps[0] == 1.0
    assert sum(clock.sleeps) == pytest.approx(3.0)


def test_retry_after_is_capped(server, clock, tmp_path):
    server.enqueue(Reply(503, headers={"Retry-After": "20"}))
    server.add("/x", Reply(200, b"ok"))
    settings = make_settings(server, tmp_path)
    with make_fetcher(settings, clock, max_retry_wait=5.0) as fetcher:
        result = asyncio.run(fetcher.get(f"{server.url}/x", source="test"))
    assert result.text == "ok"
    assert clock.sleeps == [5.0]


def test_retry_after_past_the_budget_fails_at_once_without_sleeping(server, clock, tmp_path):
    server.enqueue(Reply(503, headers={"Retry-After": "3600"}))
    server.add("/x", Reply(200, b"ok"))
    settings = make_settings(server, tmp_path)  # 4 attempts of 30 s, waits of 5 s: 135 s
    with (
        make_fetcher(settings, clock, max_retry_wait=5.0) as fetcher,
        pytest.raises(SourceError) as info,
    ):
        asyncio.run(fetcher.get(f"{server.url}/x", source="test"))
    assert clock.sleeps == [] and len(server.requests) == 1
    assert str(info.value) == (
        "test: HTTP 503 after 1 attempt; the server asked to wait 3600 s, past the time "
        "budget of 135 s for this request: not tried again"
    )


def test_persistent_503_is_one_line_source_error(server, clock, tmp_path):
    server.add("/rss/cs.CL", Reply(503, b"<html>down</html>"))
    settings = make_settings(server, tmp_path)
    with make_fetcher(settings, clock) as fetcher, pytest.raises(SourceError) as info:
        asyncio.run(
            ArxivRssSource("cs.CL", fetcher=fetcher).fetch(FetchContext(DAY, settings.sources))
        )
    assert str(info.value) == "arxiv-rss:cs.CL: HTTP 503 after 4 attempts"
    assert len(server.requests) == 4
    assert info.value.exit_code == 3


def test_a_key_in_a_configured_url_never_reaches_the_sources_error(server, clock, tmp_path):
    """The reason of a failed source is shown in the email and digest.json: a proxy's key in
    the configured URL is masked there, while the host and path still say which URL failed."""
    server.add("/api/daily_papers", Reply(404, b"not found"))
    settings = make_settings(
        server, tmp_path, hf_url=f"{server.url}/api/daily_papers?key=sk-SECRET1234567890"
    )
    with make_fetcher(settings, clock) as fetcher, pytest.raises(SourceError) as info:
        asyncio.run(fetcher.get(settings.sources.hf_url, source="hf-daily"))
    assert "SECRET1234567890" not in str(info.value)
    assert f"HTTP 404 from {server.url}/api/daily_papers?key=***" in str(info.value)
    [request] = server.requests
    assert request.param("key") == "sk-SECRET1234567890"  # sent as configured


def test_404_is_not_retried(server, clock, tmp_path):
    server.add("/rss/nope.XX", Reply(404, b"not found"))
    settings = make_settings(server, tmp_path)
    with make_fetcher(settings, clock) as fetcher, pytest.raises(SourceError) as info:
        asyncio.run(
            ArxivRssSource("nope.XX", fetcher=fetcher).fetch(FetchContext(DAY, settings.sources))
        )
    assert str(info.value).startswith("arxiv-rss:nope.XX: HTTP 404 from http://127.0.0.1:")
    assert len(server.requests) == 1


def test_dropped_connection_is_retried(server, clock, tmp_path):
    server.enqueue(Reply(drop=True))
    server.add("/x", Reply(200, b"fine"))
    settings = make_settings(server, tmp_path)
    with make_fetcher(settings, clock) as fetcher:
        assert asyncio.run(fetcher.get(f"{server.url}/x", source="test")).text == "fine"
    assert len(server.requests) == 2
    assert len(clock.sleeps) == 1 and 0 < clock.sleeps[0] <= 30  # backoff, not real sleep


def test_connection_refused_after_attempts(clock, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(home=tmp_path, sources=SourcesSettings(max_attempts=2))
    with make_fetcher(settings, clock) as fetcher, pytest.raises(SourceError) as info:
        asyncio.run(fetcher.get(f"http://127.0.0.1:{port}/rss/cs.CL", source="arxiv-rss:cs.CL"))
    message = str(info.value)
    assert message.startswith("arxiv-rss:cs.CL: connection failed after 2 attempts")
    assert "\n" not in message
    assert len(clock.sleeps) == 1


def test_timeout_is_retried_then_reported(server, clock, tmp_path):
    server.add("/slow", Reply(200, b"late", delay=0.5))
    settings = make_settings(server, tmp_path, timeout_seconds=0.05, max_attempts=2)
    with make_fetcher(settings, clock) as fetcher, pytest.raises(SourceError) as info:
        asyncio.run(fetcher.get(f"{server.url}/slow", source="hf-daily"))
    assert str(info.value).startswith("hf-daily: timed out after 2 attempts")
    assert len(server.requests) == 2


def test_user_agent_and_utf8_decoding(server, clock, tmp_path):
    # Declared latin-1, but the bytes are UTF-8: we decode the bytes as UTF-8 regardless.
    body = "José Raúl Wübben \xff".encode() + b" bad:\xff\xfe"
    server.add("/x", Reply(200, body, {"Content-Type": "text/plain; charset=iso-8859-1"}))
    settings = make_settings(server, tmp_path, user_agent="paper-digest-test/1.0 (+mailto:x@y)")
    with make_fetcher(settings, clock) as fetcher:
        text = asyncio.run(fetcher.get(f"{server.url}/x", source="test")).text
    assert text.startswith("José Raúl Wübben ÿ bad:")
    assert text.endswith("\ufffd\ufffd")
    assert server.requests[0].headers["user-agent"] == "paper-digest-test/1.0 (+mailto:x@y)"


def test_decode_body_drops_bom():
    assert decode_body(b"\xef\xbb\xbf<rss/>") == "<rss/>"


def test_etag_conditional_request_returns_stored_body_on_304(server, clock, tmp_path):
    validators = {"ETag": '"feed-v1"', "Last-Modified": "Mon, 27 Apr 2026 04:00:02 GMT"}
    server.enqueue(Reply(200, RSS_CL, validators), Reply(304, headers={"ETag": '"feed-v1"'}))
    settings = make_settings(server, tmp_path)
    store = Store.open(tmp_path)
    try:
        ctx = FetchContext(DAY, settings.sources, store=store)
        with make_fetcher(settings, clock) as fetcher:
            source = ArxivRssSource("cs.CL", fetcher=fetcher)
            first = asyncio.run(source.fetch(ctx))
            second = asyncio.run(source.fetch(ctx))
        url = f"{server.url}/rss/cs.CL"
        etag, last_modified, body = store.http_validators(url)
    finally:
        store.close()
    assert [p.id for p in second] == [p.id for p in first] and len(first) == 3
    assert second == first
    assert (etag, last_modified, body) == ('"feed-v1"', validators["Last-Modified"], RSS_CL)
    assert "if-none-match" not in server.requests[0].headers
    assert server.requests[1].headers["if-none-match"] == '"feed-v1"'
    assert server.requests[1].headers["if-modified-since"] == validators["Last-Modified"]


def test_no_store_no_conditional_headers(server, clock, tmp_path):
    server.add("/x", Reply(200, b"a", {"ETag": '"e"'}))
    settings = make_settings(server, tmp_path)
    with make_fetcher(settings, clock) as fetcher:
        asyncio.run(fetcher.get(f"{server.url}/x", source="t"))
        asyncio.run(fetcher.get(f"{server.url}/x", source="t"))
    assert all("if-none-match" not in r.headers for r in server.requests)


def test_arxiv_spacing_three_seconds_on_fake_clock(server, clock, tmp_path):
    server.add("/rss/cs.CL", Reply(200, RSS_CL))
    settings = make_settings(server, tmp_path)
    ctx = FetchContext(DAY, settings.sources)
    with make_fetcher(settings, clock) as fetcher:
        source = ArxivRssSource("cs.CL", fetcher=fetcher)
        asyncio.run(source.fetch(ctx))
        assert clock.sleeps == []  # the first request goes at once
        asyncio.run(source.fetch(ctx))
    assert clock.sleeps == [pytest.approx(3.0)]
    assert len(server.requests) == 2


def test_arxiv_spacing_is_shared_across_endpoints(server, clock, tmp_path):
    api_body = (FIXTURES / "arxiv_api" / "arxivpy2016_id_list_1111.2011v2.xml").read_bytes()
    server.add("/rss/cs.CL", Reply(200, RSS_CL))
    server.add("/api/query", Reply(200, api_body))
    settings = make_settings(server, tmp_path, arxiv_api_max_results=10)
    ctx = FetchContext(DAY, settings.sources)
    with make_fetcher(settings, clock) as fetcher:
        asyncio.run(ArxivRssSource("cs.CL", fetcher=fetcher).fetch(ctx))
        clock.advance(1.0)  # one second of other work between the two
        asyncio.run(ArxivApiSource("cat:cond-mat.str-el", fetcher=fetcher).fetch(ctx))
    assert clock.sleeps == [pytest.approx(2.0)]


def test_gate_allows_one_connection_at_a_time(server, tmp_path):
    server.add("/rss/cs.CL", Reply(200, RSS_CL, delay=0.15))
    settings = make_settings(server, tmp_path, arxiv_min_interval_seconds=0)
    gate = RateGate()  # the real gate, but no spacing: only the one-at-a-time rule is tested
    fetchers = [HttpFetcher(settings.sources, arxiv_gate=gate) for _ in range(3)]

    async def three_at_once() -> list[list]:
        ctx = FetchContext(DAY, settings.sources)
        return await asyncio.gather(
            *(ArxivRssSource("cs.CL", fetcher=f).fetch(ctx) for f in fetchers)
        )

    results = asyncio.run(three_at_once())
    assert [len(papers) for papers in results] == [3, 3, 3]
    assert len(server.requests) == 3
    assert server.max_concurrent == 1


def test_the_gate_spaces_concurrent_requests_and_holds_across_event_loops():
    """Three coroutines on one service: each waits its turn and the spacing after the one
    before (recorded on a fake clock); a later event loop still honours the last request."""
    clock = FakeClock(start=0.0)
    gate = RateGate(clock=clock.now, sleep=clock.asleep)
    order: list[int] = []

    async def one(number: int) -> None:
        async with gate.turn(3.0):
            order.append(number)
            await asyncio.sleep(0)  # another coroutine runs here, and must not get in
            order.append(number)

    async def three() -> None:
        await asyncio.gather(one(1), one(2), one(3))

    asyncio.run(three())
    assert order == [1, 1, 2, 2, 3, 3]
    assert clock.sleeps == [3.0, 3.0]
    asyncio.run(one(4))  # a new loop (a second command in one process): still spaced
    assert clock.sleeps == [3.0, 3.0, 3.0]


def test_rate_gate_unit():
    clock = FakeClock(start=0.0)
    gate = RateGate(clock=clock.now, sleep=clock.asleep)

    async def turns() -> None:
        async with gate.turn(3.0):
            pass
        clock.advance(5.0)
        async with gate.turn(3.0):  # 5 s passed: no wait
            pass
        async with gate.turn(3.0):
            pass

    asyncio.run(turns())
    assert clock.sleeps == [3.0]


def test_parse_retry_after():
    now = dt.datetime(2026, 4, 27, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Mon, 27 Apr 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 27 Apr 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
