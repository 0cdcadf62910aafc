"""The render stage: a Digest in; HTML and text parts, an email message, digest.json out."""

from agent.render.archive_page import ArchiveEntry, render_archive_index
from agent.render.files import DigestFiles, write_digest_files
from agent.render.html import MAX_HTML_BYTES, RenderedHtml, render_html
from agent.render.json_export import SCHEMA_VERSION, digest_to_json
from agent.render.markdown import render_markdown
from agent.render.message import build_message, message_id, subject_line
from agent.render.text import render_text
from agent.render.view import safe_url, short_authors

__all__ = [
    "MAX_HTML_BYTES",
    "SCHEMA_VERSION",
    "ArchiveEntry",
    "DigestFiles",
    "RenderedHtml",
    "build_message",
    "digest_to_json",
    "message_id",
    "render_archive_index",
    "render_html",
    "render_markdown",
    "render_text",
    "safe_url",
    "short_authors",
    "subject_line",
    "write_digest_files",
]
