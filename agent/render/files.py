"""Write one digest's four files: digest.html, digest.txt, digest.eml, digest.json (atomically)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.core.atomic import write_atomic
from agent.errors import ConfigError
from agent.models import Digest
from agent.render.email import render_email
from agent.render.html import MAX_HTML_BYTES
from agent.render.json_export import digest_to_json
from agent.render.message import build_message


@dataclass(frozen=True)
class DigestFiles:
    html: Path
    text: Path
    eml: Path
    json: Path

    def by_kind(self) -> dict[str, Path]:
        """{"html": ..., "text": ..., "eml": ..., "json": ...}, in that order (for printing)."""
        return {"html": self.html, "text": self.text, "eml": self.eml, "json": self.json}


def write_digest_files(
    digest: Digest,
    out_dir: Path,
    *,
    sender: str | None = None,
    recipients: Sequence[str] = (),
    list_unsubscribe: str | Sequence[str] | None = None,
    max_html_bytes: int = MAX_HTML_BYTES,
) -> DigestFiles:
    """Render the digest and write its files into out_dir (created if missing)."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next(
            (p for p in (out_dir, *out_dir.parents) if p.exists() and not p.is_dir()), out_dir
        )
        raise ConfigError(
            f"cannot write the digest into {out_dir}: {blocker} is a file, not a directory; "
            "move it away or choose another --out"
        ) from None
    rendered = render_email(digest, max_part_bytes=max_html_bytes)
    text = rendered.text
    message = build_message(
        digest,
        rendered.html,
        text,
        sender=sender,
        recipients=recipients,
        list_unsubscribe=list_unsubscribe,
    )
    files = DigestFiles(
        html=out_dir / "digest.html",
        text=out_dir / "digest.txt",
        eml=out_dir / "digest.eml",
        json=out_dir / "digest.json",
    )
    payload = json.dumps(digest_to_json(digest), ensure_ascii=False, indent=2) + "\n"
    write_atomic(files.html, rendered.html.encode("utf-8"))
    write_atomic(files.text, text.encode("utf-8"))
    write_atomic(files.eml, message.as_bytes())
    write_atomic(files.json, payload.encode("utf-8"))
    return files
