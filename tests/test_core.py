"""The shared core of issue 23: the bounded HTTP client (real loopback servers), the bounded
parsers, the link policy, defanging and log redaction, each held to its contract."""

from __future__ import annotations

import asyncio
import logging
import math

import pytest

from agent.core import parsing, redact
from agent.core.defang import defang, find_address
from agent.core.http import HttpClient, HttpFailure, Limits
from agent.core.links import link_from
from agent.core.urls import check_http_url
from tests.fakes.http_server import FakeClock, Reply, ScriptedHttpServer

# -- the client ----------------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_a_post_whose_answer_headers_trickle_is_cut_at_the_whole_request_deadline() -> None:
    with ScriptedHttpServer() as server:
        server.add("/hook", Reply(200, trickle=0.1, trickle_headers=True))
        with pytest.raises(HttpFailure) as info:
            asyncio.run(
                HttpClient().request(
                    "POST",
                    f"{server.url}/hook",
                    content=b"{}",
                    limits=Limits(timeout=0.5, max_bytes=10),
                )
            )
        assert server.requests[0].body == b"{}"
    assert info.value.kind == "timeout" and "(whole request)" in info.value.reason


def test_retries_follow_the_one_policy_and_a_hint_past_the_budget_fails_at_once() -> None:
    clock = FakeClock()
    client = HttpClient(sleep=clock.asleep, clock=clock.now)
    limits = Limits(timeout=5, max_bytes=1_000, attempts=3, max_wait=10)  # budget 3*5 + 2*10
    with ScriptedHttpServer() as server:
        server.enqueue(Reply(503, headers={"Retry-After": "2"}), Reply(200, "ok"))
        assert asyncio.run(client.request("GET", server.url, limits=limits)).text == "ok"
        assert clock.sleeps == [2.0]
        server.enqueue(Reply(429, headers={"Retry-After": "36"}))  # more than the 35 s budget
        with pytest.raises(HttpFailure) as info:
            asyncio.run(client.request("GET", server.url, limits=limits))
    assert clock.sleeps == [2.0] and info.value.attempts == 1 and info.value.status == 429
    assert "asked to wait 36 s, past the time budget of 35 s" in info.value.reason


@pytest.mark.parametrize(
    ("reply", "kind", "words"),
    [
        (Reply(200, endless=True), "too_large", "response larger than 100,000 bytes"),
        (Reply(200, b"x" * 200_000), "too_large", "response larger than 100,000 bytes"),
        (Reply(302, headers={"Location": "file:///etc/passwd"}), "invalid", "not http(s)"),
        (Reply(404, "no"), "status", "HTTP 404"),
    ],
    ids=["endless", "declared", "file-redirect", "404"],
)
@pytest.mark.timeout(20)
def test_every_failure_is_one_kind_and_one_line(reply: Reply, kind: str, words: str) -> None:
    with ScriptedHttpServer() as server:
        server.add("/x", reply)
        with pytest.raises(HttpFailure) as info:
            asyncio.run(
                HttpClient().request(
                    "GET", f"{server.url}/x", limits=Limits(timeout=5, max_bytes=100_000)
                )
            )
    assert info.value.kind == kind and words in info.value.reason
    assert "\n" not in info.value.reason and "127.0.0.1" not in info.value.reason


def test_secret_headers_go_to_the_first_origin_only() -> None:
    """A redirect within the origin keeps the caller's secret header; one to another host or
    port (two loopback servers: 127.0.0.1 and localhost) is followed without it or Authorization."""
    secret = {"X-Api-Key": "key-0123456789", "Authorization": "Bearer tok-0123456789"}
    limits = Limits(timeout=5, max_bytes=1_000)
    with ScriptedHttpServer() as first, ScriptedHttpServer() as other:
        elsewhere = other.url.replace("127.0.0.1", "localhost")
        first.add("/a", Reply(302, headers={"Location": "/b"}))
        first.add("/b", Reply(302, headers={"Location": f"{elsewhere}/c"}))
        other.add("/c", Reply(200, "ok"))
        answer = asyncio.run(
            HttpClient().request(
                "GET",
                f"{first.url}/a",
                limits=limits,
                headers=secret,
                secret_headers=("x-api-key",),
            )
        )
        assert answer.text == "ok"
        assert [r.headers.get("x-api-key") for r in first.requests] == ["key-0123456789"] * 2
        (outside,) = other.requests
    assert "x-api-key" not in outside.headers and "authorization" not in outside.headers


def test_a_url_that_does_not_parse_is_a_failure_not_a_crash() -> None:
    with pytest.raises(HttpFailure) as info:
        asyncio.run(
            HttpClient().request(
                "GET", "http://exa mple/\n", limits=Limits(timeout=1, max_bytes=10)
            )
        )
    assert info.value.kind == "invalid"
    with pytest.raises(ValueError, match="line breaks"):
        check_http_url("https://hooks.example/a\nb", "a webhook url")
    with pytest.raises(ValueError, match="must start with https://"):
        check_http_url("javascript:alert(1)")


# -- parsing --------------------------------------------------------------------------------------


def test_json_is_read_depth_and_size_capped_and_huge_integers_are_infinite() -> None:
    assert parsing.loads('{"a": [1, {"b": "[[[["}]}') == {"a": [1, {"b": "[[[["}]}
    assert parsing.loads("[1" + "0" * 400 + ", -1" + "0" * 40 + "]") == [math.inf, -math.inf]
    for text in ("[" * 200_000, "[" * 65 + "]" * 65, '{"a":' * 100 + "1" + "}" * 100):
        with pytest.raises(parsing.JsonError, match="nested too deeply") as deep:
            parsing.loads(text)
        assert deep.value.kind == "refused"
    with pytest.raises(parsing.JsonError, match="longer than 10 characters") as long:
        parsing.loads("[" + "1," * 10 + "1]", max_chars=10)
    assert long.value.kind == "refused"
    error = pytest.raises(parsing.JsonError, parsing.loads, '{"a": 1,\n "b": }').value
    assert error.lineno == 2 and error.kind == "malformed"


