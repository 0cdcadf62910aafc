"""The sent ledger: which digest went to which recipient (or webhook), written only after
the server accepted it."""

from __future__ import annotations

from agent.storage.tables import Tables, now


class SentRows(Tables):
    """`sent_ledger`: (digest key, recipient) -> message id."""

    def already_sent(self, digest_key: str, recipient: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM sent_ledger WHERE digest_key = ? AND recipient = ?",
                (digest_key, recipient.lower()),
            ).fetchone()
        return row is not None

    def record_sent(self, digest_key: str, recipient: str, message_id: str) -> None:
        """Write the ledger row; call only after the SMTP server accepted the message."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO sent_ledger (digest_key, recipient, message_id, sent_at) "
                "VALUES (?, ?, ?, ?)",
                (digest_key, recipient.lower(), message_id, now()),
            )

    def forget_sent(self, digest_key: str, recipient: str | None = None) -> None:
        """Used by --force: the next send of this digest (to `recipient`, or to all) goes out
        again."""
        with self.transaction() as db:
            if recipient is None:
                db.execute("DELETE FROM sent_ledger WHERE digest_key = ?", (digest_key,))
            else:
                db.execute(
                    "DELETE FROM sent_ledger WHERE digest_key = ? AND recipient = ?",
                    (digest_key, recipient),
                )

    def sent_rows(self, digest_key: str | None = None) -> list[tuple[str, str, str]]:
        with self._lock:
            if digest_key is None:
                cursor = self._db.execute(
                    "SELECT digest_key, recipient, message_id FROM sent_ledger ORDER BY sent_at"
                )
            else:
                cursor = self._db.execute(
                    "SELECT digest_key, recipient, message_id FROM sent_ledger "
                    "WHERE digest_key = ? ORDER BY sent_at",
                    (digest_key,),
                )
            return [tuple(row) for row in cursor.fetchall()]


__all__ = ["SentRows"]
