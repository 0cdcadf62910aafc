"""Runs: one record per run, its status, counts, usage and message."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from agent.storage.tables import Tables, now


class RunRows(Tables):
    """`runs`."""

    def start_run(self, digest_date: dt.date, kind: str) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (digest_date, kind, status, started) VALUES (?, ?, 'running', ?)",
                (digest_date.isoformat(), kind, now()),
            )
            return int(cursor.lastrowid or 0)

    def finish_run(
        self,
        run_id: int,
        status: str,
        counts: dict[str, Any] | None = None,
        usage: dict[str, Any] | None = None,
        message: str | None = None,
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET status = ?, finished = ?, counts = ?, usage = ?, message = ? "
                "WHERE id = ?",
                (
                    status,
                    now(),
                    json.dumps(counts or {}),
                    json.dumps(usage or {}),
                    message,
                    run_id,
                ),
            )

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self._db.execute(
                "SELECT id, digest_date, kind, status, started, finished, counts, usage, message "
                "FROM runs ORDER BY id DESC LIMIT ?",
                (limit,),
            )
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        for row in rows:
            row["counts"] = json.loads(row["counts"])
            row["usage"] = json.loads(row["usage"])
        return rows


__all__ = ["RunRows"]
