"""The email message: subject line and a multipart/alternative EmailMessage (text, then HTML)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from agent.models import OTHER_THEME, Digest
from agent.render.view import folded, format_date, plural


def subject_line(digest: Digest) -> str:
    """'Paper digest, Thu 26 Nov 2026: 7 themes, 30 papers' or 'Paper digest: <topic> — N papers'."""
    papers = plural(digest.paper_count, "paper")
    if digest.kind == "topic" and folded(digest.topic):
        topic = folded(digest.topic)
        if len(topic) > 80:
            topic = topic[:79].rstrip() + "…"
        return f"Paper digest: {topic} — {papers}"
    day = format_date(digest.date)
    if digest.unread:
        return f"Paper digest, {day}: no source could be read"
    if digest.paper_count == 0:
        return f"Paper digest, {day}: no new papers"
    if not digest.themes:
        return f"Paper digest, {day}: {papers}"
    themes = sum(t.title != OTHER_THEME for t in digest.themes)  # as the digest counts them
    return (
        f"Paper digest, {day}: {plural(themes, 'theme')}, {papers}"
        if themes
        else (f"Paper digest, {day}: {papers}")
    )


def _identity(digest: Digest) -> str:
    """What makes a digest the same digest: date, kind, topic and the papers it covers."""
    topic = folded(digest.topic).casefold()
    ids = ",".join(sorted(digest.papers))
    return f"{digest.date.isoformat()}|{digest.kind}|{topic}|{ids}"


def message_id(digest: Digest, domain: str = "paper-digest.local") -> str:
    """A Message-ID that is the same for every rendering of the same digest.

    The id hashes the date, kind, topic and paper ids: a resend after a crash (same papers,
    re-rendered) carries the same id, so receiving servers can tell it is the same message,
    while a different digest of the same day (the "nothing new" note, then a real digest) gets
    its own id and is not dropped as a duplicate. (email.utils.make_msgid adds the time and a
    random part, so it would not be stable; the id has the same shape.)
    """
    digest_hash = hashlib.sha256(_identity(digest).encode("utf-8")).hexdigest()[:16]
    return f"<{digest.date:%Y%m%d}.{digest.kind}.{digest_hash}@{domain}>"


def _list_unsubscribe_value(value: str | Sequence[str]) -> str:
    items = [value] if isinstance(value, str) else list(value)
    out = []
    for item in items:
        item = folded(item)
        if not item:
            continue
        out.append(item if item.startswith("<") and item.endswith(">") else f"<{item}>")
    return ", ".join(out)


def build_message(
    digest: Digest,
    html: str,
    text: str,
    *,
    sender: str | Address | None = None,
    recipients: Sequence[str | Address] = (),
    list_unsubscribe: str | Sequence[str] | None = None,
    message_id_domain: str = "paper-digest.local",
    date: dt.datetime | None = None,
) -> EmailMessage:
    """A multipart/alternative message: text/plain first, then text/html (the preferred part).

    `date` defaults to now (local time zone). Sender and recipients are set only when given, so
    the same builder serves the .eml written to the archive and the message that is sent.
    """
    msg = EmailMessage()
    msg["Subject"] = subject_line(digest)
    msg["Date"] = format_datetime(date or dt.datetime.now().astimezone())
    msg["Message-ID"] = message_id(digest, message_id_domain)
    if sender:
        msg["From"] = sender
    if recipients:
        msg["To"] = ", ".join(str(r) for r in recipients)
    if list_unsubscribe:
        value = _list_unsubscribe_value(list_unsubscribe)
        if value:
            msg["List-Unsubscribe"] = value
    # Both parts quoted-printable: 7-bit safe for any SMTP server, still readable as source.
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies, please
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg
