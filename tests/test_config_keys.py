"""A misspelt key in the config file: the error names the file, the line and the closest real
key, through the CLI (`digest daily`, `digest doctor`) with real files; the line scan agrees
with tomllib on where every key is."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings, load_settings
from agent.config_keys import KeyPath, closest_key, key_lines, line_of
from agent.errors import SettingsError
from tests.processes import run_digest

pytestmark = pytest.mark.timeout(120)

TRICKY = '''# a comment = not a key
interests = """
first line
fake = "inside a multi-line string"
"""
llm.model = "dotted"   # a dotted key at the top level
"quoted key" = 1
[ email ]
smtp_host = 'smtp.example.org'
recipients = [
  "a@example.org",
  "b@example.org",
]
[llm.prices."gpt-4o-mini"]
input = 0.15
[[webhooks]]
name = "one"
[[webhooks]]
name = "two"
url = "https://example.org/hook"
[webhooks.extra]
deep = true
[readers.ada]
notes = \'\'\'
x = 1
\'\'\'
max_papers = 5
'''


def leaves(data: object, path: KeyPath = ()) -> list[KeyPath]:
    """Every key path tomllib found (array entries numbered)."""
    if isinstance(data, dict):
        return [leaf for key, value in data.items() for leaf in leaves(value, (*path, key))]
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        return [leaf for i, item in enumerate(data) for leaf in leaves(item, (*path, i))]
    return [path]


def test_every_key_tomllib_reads_is_found_on_its_own_line() -> None:
    lines = key_lines(TRICKY)
    text_lines = TRICKY.splitlines()
    paths = leaves(tomllib.loads(TRICKY))
    assert len(paths) == 12
    for path in paths:
        assert path in lines, path
        last = str(path[-1])
        assert last in text_lines[lines[path] - 1], (path, lines[path])
    assert ("fake",) not in lines and ("x",) not in lines and ("readers", "ada", "x") not in lines
    assert lines[("webhooks", 1, "extra", "deep")] == text_lines.index("deep = true") + 1
    assert line_of(lines, ("webhooks", 0, "url")) == text_lines.index("[[webhooks]]") + 1
    assert line_of(lines, ("nowhere",)) is None


def test_the_closest_key_is_taken_from_the_model_at_that_level() -> None:
    assert closest_key(Settings, ("intrests",)) == "interests"
    assert closest_key(Settings, ("emial",)) == "email"
    assert closest_key(Settings, ("llm", "modle")) == "model"
    assert closest_key(Settings, ("readers", "ada", "recipiants")) == "recipients"
    assert closest_key(Settings, ("webhooks", 0, "urll")) == "url"
    assert closest_key(Settings, ("llm", "prices", "gpt-4o", "inptu")) == "input"
    assert closest_key(Settings, ("zzzzzz",)) is None


BAD = """max_papers = 20
intrests = "speculative decoding"

[emial]
smtp_host = "smtp.example.org"

[llm]
modle = "gpt-4o-mini"

[readers.ada]
recipients = ["ada@example.org"]
intrests = "robots"

[[webhooks]]
name = "lab"
kind = "slack"
urll = "https://hooks.slack.com/services/T/B/X"
"""


def test_daily_names_file_line_and_the_key_meant(tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text(BAD, encoding="utf-8")
    done = run_digest("daily", "--source", "sample", home=tmp_path / "home", cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "Traceback" not in line and "Extra inputs" not in line
    assert line.startswith(f"error: bad config in {tmp_path / 'digest.toml'}: line 2: ")
    for said in [
        "line 2: intrests: unknown key, did you mean interests?",
        "line 4: emial: unknown key, did you mean email?",
        "line 8: llm.modle: unknown key, did you mean model?",
        "line 12: readers.ada.intrests: unknown key, did you mean interests?",
        "line 14: webhooks.0.url: Field required",
        "line 17: webhooks.0.urll: unknown key, did you mean url?",
    ]:
        assert said in line, said
    numbers = [int(n) for n in re.findall(r"line (\d+):", line)]
    assert numbers == sorted(numbers)


def test_the_config_file_is_opened_once_and_its_lines_come_from_that_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check, the settings and the error's line numbers all use one reading of the file."""
    bad, good = tmp_path / "bad.toml", tmp_path / "good.toml"
    bad.write_text(BAD, encoding="utf-8")
    good.write_text('interests = "sparse attention"\n[llm]\nmodel = "m-1"\n', encoding="utf-8")
    opened: list[str] = []
    real_open = Path.open

    def spy(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.parent == tmp_path:
            opened.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    with pytest.raises(SettingsError, match="line 8: llm.modle: unknown key, did you mean model"):
        load_settings(bad)
    settings = load_settings(good)
    assert (settings.interests, settings.llm.model) == ("sparse attention", "m-1")
    assert opened == ["bad.toml", "good.toml"]


def test_a_bad_variable_is_blamed_on_the_variable_and_a_bad_value_on_its_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "digest.toml").write_text('interests = "x"\n\n[llm]\nmodel = 5\n', "utf-8")
    done = run_digest(
        "daily",
        "--source",
        "sample",
        home=tmp_path / "home",
        cwd=tmp_path,
        env={"DIGEST_MAX_PAPERS": "abc"},
    )
    assert done.returncode == 2
    assert "bad environment setting DIGEST_MAX_PAPERS: max_papers:" in done.stderr
    assert "digest.toml: line 4: llm.model: Input should be a valid string" in done.stderr
    assert "line" not in done.stderr.split("DIGEST_MAX_PAPERS")[1].split(";")[0]


def test_doctor_points_at_the_lines_and_the_reference_never_at_init_force(
    tmp_path: Path,
) -> None:
    (tmp_path / "digest.toml").write_text(BAD, encoding="utf-8")
    done = run_digest("doctor", home=tmp_path / "home", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    [config] = [i for i, line in enumerate(lines) if re.match(r"failed +config:", line)]
    assert "line 8: llm.modle: unknown key, did you mean model?" in lines[config]
    fix = lines[config + 1].strip()
    assert fix == (
        f"fix: fix {tmp_path / 'digest.toml'} lines 2, 4, 8, 12, 14, 17 "
        "(every key, its type and default: docs/configuration.md)"
    )
    assert "--force" not in done.stdout
    assert (tmp_path / "digest.toml").read_text(encoding="utf-8") == BAD


def test_doctor_names_the_file_digest_config_points_at(tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text(BAD, encoding="utf-8")  # in the folder, not read
    good = tmp_path / "elsewhere.toml"
    good.write_text('interests = "x"\n', encoding="utf-8")
    done = run_digest(
        "doctor", home=tmp_path / "home", cwd=tmp_path, env={"DIGEST_CONFIG": str(good)}
    )
    [config] = [line for line in done.stdout.splitlines() if re.match(r"\w+ +config:", line)]
    assert re.match(rf"ok +config: {re.escape(str(good))} is valid", config), config


def test_terminal_escapes_in_a_key_never_reach_the_terminal(tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text(
        '[llm]\n"mo\\u001b[31mdel\\u001b]0;x\\u0007" = "y"\n', encoding="utf-8"
    )
    daily = run_digest("daily", "--source", "sample", home=tmp_path / "home", cwd=tmp_path)
    doctor = run_digest("doctor", home=tmp_path / "home", cwd=tmp_path)
    assert daily.returncode == 2 and "unknown key" in daily.stderr
    assert "unknown key" in doctor.stdout
    for text in (daily.stderr, doctor.stdout):
        assert "\x1b" not in text and "\x07" not in text
