"""HTML size and render time of the sample digest, against the 100 KB cap (Gmail clips ~102 KB).

.venv/bin/python bench/render_size.py
"""

from __future__ import annotations

import time

from sample_digest import sample_digest

from agent.render import MAX_HTML_BYTES, render_html, render_text


def main() -> None:
    print(f"cap: {MAX_HTML_BYTES:,} bytes")
    print(f"{'digest':<34}{'uncapped':>10}{'sent':>10}{'shrunk':>8}{'cut':>6}{'text':>9}{'ms':>8}")
    for label, in_themes in (
        ("sample, all 207 with blurbs", None),
        ("sample, 60 blurbs + 147 also-new", 60),
        ("sample, 30 blurbs + 177 also-new", 30),
    ):
        digest = sample_digest(in_themes=in_themes)
        uncapped = render_html(digest, max_bytes=10**9).size
        start = time.perf_counter()
        rendered = render_html(digest)
        ms = (time.perf_counter() - start) * 1000
        text = len(render_text(digest).encode("utf-8"))
        print(
            f"{label:<34}{uncapped:>10,}{rendered.size:>10,}{rendered.shrunk:>8}"
            f"{rendered.also_new_cut:>6}{text:>9,}{ms:>8.0f}"
        )


if __name__ == "__main__":
    main()
