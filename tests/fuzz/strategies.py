"""Hypothesis strategies for outside bytes: plain random text, and text built from the pieces
hostile inputs are made of (deep brackets and braces, LaTeX that regexes choke on, 400-digit
numbers, control and bidi characters, link syntax), repeated up to tens of thousands of times,
put where each format carries text."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import strategies as st

PIECES = [
    "{", "}", "[", "]", "{}", "[[", "]]", "\\", "\\\\", "$", "$$", "\\cite[", "\\cite{", "~\\cite",
    '\\"{', "{\\em ", "\\textbf{", "\\u{", "^{", "_{", "&amp;", "&#", "&#x", "&lt;", "<", ">",
    "<b>", "</", "<![CDATA[", "]]>", "<!ENTITY x", "\u202e", "\u200b", "\x00", "\x1b[31m", "\ud800",
    '"', "'", ",", ":", "\n", "\r\n", "\t", " ", "--", "``", "''", "1" + "0" * 400, "-1e999",
    "NaN", "Infinity", "http://evil.example/", "evil.example/phish", "bit.ly/x", "a@b.co",
    "203.0.113.5/x", "|", "](", ")[", "<script>", "javascript:", "file:///", "%", "#", "@",
    "a" * 30, "é", "中文", "🙂",
]  # fmt: skip

_piece_runs = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(PIECES),
    st.one_of(st.integers(1, 8), st.integers(1, 25_000)),
)

hostile_text: st.SearchStrategy[str] = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(_piece_runs, st.text(max_size=20)), max_size=12).map("".join),
)

json_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(10**500), max_value=10**500),
        st.floats(allow_nan=True, allow_infinity=True),
        hostile_text,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=6), st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=25,
)


def dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


def _field(name: str, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(st.just({}), strategy.map(lambda value: {name: value}))


def records(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with any subset of `fields`, each value from its strategy or any JSON value."""
    parts = [_field(k, st.one_of(v, json_values)) for k, v in fields.items()]
    return st.tuples(*parts).map(lambda ds: {k: v for d in ds for k, v in d.items()})


