"""The digest as chat-webhook payloads: Slack Block Kit, Discord embeds, or digest.json.

Same facts as the email, shortened to what a chat message holds: the headline, then each theme
with its papers as links. Untrusted titles are escaped for each format (Slack mrkdwn `&<>`, and
`|` in link text; Discord Markdown, masked links included, in embed titles as in the text), links come only from the link
policy (`agent.core.links`: rebuilt from validated ids), and Discord mentions are disabled so a
title cannot ping @everyone. Every platform limit is respected (blocks, characters, embeds).
"""

from __future__ import annotations

import re
from typing import Any

from agent.models import Digest
from agent.render.json_export import digest_to_json
from agent.render.view import PaperView, build_view, clip

SLACK_MAX_BLOCKS = 50
SLACK_SECTION_CHARS = 3000
SLACK_HEADER_CHARS = 150
DISCORD_CONTENT_CHARS = 2000
DISCORD_MAX_EMBEDS = 10
DISCORD_TITLE_CHARS = 256
DISCORD_DESCRIPTION_CHARS = 4096
DISCORD_TOTAL_CHARS = 6000
_PAPERS_PER_THEME = 8

_DISCORD_SPECIAL = re.compile(r"([\\*_~`|>\[\]()#@<:-])")


def slack_text(text: str) -> str:
    """Plain text made literal in Slack mrkdwn: &, < and > escaped; no formatting of its own."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def discord_text(text: str) -> str:
    """Plain text made literal in Discord Markdown (no links, mentions or formatting)."""
    return _DISCORD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _slack_label(text: str) -> str:
    """Link text in Slack mrkdwn: escaped, and no "|" (the separator of `<url|text>`)."""
    return slack_text(text).replace("|", "\u2223")


def _slack_paper(p: PaperView) -> str:
    title = _slack_label(clip(p.title, 200))
    line = f"• <{p.url}|{title}>" if p.url else f"• {title}"
    code = next((link.url for link in p.links if link.label == "Code"), None)
    if code:
        line += f" · <{code}|code>"
    return line


def _fit(lines: list[str], limit: int, more: str) -> str:
    """Lines joined, as many as fit in `limit` characters, with `more` for the rest."""
    kept: list[str] = []
    for i, line in enumerate(lines):
        tail = more.format(n=len(lines) - i) if i < len(lines) else ""
        if len("\n".join([*kept, line])) + len(tail) + 1 > limit:
            return "\n".join([*kept, tail]) if tail else "\n".join(kept)
        kept.append(line)
    return "\n".join(kept)


def slack_payload(digest: Digest) -> dict[str, Any]:
    """A Slack incoming-webhook message in Block Kit, with `text` as the notification fallback."""
    v = build_view(digest)
    header = clip(f"Paper digest · {v.date_short}" + (f" · {v.topic}" if v.topic else ""), 150)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": slack_text(clip(v.headline or v.summary_line, 2900)),
            },
        },
    ]
    for t in v.themes:
        if len(blocks) + 3 > SLACK_MAX_BLOCKS:
            break
        lines = [_slack_paper(p) for p in t.papers[:_PAPERS_PER_THEME]]
        if len(t.papers) > _PAPERS_PER_THEME:
            lines.append(f"…and {len(t.papers) - _PAPERS_PER_THEME} more")
        head = f"*{slack_text(clip(t.title, 150))}* ({t.count})"
        body = _fit([head, *lines], SLACK_SECTION_CHARS, "…and {n} more")
        blocks += [
            {"type": "divider"},
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
        ]
    footer = f"{v.summary_line} · {v.engine_sentence}"
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": slack_text(clip(footer, 2900))}],
        }
    )
    return {"text": slack_text(clip(f"{header}: {v.headline}", 2900)), "blocks": blocks}


def discord_payload(digest: Digest) -> dict[str, Any]:
    """A Discord webhook message: the headline as content, one embed per theme (at most 10)."""
    v = build_view(digest)
    content = clip(
        f"**Paper digest · {v.date_short}** — {discord_text(v.headline)}", DISCORD_CONTENT_CHARS
    )
    embeds: list[dict[str, Any]] = []
    total = 0
    for t in v.themes[:DISCORD_MAX_EMBEDS]:
        lines = [
            f"• [{discord_text(clip(p.title, 180))}]({p.url})"
            if p.url
            else f"• {discord_text(p.title)}"
            for p in t.papers[:_PAPERS_PER_THEME]
        ]
        if len(t.papers) > _PAPERS_PER_THEME:
            lines.append(f"…and {len(t.papers) - _PAPERS_PER_THEME} more")
        # Discord renders Markdown in embed titles too: escaped, then clipped (the limit holds
        # for what is sent), the count kept.
        count = f" ({t.count})"
        title = clip(discord_text(t.title), DISCORD_TITLE_CHARS - len(count)) + count
        description = _fit(lines, min(DISCORD_DESCRIPTION_CHARS, 1500), "…and {n} more")
        if total + len(title) + len(description) > DISCORD_TOTAL_CHARS - len(content):
            break
        total += len(title) + len(description)
        embeds.append({"title": title, "description": description})
    return {"content": content, "embeds": embeds, "allowed_mentions": {"parse": []}}


def webhook_payload(kind: str, digest: Digest) -> dict[str, Any]:
    """The payload for one webhook kind: slack, discord or json (the whole digest.json)."""
    if kind == "slack":
        return slack_payload(digest)
    if kind == "discord":
        return discord_payload(digest)
    return digest_to_json(digest)
