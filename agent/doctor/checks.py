"""One doctor finding: the part, ok / warning / failed, why, and how to fix it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "warning", "failed"]


@dataclass(frozen=True)
class Check:
    part: str  # "config", "DIGEST_HOME", "source arxiv-rss:cs.CL", "model", "SMTP", ...
    status: Status
    detail: str  # what was found, one line
    fix: str | None = None  # what to do about it (warnings and failures)

    @classmethod
    def ok(cls, part: str, detail: str) -> Check:
        return cls(part, "ok", detail)

    @classmethod
    def warning(cls, part: str, detail: str, fix: str) -> Check:
        return cls(part, "warning", detail, fix)

    @classmethod
    def failed(cls, part: str, detail: str, fix: str) -> Check:
        return cls(part, "failed", detail, fix)


def exit_code(checks: Iterable[Check]) -> int:
    """0 when every part is ok, 2 otherwise."""
    return 0 if all(check.status == "ok" for check in checks) else 2


__all__ = ["Check", "Status", "exit_code"]
