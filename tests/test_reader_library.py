"""The reader's library: every format parsed from real files, the arXiv look-up of a .txt over
a loopback server, the Zotero API through the bounded client against a loopback fake, the cache in the
state, and one clear error for a broken file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.config import Settings, SourcesSettings, ZoteroSettings
from agent.errors import ConfigError
from agent.select.library import detect_format, load_library
from agent.select.library.idlist import read_ids
from agent.select.library.zotero_api import ZoteroReader, load_zotero
from agent.sources.http import HttpFetcher, RateGate
from tests.fakes.http_server import FakeClock, Reply, ScriptedHttpServer, recording_sleep
from tests.fakes.zotero_server import FakeZotero, item

LIB = Path(__file__).parent / "fixtures" / "library"
API = Path(__file__).parent / "fixtures" / "arxiv_api"
SEED_TITLES = {
    "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained Transformers",
    "LaCo: Large Language Model Pruning via Layer Collapse",
    "SliceGPT: Compress Large Language Models by Deleting Rows and Columns",
    "Q8BERT: Quantized 8Bit BERT",
}


@pytest.mark.parametrize("name", ["compression.bib", "compression.ris", "compression.csv"])
def test_each_export_format_gives_the_four_papers(name: str, tmp_path: Path) -> None:
    entries = asyncio.run(load_library(LIB / name, Settings(home=tmp_path).sources, None))
    assert {e.title for e in entries} == SEED_TITLES
    gptq = next(e for e in entries if e.title.startswith("GPTQ"))
    assert "quantization" in gptq.abstract.lower() and len(gptq.abstract) > 300
    assert any("Frantar" in a for a in gptq.authors)


def test_bibtex_latex_is_cleaned_and_an_entry_without_abstract_counts_by_title(
    tmp_path: Path,
) -> None:
    bib = tmp_path / "mine.bib"
    bib.write_text(
        '@inproceedings{a1,\n  title = {{Nystr\\"{o}m} attention for {\\em long} inputs},\n'
        '  author = {M{\\"u}ller, Anna and Li, Bo}\n}\n',
        encoding="utf-8",
    )
    (entry,) = asyncio.run(load_library(bib, Settings(home=tmp_path).sources, None))
    assert entry.title == "Nyström attention for long inputs"
    assert entry.abstract == "" and entry.key == "a1"
    assert entry.authors == ("Müller, Anna", "Li, Bo")


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        (
            "broken.bib",
            "@article{ok, title={Fine}}\n@article{bad, title = {Unclosed\n",
            "broken entry",
        ),
        (
            "notitle.bib",
            "@article{key7, author={A. Person}, year={2020}}\n",
            "entry key7 has no title",
        ),
        ("broken.ris", "TY  - JOUR\nTI  - Never ends\n", "1 records start (TY) but 0 end"),
        ("notitle.csv", '"Key","Title","Author"\n"K1","","X"\n', "entry K1 has no title"),
        ("other.csv", '"Name","Year"\n"x","2020"\n', "no Title column"),
        (  # an unclosed quote in the header swallows the file: a field over csv's limit
            "header.csv",
            '"Title,Author,Abstract Note\n' + ("a" * 80 + "\n") * 2_000,
            "broken CSV at row 1 (the header)",
        ),
        (  # rows as a spreadsheet counts them: the header is row 1
            "row3.csv",
            'Key,Title\nK1,First\nK2,"' + "a" * 140_000 + '"\nK3,Third\n',
            "broken CSV at row 3:",
        ),
        ("ids.txt", "2301.00001\nnot an id at all\n", "line 2 is neither an arXiv id nor a DOI"),
        ("empty.bib", "% nothing here\n", "no usable entries"),
        ("latin1.bib", b"@article{k, title={Caf\xe9}}".decode("latin-1"), "not UTF-8"),
    ],
)
def test_a_broken_library_names_the_file_and_the_entry(
    tmp_path: Path, name: str, text: str, needle: str
) -> None:
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1") if name == "latin1.bib" else text.encode("utf-8"))
    with pytest.raises(ConfigError) as caught:
        asyncio.run(load_library(path, Settings(home=tmp_path).sources, None))
    message = str(caught.value)
    assert str(path) in message and needle in message and "\n" not in message


def test_papers_as_jsonl_like_the_file_source(tmp_path: Path) -> None:
    papers = tmp_path / "mine.jsonl"
    papers.write_text(
        '{"id": "2401.1", "title": "Pruning LLMs", "abstract": "We prune.", "categories": ["cs.CL"]}\n',
        encoding="utf-8",
    )
    (entry,) = asyncio.run(load_library(papers, Settings(home=tmp_path).sources, None))
    assert (entry.key, entry.title, entry.categories) == ("2401.1", "Pruning LLMs", ("cs.CL",))


@pytest.mark.parametrize(
    ("name", "authors"),
    [
        ("manubot_crossref_winter_scabs_csl.json", ("GEORGE D. WINTER",)),  # family, given
        ("manubot_arxiv_joss_csl.json", ("Arfon M Smith", "Kyle E Niemeyer")),  # literal
    ],
)
def test_a_csl_json_export_keeps_its_authors(
    name: str, authors: tuple[str, ...], tmp_path: Path
) -> None:
    """CSL-JSON (Zotero, Mendeley, citation.js) names authors in `author`: [{family, given}]
    or [{literal}]; real exports, copied from manubot's tests."""
    (entry,) = asyncio.run(load_library(LIB / name, Settings(home=tmp_path).sources, None))
    assert entry.authors[: len(authors)] == authors and entry.title and entry.key