def test_nesting_depth_is_exact_for_balanced_text_and_ignores_strings() -> None:
    assert parsing.nesting_depth("[1, [2, {3: [4]}]]") == 4
    assert parsing.nesting_depth('["[[[[[[", {"a": "}}}"}]') == 2
    assert parsing.nesting_depth("[[],[],[[]]]") == 3
    assert parsing.nesting_depth("[[]," * 100, limit=64) == 65
    assert parsing.nesting_depth("a = [[1]] # [[[[[[", strings=parsing._TOML_STRING) == 2


def test_integers_from_headers_have_a_digit_limit() -> None:
    assert parsing.bounded_int("123") == 123
    assert parsing.bounded_int("9" * 5000) is None
    assert parsing.bounded_int("-1") is None and parsing.bounded_int("١٢") is None


# -- the link policy and defanging ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "built"),
    [
        ("http://arxiv.org/abs/2604.22002v2", "https://arxiv.org/abs/2604.22002"),
        ("https://export.arxiv.org/pdf/2604.22002v3.pdf", "https://arxiv.org/pdf/2604.22002v3"),
        ("https://arxiv.org/abs/astro-ph/0601001", "https://arxiv.org/abs/astro-ph/0601001"),
        ("https://huggingface.co/papers/2606.00467", "https://huggingface.co/papers/2606.00467"),
        ("https://github.com/owner/repo/tree/main", "https://github.com/owner/repo"),
        (
            "https://www.semanticscholar.org/paper/T/" + "a" * 40,
            S2 := "https://www.semanticscholar.org/paper/" + "a" * 40,
        ),
        ("https://huggingface.co/papers/x|Verify><https://evil.example/phish|Click", None),
        ("https://huggingface.co/papers/y)[Click](https://evil.example/phish)", None),
        ('https://huggingface.co/papers/x"><script>alert(1)</script>', None),
        ('https://github.com/a/b"><script>', None),
        ("javascript:alert(1)", None),
        ("file:///etc/passwd", None),
        ("https://evil.example/paper.pdf", None),
        ("https://user:pw@github.com/a/b", None),
        ("https://github.com/settings/profile", None),
    ],
)
def test_links_are_rebuilt_from_validated_parts_or_dropped(given: str, built: str | None) -> None:
    assert link_from(given) == built
    if built is not None:
        assert link_from(built) == built  # what the policy builds, it keeps


@pytest.mark.parametrize(
    ("text", "inert"),
    [
        ("See evil.example/phish now.", "See evil[.]example/phish now."),
        ("Go to bit.ly/3xYz.", "Go to bit[.]ly/3xYz."),
        ("Mirror at 203.0.113.5/x", "Mirror at 203[.]0[.]113[.]5/x"),
        ("Mail attacker@evil-phish.com", "Mail attacker[@]evil-phish[.]com"),
        ("See https://evil.example/a", "See https[:]//evil[.]example/a"),
        ("Visit www.evil.test today", "Visit www[.]evil[.]test today"),
        ("Use evil。com", "Use evil[.]com"),
    ],
)
def test_addresses_in_prose_are_made_inert(text: str, inert: str) -> None:
    assert find_address(text) is not None
    assert defang(text) == inert and defang(inert) == inert


@pytest.mark.parametrize(
    "text",
    ["GPT-4.5 beats Llama-3.1 on 2.5 of 3 tasks, e.g. Node.js and the U.S. data (Fig. 3.2)."],
)
def test_ordinary_prose_is_left_alone(text: str) -> None:
    assert find_address(text) is None and defang(text) == text


# -- redaction ------------------------------------------------------------------------------------


def test_log_lines_of_http_libraries_never_carry_tokens(caplog: pytest.LogCaptureFixture) -> None:
    redact.install()
    redact.register_secret("sk-live-1234567890")
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info(
            'HTTP Request: %s %s "%s"',
            "POST",
            "https://hooks.slack.com/services/T0001/B0002/abcdEFGH1234ijkl?token=s3cr3t&x=1",
            "HTTP/1.1 200 OK",
        )
        logging.getLogger("httpx").info("key sk-live-1234567890 used")
    first, second = (r.getMessage() for r in caplog.records)
    assert first.startswith("HTTP Request: POST https://hooks.slack.com/services/T0001/B0002/***")
    assert "abcdEFGH1234ijkl" not in first and "s3cr3t" not in first and "token=***" in first
    assert second == "key *** used"


def test_full_url_adds_params_to_the_query_a_configured_url_already_has() -> None:
    from agent.core.http import full_url

    assert full_url("https://proxy.example/api?key=k", {"date": "2026-12-07"}) == (
        "https://proxy.example/api?key=k&date=2026-12-07"
    )
    assert full_url("https://x.org/a", None) == "https://x.org/a"


def test_archive_links_refuse_what_settings_urls_refuse() -> None:
    from agent.core.urls import http_url

    for bad in (
        "http://@/x",
        "http://:80/",
        "http://h:99999/",
        "http://a\x7fb.com/",
        "javascript:x",
    ):
        assert http_url(bad) is None, bad
    assert http_url(" https://example.org/a ") == "https://example.org/a"


def test_link_from_takes_any_json_value() -> None:
    for value in (5, None, ["https://arxiv.org/abs/2301.00001"], {"u": 1}):
        assert link_from(value) is None
    assert link_from("https://arxiv.org/abs/2301.00001") == "https://arxiv.org/abs/2301.00001"
