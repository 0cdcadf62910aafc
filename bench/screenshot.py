"""Headless-Chromium screenshots of the rendered sample digest and of an archive index.

    .venv/bin/python bench/screenshot.py                 # shots into /tmp/paper-digest-shots
    .venv/bin/python bench/screenshot.py --docs          # also refresh docs/*.png for the README
    .venv/bin/python bench/screenshot.py --in-themes 0   # every sample paper with a blurb

Needs a `chromium` (or `chromium-browser`, `google-chrome`) binary: `apt-get install chromium`.
Prints each file written with its size. Nothing here is a test; it is for looking.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sample_digest import DATE, hf_day_digest, sample_digest

from agent.core.resources import sample_corpus_path
from agent.render import write_digest_files

ROOT = Path(__file__).resolve().parent.parent
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    sys.exit("no chromium found: apt-get install -y chromium")


def shoot(browser: str, page: Path, out: Path, *, width: int, height: int, dark: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="digest-shot-") as profile:
        args = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars",
            f"--window-size={width},{height}", f"--screenshot={out}",
        ]  # fmt: skip
        if dark:
            args += ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"]
        args.append(page.as_uri())
        subprocess.run(args, check=True, capture_output=True, timeout=120)
    print(f"{out}  {out.stat().st_size / 1024:.0f} KB")


def real_archive(home: Path) -> Path:
    """A real archive made by the pipeline: three days (slices of the sample as file sources)
    and one topic digest, all with the offline engine. Returns archive/index.html."""
    from agent.cli import daily_run, topic_run
    from agent.config import load_settings
    from agent.pipeline import DailyOptions
    from agent.topic import TopicOptions, emit_topic

    settings = load_settings(None, home=home, engine="offline")
    lines = sample_corpus_path().read_text(encoding="utf-8").splitlines()
    for offset, (start, stop) in enumerate(((0, 70), (70, 140), (140, 207))):
        day = home / f"day-{offset}.jsonl"
        day.write_text("\n".join(lines[start:stop]) + "\n", encoding="utf-8")
        when = DATE - dt.timedelta(days=2 - offset)
        daily_run(
            settings,
            DailyOptions(date=when, sources=(f"file:{day}",), engine="offline", send=False),
        )
    options = TopicOptions(
        query="mixture of experts", sources=("local",), engine="offline", today=DATE
    )
    topic = topic_run(settings, options)
    if topic.digest is not None:
        emit_topic(topic.digest, settings, options, format_="html", out_dir=None)
    return home / "archive" / "index.html"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "paper-digest-shots"
    )
    parser.add_argument(
        "--in-themes",
        type=int,
        default=30,
        help="papers with blurbs (the rest are 'also new'); 0 = all",
    )
    parser.add_argument("--height", type=int, default=2400)
    parser.add_argument("--docs", action="store_true", help="refresh docs/*.png")
    args = parser.parse_args()
    browser = find_browser()
    args.out.mkdir(parents=True, exist_ok=True)

    digest = sample_digest(in_themes=args.in_themes or None)
    files = write_digest_files(digest, args.out / "digest")
    print(f"{files.html}  {files.html.stat().st_size / 1024:.1f} KB of HTML")
    hf_files = write_digest_files(hf_day_digest(), args.out / "hf-day")
    print(
        f"{hf_files.html}  {hf_files.html.stat().st_size / 1024:.1f} KB of HTML (Hugging Face day)"
    )
    index = real_archive(Path(tempfile.mkdtemp(prefix="paper-digest-archive-")))

    for width in (600, 1200):
        for dark in (False, True):
            name = f"email-{width}{'-dark' if dark else ''}.png"
            shoot(browser, files.html, args.out / name, width=width, height=args.height, dark=dark)
            name = f"hf-day-{width}{'-dark' if dark else ''}.png"
            shoot(
                browser, hf_files.html, args.out / name, width=width, height=args.height, dark=dark
            )
    shoot(browser, index, args.out / "archive-1200.png", width=1200, height=1000, dark=False)
    shoot(browser, index, args.out / "archive-600-dark.png", width=600, height=1200, dark=True)

    if args.docs:
        docs = ROOT / "docs"
        docs.mkdir(exist_ok=True)
        shoot(  # a real Hugging Face day: code links, stars and upvotes show
            browser,
            hf_files.html,
            docs / "email-screenshot.png",
            width=760,
            height=1800,
            dark=False,
        )
        shoot(browser, index, docs / "archive-screenshot.png", width=760, height=1000, dark=False)


if __name__ == "__main__":
    main()
