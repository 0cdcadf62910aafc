"""Issue 23, cases 8 and 9: one link policy for every channel. Links are rebuilt from validated
ids (`agent.core.links`); prose the model writes carries no address a client would link; titles
and ids are escaped per channel. Checked on what the run really wrote and posted: the email
parts, digest.json, digest.md and the Slack and Discord payloads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agent.core.links import link_from
from tests.bounded_cli import DAY, cli, no_traceback, output_text
from tests.fakes.hostile_model import complying_model
from tests.fakes.http_server import Reply, ScriptedHttpServer
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.webhook_server import WebhookServer

MARKERS = ("evil.example", "bit.ly/", "203.0.113.5", "attacker@evil-phish.com", "evil-phish.com")
HOSTILE_IDS = [
    "x|Verify><https://evil.example/phish|Click",
    "y)[Click](https://evil.example/phish)",
    'x"><script>alert(1)</script>',
]
_HREF = re.compile(r"""href=["']([^"']+)["']""")


def absolute_links(text: str) -> list[str]:
    return [h for h in _HREF.findall(text) if "://" in h or h.startswith(("javascript", "file"))]


@pytest.mark.timeout(90)
def test_case8_addresses_the_model_writes_never_reach_an_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FakeOpenAIServer() as srv:
        srv.handler = complying_model
        env = {
            "DIGEST_LLM__BASE_URL": srv.base_url,
            "DIGEST_LLM__API_KEY": "sk-test",
            "DIGEST_LLM__LOCAL_DEFAULTS": "false",
            "DIGEST_LLM__MAX_REASKS": "1",
            "DIGEST_MAX_PAPERS": "8",
        }
        result = cli(
            tmp_path, "daily", "--source", "sample", "--engine", "llm", "--no-send",
            "--format", "md", "--date", DAY, "--out", str(out), env=env,
        )  # fmt: skip
        prompts = [r.prompt_text for r in srv.chat_requests]
    assert result.exit_code == 0, no_traceback(result)
    # the model was told why its answer was refused, and asked again
    assert any("no web or email addresses" in p for p in prompts)
    written = output_text(out)
    assert "digest.md" in {p.name for p in out.rglob("*")}
    for marker in MARKERS:
        assert marker not in written, marker
    assert "evil[.]example" in written or "They report a result." in written
    html = next(out.rglob("digest.html")).read_text(encoding="utf-8")
    assert all(link_from(h) == h for h in absolute_links(html))


@pytest.mark.timeout(90)
def test_case9_ids_and_urls_from_sources_cannot_make_links(tmp_path: Path) -> None:
    items = [
        {"paper": {"id": pid, "title": f"Paper {i}", "summary": "An abstract."}}
        for i, pid in enumerate(HOSTILE_IDS)
    ]
    items.append(
        {
            "paper": {
                "id": "2604.00001",
                "title": "A good paper <b>bold</b> [x](y)",
                "summary": "Code at https://github.com/good/repo.",
                "githubRepo": 'https://github.com/a/b"><script>alert(1)</script>',
            }
        }
    )
    local = tmp_path / "more.jsonl"
    local.write_text(
        json.dumps(
            {
                "id": "file-1",
                "title": "From a file",
                "url": "javascript:alert(1)",
                "pdf_url": "https://evil.example/x.pdf",
                "code_url": 'https://github.com/a/b"><script>alert(2)</script>',
                "hf_url": "https://huggingface.co/papers/x|Click><https://evil.example",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    with ScriptedHttpServer() as feed, WebhookServer() as hooks:
        feed.add("/api/daily_papers", Reply(200, json.dumps(items)))
        webhooks = [
            {"name": "s", "kind": "slack", "url": hooks.url("/slack")},
            {"name": "d", "kind": "discord", "url": hooks.url("/discord")},
            {"name": "j", "kind": "json", "url": hooks.url("/json")},
        ]
        env = {
            "DIGEST_SOURCES__HF_URL": f"{feed.url}/api/daily_papers",
            "DIGEST_WEBHOOKS": json.dumps(webhooks),
        }
        result = cli(
            tmp_path, "daily", "--source", "hf-daily", "--source", f"file:{local}",
            "--format", "md", "--date", DAY, "--out", str(out), env=env,
        )  # fmt: skip
        posts = {p.path: p.body.decode("utf-8") for p in hooks.posts}
    assert result.exit_code == 0, no_traceback(result)
    # an id with link syntax is no paper id: those items are skipped, the good one is kept
    health = {h["name"]: h for h in json.loads(posts["/json"])["health"]}
    assert health["hf-daily"]["count"] == 1 and health[f"file:{local}"]["count"] == 1
    slack, discord = json.loads(posts["/slack"]), json.loads(posts["/discord"])
    slack_text = " ".join(
        b["text"]["text"] for b in slack["blocks"] if b.get("text", {}).get("type") == "mrkdwn"
    )
    discord_text = " ".join(e["description"] for e in discord["embeds"])
    markdown = next(out.rglob("digest.md")).read_text(encoding="utf-8")
    html = next(out.rglob("digest.html")).read_text(encoding="utf-8")
    # every link of every channel is one the policy builds
    slack_links = re.findall(r"<([^|>]+)\|", slack_text)
    discord_links = re.findall(r"\]\(([^)]+)\)", discord_text)
    markdown_links = re.findall(r"\]\(<([^>]+)>\)", markdown)
    for found in (slack_links, discord_links, markdown_links, absolute_links(html)):
        assert found and all(link_from(u) == u for u in found), found
    # a repository is linked from the validated parts of the field, never the field as given
    assert "](<https://github.com/a/b>)" in markdown
    for text in (slack_text, discord_text, markdown, html, posts["/json"]):
        assert "<script" not in text and "https://evil.example" not in text
        assert "javascript:" not in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in slack_text  # titles are text in every channel
    assert "\\[x\\]\\(y\\)" in discord_text and "\\[x\\]" in markdown
