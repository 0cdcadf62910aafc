"""Many days in a row, as a researcher runs them: an arXiv RSS server on loopback serving one
feed per day (items in the recorded rss.arxiv.org format of tests/fixtures/arxiv_rss,
abstracts from the bundled real sample day), a paged arXiv API and dated Hugging Face daily
servers, an aiosmtpd mail server, and `digest daily --date D` as cron runs it."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path
from typing import Self

from tests.processes import clean_env, digest_process

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = [
    json.loads(line)
    for line in (ROOT / "agent/data/sample-daily-papers.jsonl").read_text().splitlines()
    if line.strip()
]

ITEM = """    <item>
      <title>{title}</title>
      <link>https://arxiv.org/abs/{id}</link>
      <description>arXiv:{id}v{v} Announce Type: {kind} 
Abstract: {abstract}</description>
      <guid isPermaLink="false">oai:arXiv.org:{id}v{v}</guid>
      <category>{cat}</category>
      <pubDate>{when}</pubDate>
      <arxiv:announce_type>{kind}</arxiv:announce_type>
      <dc:rights>http://creativecommons.org/licenses/by-nc-sa/4.0/</dc:rights>
      <dc:creator>{authors}</dc:creator>
    </item>
"""

HEAD = """<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">
  <channel>
    <title>cs.CL updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/cs.CL</link>
    <description>cs.CL updates on the arXiv.org e-print archive.</description>
    <lastBuildDate>{when}</lastBuildDate>
    <pubDate>{when}</pubDate>
{items}  </channel>
</rss>
"""


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Item:
    n: int  # index into the sample day (title and abstract)
    v: int = 1
    kind: str = "new"
    cat: str = "cs.CL"
    arxiv_id: str = ""  # a given id (a paper Hugging Face listed too), else one of our own

    @property
    def id(self) -> str:
        return self.arxiv_id or f"2612.{10000 + self.n:05d}"


def feed(day: dt.date, items: list[Item]) -> str:
    when = format_datetime(dt.datetime(day.year, day.month, day.day, 5, tzinfo=dt.UTC))
    body = "".join(
        ITEM.format(
            title=esc(SAMPLE[i.n % len(SAMPLE)]["title"]),
            abstract=esc(SAMPLE[i.n % len(SAMPLE)]["abstract"]),
            id=i.id,
            v=i.v,
            kind=i.kind,
            cat=i.cat,
            when=when,
            authors=esc(", ".join(SAMPLE[i.n % len(SAMPLE)].get("authors") or ["A. Author"])),
        )
        for i in items
    )
    return HEAD.format(when=when, items=body)


def write_config(home: Path, rss: str, smtp_port: int | None, extra: str = "") -> Path:
    config = home / "digest.toml"
    email = (
        f"""
[email]
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
security = "none"
sender = "Paper digest <digest@example.org>"
recipients = ["reader@example.org"]
timeout_seconds = 3
max_attempts = 1
"""
        if smtp_port
        else ""
    )
    config.write_text(
        f"""interests = "language models, machine translation"
max_papers = 30
{extra}
[sources]
default = ["arxiv-rss:cs.CL"]
arxiv_rss_url = "{rss}/rss/"
arxiv_min_interval_seconds = 0
max_attempts = 1
timeout_seconds = 3
{email}"""
    )
    return config


def digest(home: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`digest ARGS` as cron runs it for the reader whose config and state are under `home`."""
    env = clean_env(
        DIGEST_HOME=str(home / "state"), DIGEST_CONFIG=str(home / "digest.toml"), COLUMNS="120"
    )
    return digest_process(*args, cwd=home, env=env, timeout=timeout)


API_ENTRY = """  <entry>
    <id>http://arxiv.org/abs/{id}v{v}</id>
    <updated>{when}</updated>
    <published>{when}</published>
    <title>{title}</title>
    <summary>{abstract}</summary>
    <author>
      <name>{author}</name>
    </author>
    <link href="http://arxiv.org/abs/{id}v{v}" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{id}v{v}" rel="related" type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
"""