def test_missing_file_and_directory_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        asyncio.run(load_library(tmp_path / "nope.bib", Settings(home=tmp_path).sources, None))
    with pytest.raises(ConfigError, match="is a directory"):
        asyncio.run(load_library(tmp_path, Settings(home=tmp_path).sources, None))


def test_an_endless_library_file_is_refused_at_the_cap(tmp_path: Path) -> None:
    endless = tmp_path / "library.bib"
    endless.symlink_to("/dev/zero")  # stat says 0 bytes; reading never ends
    with pytest.raises(
        ConfigError, match=r"library /dev/zero: more than the 50,000,000 bytes allowed"
    ):
        asyncio.run(load_library(endless, Settings(home=tmp_path).sources, None))


def test_format_by_content_when_the_extension_says_nothing(tmp_path: Path) -> None:
    assert detect_format(Path("x.export"), "\n@article{k, title={T}}") == "bib"
    assert detect_format(Path("x"), "TY  - JOUR\nER  - \n") == "ris"
    assert detect_format(Path("x"), '"Key","Item Type","Title"\n') == "csv"
    assert detect_format(Path("x"), "2301.00001\n") == "txt"


def test_id_list_reads_arxiv_ids_urls_and_dois() -> None:
    text = "# my papers\n2301.00001v2\nhttps://arxiv.org/abs/1707.08567\n\ndoi:10.48550/arXiv.2106.09685\n10.1000/xyz182\n2301.00001\n"
    assert read_ids(text, Path("l.txt")) == (
        ["2301.00001", "1707.08567", "2106.09685"],
        ["10.1000/xyz182"],
    )


def test_id_list_is_looked_up_through_the_arxiv_api_and_cached(tmp_path: Path, store) -> None:
    wrapper = json.loads(
        (API / "arxivpy_id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.json").read_text()
    )
    ids = tmp_path / "papers.txt"
    ids.write_text("1707.08567\n0808.05394\n10.1000/not-arxiv\n", encoding="utf-8")
    clock = FakeClock()
    with ScriptedHttpServer() as server:
        server.add(
            "/api/query",
            Reply(200, wrapper["body"].encode("latin-1"), {"Content-Type": "application/atom+xml"}),
        )
        settings = Settings(
            home=tmp_path, sources=SourcesSettings(arxiv_api_url=f"{server.url}/api/query")
        )
        gate = RateGate(clock=clock.now, sleep=clock.asleep)
        with HttpFetcher(settings.sources, sleep=clock.asleep, arxiv_gate=gate) as fetcher:
            entries = asyncio.run(load_library(ids, settings.sources, store, fetcher=fetcher))
        assert len(server.requests) == 1
        assert server.requests[0].param("search_query") == "id:1707.08567 OR id:0808.05394"
        assert [e.key for e in entries] == ["1707.08567"]  # 0808.05394 does not exist
        assert entries[0].title.startswith("Proceedings of Workshop AEW10")
        # unchanged file: from the state, no request
        again = asyncio.run(load_library(ids, settings.sources, store, fetcher=None))
        assert again == entries and len(server.requests) == 1


