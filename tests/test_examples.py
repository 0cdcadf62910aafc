"""The scheduling examples name the config file, and what they name is what `digest` reads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.processes import clean_env, digest_process

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("cron.txt", r"^DIGEST_CONFIG=\S+/digest\.toml$"),
        ("systemd/paper-digest.service", r"^Environment=DIGEST_CONFIG=\S+/digest\.toml$"),
        ("github-actions/daily-digest.yml", r"^\s+DIGEST_CONFIG: .+/digest\.toml$"),
    ],
)
def test_each_example_names_the_config_file(name: str, pattern: str) -> None:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    assert re.search(pattern, text, re.MULTILINE), f"{name} does not set DIGEST_CONFIG"


def test_a_cron_like_run_reads_the_config_named_by_digest_config(tmp_path: Path) -> None:
    """cron starts in $HOME (no digest.toml there): DIGEST_CONFIG alone must find the sources."""
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps({"id": "c1", "title": "A paper", "abstract": "We study it."}) + "\n",
        encoding="utf-8",
    )
    config = tmp_path / "config" / "digest.toml"
    config.parent.mkdir()
    config.write_text(f'[sources]\ndefault = ["file:{feed}"]\n', encoding="utf-8")
    home_dir = tmp_path / "cron-cwd"
    home_dir.mkdir()
    env = clean_env(DIGEST_HOME=str(tmp_path / "home"), DIGEST_CONFIG=str(config))
    result = digest_process(
        "daily",
        "--engine",
        "offline",
        "--no-send",
        "--date",
        "2026-11-26",
        "--out",
        str(tmp_path / "out"),
        cwd=home_dir,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out" / "2026-11-26" / "digest.json").read_text(encoding="utf-8"))
    assert [h["name"] for h in data["health"]] == [f"file:{feed}"]
