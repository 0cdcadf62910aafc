"""Every entry point that takes outside bytes, fuzzed: each example ends in a value or in the
entry point's own error type, within the CPU budget (see `harness`). The default tier runs a
few dozen derandomized examples per target; `-m slow` (CI) a thousand; `make fuzz` many more,
random."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import httpx
import pytest
from hypothesis import strategies as st

from agent.config import SourcesSettings, WebhookSettings, load_settings
from agent.core.defang import defang, find_address
from agent.core.http import HttpClient, Response
from agent.core.links import link_from
from agent.deliver.webhooks import _post
from agent.errors import ConfigError, SourceError
from agent.select.library.formats import parse_bibtex, parse_ris, parse_zotero_csv
from agent.select.library.idlist import read_ids
from agent.select.library.zotero_api import ZoteroError, page_entries
from agent.sources.arxiv_api import parse_atom
from agent.sources.arxiv_rss import parse_rss
from agent.sources.clean import clean_text
from agent.sources.hf_daily import parse_daily_papers
from agent.sources.http import HttpFetcher, HttpResult, decode_body
from agent.sources.local import papers_from_text
from agent.sources.semantic_scholar import parse_search
from agent.summarize.llm.asking import lenient_json
from agent.summarize.llm.asking.junk import JunkContext
from agent.summarize.llm.asking.schemas import blurbs_schema, grouping_schema
from agent.summarize.llm.asking.validate import check
from agent.summarize.llm.models.batch.lines import parse_results
from tests.fakes.http_server import no_sleep
from tests.fuzz import strategies as s
from tests.fuzz.harness import Target, run


def _zotero(args: tuple[str, str]) -> object:
    kind, body = args
    content = body.encode("utf-8", "surrogatepass")  # bytes as they come, valid UTF-8 or not
    response = Response("https://api.zotero.org/x", 200, {"content-type": kind}, content)
    return page_entries(response, 20_000_000)


def _paper_file(args: tuple[str, str]) -> object:
    suffix, text = args
    return papers_from_text(Path(f"papers{suffix}"), text, "file:papers")


def _toml(text: str) -> object:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "digest.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        return load_settings(path)


def _environment(values: dict[str, str]) -> object:
    saved = dict(os.environ)
    try:
        for name, value in values.items():
            # what the OS lets a variable hold: no NUL, no lone surrogate
            os.environ[name] = value.replace("\x00", "").encode("utf-8", "replace").decode()
        return load_settings(None)
    finally:
        os.environ.clear()
        os.environ.update(saved)


_BLURBS = blurbs_schema(["P1", "P2"])
_GROUPING = grouping_schema(["P1", "P2", "P3"])


def _strict(text: str) -> object:
    for schema in (_BLURBS, _GROUPING):
        value, error = check(schema, text, JunkContext())
        assert (value is None) != (error is None)
    return None


def _mock(reply: tuple[int, dict[str, str], bytes]) -> httpx.MockTransport:
    status, headers, body = reply

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, content=body)

    return httpx.MockTransport(answer)


_HOOK = WebhookSettings(name="fuzz", url="https://hooks.example/T/B/x", max_attempts=2)


def _webhook(reply: tuple[int, dict[str, str], bytes]) -> object:
    client = HttpClient(sleep=no_sleep, transport=_mock(reply))
    outcome = asyncio.run(_post(_HOOK, b"{}", client=client))
    assert outcome.ok == (200 <= reply[0] < 300)
    return outcome


_SOURCES = SourcesSettings(max_attempts=2, timeout_seconds=5, max_response_bytes=10_000)


def _fetch(reply: tuple[int, dict[str, str], bytes]) -> object:
    fetcher = HttpFetcher(_SOURCES, sleep=no_sleep, transport=_mock(reply))
    result = asyncio.run(fetcher.get("https://feed.example/x", source="fuzz"))
    assert isinstance(result, HttpResult) and result.status == 200
    return result


def _cleaning(text: str) -> object:
    cleaned = clean_text(text)
    assert isinstance(cleaned, str) and "\n" not in cleaned
    return cleaned


def _links(text: str) -> object:
    built = link_from(text)
    text = text[:200_000]  # defanging only ever sees prose (a blurb is at most a few hundred)
    assert built is None or link_from(built) == built
    inert = defang(text)
    assert defang(inert) == inert
    find_address(text)
    return built


def _body(text: str) -> str:
    """A reply's text as the fetcher hands it to a parser: bytes decoded (bad ones replaced)."""
    return decode_body(text.encode("utf-8", "surrogatepass"))


TARGETS = [
    Target("hf-daily JSON", s.hf_papers, lambda t: parse_daily_papers(_body(t), source="hf"), (SourceError,)),
    Target("semantic-scholar JSON", s.s2_search, lambda t: parse_search(_body(t), source="s2"), (SourceError,)),
    Target("arxiv-api Atom", s.atom_feeds, lambda t: parse_atom(_body(t), source="arxiv"), (SourceError,)),
    Target("arxiv-rss feed", s.rss_feeds, lambda t: parse_rss(_body(t), source="rss"), (SourceError,)),
    Target("zotero page", st.tuples(st.sampled_from(["application/json", "", "text/plain"]), s.json_documents(st.lists(s.json_values))), _zotero, (ZoteroError,)),
    Target("bibtex library", s.bibtex, lambda t: parse_bibtex(t, Path("l.bib")), (ConfigError,)),
    Target("ris library", s.ris, lambda t: parse_ris(t, Path("l.ris")), (ConfigError,)),
    Target("zotero csv library", s.zotero_csv, lambda t: parse_zotero_csv(t, Path("l.csv")), (ConfigError,)),
    Target("id list library", s.id_lists, lambda t: read_ids(t, Path("l.txt")), (ConfigError,)),
    Target("paper files", st.tuples(st.sampled_from([".jsonl", ".json"]), s.paper_lines), _paper_file, (ConfigError,)),
    Target("TOML settings", s.toml_documents, _toml, (ConfigError,), examples=40),
    Target("DIGEST_* settings", s.env_settings, _environment, (ConfigError,), examples=40),
    Target("model answers (lenient)", s.model_answers, lenient_json.parse, (lenient_json.NotJson,)),
    Target("model answers (strict)", s.model_answers, _strict),
    Target("webhook replies", s.http_replies, _webhook, examples=40),
    Target("source replies", s.http_replies, _fetch, (SourceError,), examples=40),
    Target("text cleaning", s.hostile_text, _cleaning),
    Target("links and defanging", s.hostile_text, _links),
    Target("batch result lines", st.binary(max_size=3_000) | s.paper_lines.map(lambda t: t.encode("utf-8", "surrogatepass")), lambda b: parse_results(b, {"a", "b"})),
]  # fmt: skip


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_fuzz(target: Target) -> None:
    run(target, "default")


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_fuzz_long(target: Target) -> None:
    run(target, "fuzz" if os.environ.get("FUZZ_EXAMPLES") else "long")