def test_a_changed_file_is_parsed_again(tmp_path: Path, store) -> None:
    bib = tmp_path / "lib.bib"
    bib.write_text("@article{a, title={First title}}\n", encoding="utf-8")
    settings = Settings(home=tmp_path)
    assert [e.title for e in asyncio.run(load_library(bib, settings.sources, store))] == [
        "First title"
    ]
    bib.write_text("@article{a, title={Second title}}\n", encoding="utf-8")
    assert [e.title for e in asyncio.run(load_library(bib, settings.sources, store))] == [
        "Second title"
    ]


def test_zotero_library_and_collection(tmp_path: Path, store) -> None:
    items = [
        item(f"K{i:03d}", f"Paper {i} on pruning", "An abstract.", ("Ada Lovelace",))
        for i in range(130)
    ]
    items.append(item("N1", "A note, not a paper", kind="note"))
    with FakeZotero(
        user_id="42", api_key="sekrit-key", items=items, collections={"COLL1": items[:3]}
    ) as fake:
        settings = ZoteroSettings(
            user_id="42", api_key=SecretStr("sekrit-key"), base_url=fake.url, timeout_seconds=2
        )
        entries = asyncio.run(load_zotero(settings, store))
        assert len(entries) == 130 and entries[0].authors == ("Ada Lovelace",)
        assert [q["start"] for _, q, _ in fake.requests] == [["0"], ["100"]]  # paged
        only = asyncio.run(
            load_zotero(settings.model_copy(update={"collections": ["COLL1"]}), store)
        )
        assert [e.key for e in only] == ["K000", "K001", "K002"]
        assert fake.requests[-1][0] == "/users/42/collections/COLL1/items/top"
        with pytest.raises(ConfigError, match="refused access.*api_key"):
            asyncio.run(
                load_zotero(settings.model_copy(update={"api_key": SecretStr("wrong")}), store)
            )
    # the state never holds the key
    assert b"sekrit-key" not in (tmp_path / "home" / "state.sqlite3").read_bytes()


def test_the_zotero_key_is_not_sent_on_to_another_host() -> None:
    """Zotero's key travels in its own header (`Zotero-API-Key`), which httpx would carry over
    a redirect to any host: a 302 to another origin is followed without it."""
    with ScriptedHttpServer() as zotero, ScriptedHttpServer() as other:
        elsewhere = other.url.replace("127.0.0.1", "localhost")  # another host and port
        zotero.add("/users/42/items/top", Reply(302, headers={"Location": f"{elsewhere}/c"}))
        other.add("/c", Reply(200, "[]", {"Content-Type": "application/json"}))
        settings = ZoteroSettings(
            user_id="42", api_key=SecretStr("zotero-key-0123456789"), base_url=zotero.url
        )
        assert asyncio.run(ZoteroReader(settings).read()) == []
        assert zotero.requests[0].headers["zotero-api-key"] == "zotero-key-0123456789"
        (outside,) = other.requests
    assert "zotero-api-key" not in outside.headers


def test_zotero_down_uses_the_last_good_copy(tmp_path: Path, store) -> None:
    items = [item("K1", "Paper on pruning")]
    with FakeZotero(user_id="7", api_key="k", items=items) as fake:
        settings = ZoteroSettings(
            user_id="7", api_key=SecretStr("k"), base_url=fake.url, timeout_seconds=2
        )
        assert [e.key for e in asyncio.run(load_zotero(settings, store))] == ["K1"]
    waits: list[float] = []
    with FakeZotero(user_id="7", api_key="k", items=items, status=500) as broken:
        down = settings.model_copy(update={"base_url": broken.url})
        assert [
            e.key for e in asyncio.run(load_zotero(down, store, sleep=recording_sleep(waits)))
        ] == ["K1"]
        assert len(broken.requests) == 3 and len(waits) == 2  # retried with backoff, then given up
        with pytest.raises(ConfigError, match="could not be read: HTTP 500"):
            asyncio.run(load_zotero(down, None, sleep=recording_sleep(waits)))