def json_documents(shape: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """JSON text of `shape`, of any JSON value, or not JSON at all."""
    return st.one_of(shape.map(dumps), json_values.map(dumps), hostile_text)


arxiv_ids = st.one_of(
    st.from_regex(r"\A\d{4}\.\d{4,5}(v\d)?\Z"), st.sampled_from(["astro-ph/0601001", "x|y>"])
)

hf_papers = json_documents(
    st.lists(
        records(
            {
                "paper": records(
                    {
                        "id": st.one_of(arxiv_ids, hostile_text),
                        "title": hostile_text,
                        "summary": hostile_text,
                        "authors": st.lists(records({"name": hostile_text}), max_size=4),
                        "upvotes": st.integers(min_value=-(10**420), max_value=10**420),
                        "githubRepo": hostile_text,
                        "githubStars": json_values,
                        "publishedAt": hostile_text,
                    }
                ),
                "title": hostile_text,
            }
        ),
        max_size=6,
    )
)

s2_search = json_documents(
    records(
        {
            "data": st.lists(
                records(
                    {
                        "paperId": st.one_of(st.from_regex(r"\A[0-9a-f]{40}\Z"), hostile_text),
                        "externalIds": records({"ArXiv": st.one_of(arxiv_ids, hostile_text)}),
                        "title": hostile_text,
                        "abstract": hostile_text,
                        "authors": st.lists(records({"name": hostile_text}), max_size=3),
                        "url": hostile_text,
                        "openAccessPdf": records({"url": hostile_text}),
                        "publicationDate": hostile_text,
                    }
                ),
                max_size=5,
            ),
            "error": hostile_text,
        }
    )
)


def _atom_entry(parts: tuple[str, ...]) -> str:
    eid, title, summary, author, comment = (escape(p) for p in parts)
    return (
        f"<entry><id>http://arxiv.org/abs/{eid}</id><title>{title}</title>"
        f"<summary>{summary}</summary><author><name>{author}</name></author>"
        f'<arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">{comment}</arxiv:comment>'
        f'<category term="{escape(title[:20], {chr(34): "&quot;"})}"/></entry>'
    )


def _rss_item(parts: tuple[str, ...]) -> str:
    guid, title, description, creator = (escape(p) for p in parts)
    return (
        f"<item><title>{title}</title><guid>oai:arXiv.org:{guid}</guid>"
        f"<description>arXiv:{guid} Announce Type: new Abstract: {description}</description>"
        f'<dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">{creator}</dc:creator></item>'
    )


def feeds(
    item: Callable[[tuple[str, ...]], str], fields: int, opening: str, closing: str
) -> st.SearchStrategy[str]:
    """Feeds of up to four items with hostile text in every field, a feed with hostile text
    for its items, and hostile text that is no feed at all."""
    return st.one_of(
        st.lists(st.tuples(*[hostile_text] * fields), max_size=4).map(
            lambda items: opening + "".join(map(item, items)) + closing
        ),
        hostile_text.map(lambda text: opening + text + closing),
        hostile_text,
    )


atom_feeds = feeds(_atom_entry, 5, '<feed xmlns="http://www.w3.org/2005/Atom">', "</feed>")
rss_feeds = feeds(_rss_item, 4, '<rss version="2.0"><channel><title>t</title>', "</channel></rss>")

bibtex = st.one_of(
    st.lists(st.tuples(hostile_text, hostile_text, hostile_text), max_size=4).map(
        lambda entries: "\n".join(
            f"@article{{k{i},\n  title = {{{t}}},\n  author = {{{a}}},\n  abstract = {{{b}}}\n}}"
            for i, (t, a, b) in enumerate(entries)
        )
    ),
    hostile_text.map(lambda t: "@article{" + t),
    hostile_text,
)

ris = st.one_of(
    st.lists(st.tuples(hostile_text, hostile_text, hostile_text), max_size=4).map(
        lambda entries: "".join(
            f"TY  - JOUR\nTI  - {t}\nAU  - {a}\nAB  - {b}\nER  - \n" for t, a, b in entries
        )
    ),
    hostile_text.map(lambda t: "TY  - " + t),
)

zotero_csv = st.one_of(
    st.lists(st.tuples(hostile_text, hostile_text, hostile_text), max_size=4).map(
        lambda rows: (
            '"Key","Item Type","Title","Author","Abstract Note"\n'
            + "".join(
                ",".join(dumps(x) for x in ("K", "journalArticle", t, a, b)) + "\n"
                for t, a, b in rows
            )
        )
    ),
    hostile_text.map(lambda t: '"Title"\n' + t),
)

id_lists = st.lists(
    st.one_of(arxiv_ids, st.from_regex(r"\A10\.\d{4}/[a-z0-9.]{1,12}\Z"), hostile_text), max_size=8
).map("\n".join)

paper_lines = json_documents(
    st.lists(
        records(
            {
                "id": hostile_text,
                "title": hostile_text,
                "abstract": hostile_text,
                "authors": st.one_of(hostile_text, st.lists(hostile_text, max_size=3)),
                "url": hostile_text,
                "code_url": hostile_text,
                "upvotes": json_values,
                "stars": json_values,
                "published": hostile_text,
                "version": json_values,
            }
        ),
        max_size=4,
    )
)

toml_values = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    hostile_text.map(dumps),
    st.lists(hostile_text.map(dumps), max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.integers(1, 5_000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 5_000).map(lambda n: "{a = " * n + "1" + "}" * n),
    hostile_text,
)
toml_keys = st.sampled_from(
    ["max_papers", "interests", "categories", "engine", "library", "home", "x", "llm.model"]
)
toml_documents = st.one_of(
    st.lists(st.tuples(toml_keys, toml_values), max_size=5).map(
        lambda pairs: "".join(f"{k} = {v}\n" for k, v in pairs)
    ),
    st.tuples(
        st.sampled_from(["email", "llm", "sources", "zotero", "[webhooks]"]),
        st.lists(st.tuples(toml_keys, toml_values), max_size=3),
    ).map(lambda t: f"[{t[0]}]\n" + "".join(f"{k} = {v}\n" for k, v in t[1])),
    hostile_text,
)

env_names = st.sampled_from(
    [
        "DIGEST_WEBHOOKS",
        "DIGEST_EMAIL__RECIPIENTS",
        "DIGEST_MAX_PAPERS",
        "DIGEST_CATEGORIES",
        "DIGEST_LLM__BASE_URL",
        "DIGEST_LLM__MODLE",
        "DIGEST_READERS",
        "DIGEST_ZOTERO__BASE_URL",
        "DIGEST_SOURCES__DEFAULT",
    ]
)
env_settings = st.dictionaries(
    env_names,
    st.one_of(
        hostile_text,
        json_values.map(dumps),
        st.integers(1, 30_000).map(lambda n: "[" * n + "]" * n),
    ),
    max_size=3,
)

model_answers = st.one_of(
    json_values.map(dumps),
    st.builds(
        lambda text, fence: f"```json\n{text}\n```" if fence else f"Sure! {text} Done.",
        json_documents(st.just({"blurbs": []})),
        st.booleans(),
    ),
    hostile_text,
)

http_replies = st.tuples(
    st.integers(100, 599),
    st.dictionaries(
        st.sampled_from(
            ["Retry-After", "Content-Length", "Content-Type", "Backoff", "Location", "X"]
        ),
        st.one_of(
            hostile_text.filter(
                lambda t: t.isascii() and "\n" not in t and "\r" not in t and "\x00" not in t
            ),
            st.integers(0, 10**400).map(str),
        ),
        max_size=4,
    ),
    st.binary(max_size=2_000),
)