API_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="html">ArXiv Query: search_query=cat:cs.CL</title>
  <id>http://arxiv.org/api/audit</id>
  <updated>{when}</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}</opensearch:itemsPerPage>
{entries}</feed>
"""


def api_feed(day: dt.date, items: list[Item]) -> str:
    """The arXiv API's answer to `cat:cs.CL`, newest first (a search spans several days)."""
    when = f"{day.isoformat()}T10:00:00Z"
    entries = "".join(
        API_ENTRY.format(
            id=i.id,
            v=i.v,
            when=when,
            title=esc(SAMPLE[i.n % len(SAMPLE)]["title"]),
            abstract=esc(SAMPLE[i.n % len(SAMPLE)]["abstract"]),
            author=esc((SAMPLE[i.n % len(SAMPLE)].get("authors") or ["A. Author"])[0]),
        )
        for i in items
    )
    return API_HEAD.format(when=when, total=len(items), entries=entries)


def use_api(home: Path, api: str) -> None:
    """Switch the config's source to the arXiv API search `arxiv:cat:cs.CL`."""
    config = home / "digest.toml"
    text = config.read_text().replace(
        'default = ["arxiv-rss:cs.CL"]', 'default = ["arxiv:cat:cs.CL"]'
    )
    config.write_text(
        text.replace("[sources]\n", f'[sources]\narxiv_api_url = "{api}/api/query"\n', 1)
    )


HF_DAY = json.loads(
    (ROOT / "tests/fixtures/hf_daily_papers/sotawhat_hf_daily_papers_limit30.json").read_text()
)


class _QueryServer:
    """A loopback HTTP server whose GET answers are computed from the query string
    (`answer`: status, content type, body)."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler
        from urllib.parse import parse_qs, urlsplit

        from tests.fakes.http_server import LoopbackHttpServer

        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                status, content_type, body = outer.answer(parse_qs(urlsplit(self.path).query))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = LoopbackHttpServer(Handler)

    def answer(self, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()


class DatedHfServer(_QueryServer):
    """The Hugging Face daily papers API on loopback: `?date=YYYY-MM-DD` answers that day's
    list (the recorded day's items, a slice per date), as huggingface.co does for any past
    date; `fail` makes a date answer 500 (the outage of that morning)."""

    def __init__(self, days: dict[dt.date, list[int]]) -> None:
        self.days = days
        self.fail: set[dt.date] = set()
        self.asked: list[str] = []
        super().__init__()

    def answer(self, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        day = dt.date.fromisoformat(query["date"][0])
        self.asked.append(day.isoformat())
        if day in self.fail:
            return 500, "application/json", b'{"error": "Internal Error"}'
        return (
            200,
            "application/json",
            json.dumps([HF_DAY[i] for i in self.days.get(day, [])]).encode(),
        )

    @property
    def url(self) -> str:
        return self._server.root + "/api/daily_papers"

    def ids(self, day: dt.date) -> set[str]:
        return {HF_DAY[i]["paper"]["id"] for i in self.days.get(day, [])}


def use_hf(home: Path, hf_url: str) -> None:
    """Switch the config's source to Hugging Face daily papers."""
    config = home / "digest.toml"
    text = config.read_text().replace('default = ["arxiv-rss:cs.CL"]', 'default = ["hf-daily"]')
    config.write_text(text.replace("[sources]\n", f'[sources]\nhf_url = "{hf_url}"\n', 1))


class PagedApiServer(_QueryServer):
    """The arXiv API on loopback, paged as export.arxiv.org pages: `start` and `max_results`
    pick a slice of `items` (newest first), `totalResults` says how many match."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.day = dt.date(2026, 11, 30)
        super().__init__()

    def answer(self, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        start, size = int(query["start"][0]), int(query["max_results"][0])
        page = api_feed(self.day, self.items[start : start + size])
        page = page.replace(
            f">{len(self.items[start : start + size])}</opensearch:totalResults>",
            f">{len(self.items)}</opensearch:totalResults>",
        )
        return 200, "application/atom+xml", page.encode()

    @property
    def url(self) -> str:
        return self._server.root
