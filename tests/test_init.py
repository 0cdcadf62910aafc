"""`digest init`: a commented, valid digest.toml from flags or answers; never overwritten."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.cli import main
from agent.config import load_settings
from agent.init.answers import InitAnswers
from agent.init.schedule_lines import crontab_lines, on_calendar
from agent.init.write import render_config


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


def init(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["init", *args], input=input)
    return result.exit_code, result.output


def test_flags_write_a_commented_config_that_loads(tmp_path: Path) -> None:
    code, output = init(
        "--category",
        "cs.CL",
        "--category",
        "cs.LG",
        "--no-hf-daily",
        "--interests",
        'speculative decoding, "KV cache"',
        "--model",
        "none",
        "--no-email",
    )
    assert code == 0, output
    path = tmp_path / "digest.toml"
    text = path.read_text(encoding="utf-8")
    assert text.count("\n#") > 10, "the file explains itself"
    settings = load_settings(path)
    assert settings.sources.default == ["arxiv-rss:cs.CL+cs.LG"]
    assert settings.interests == 'speculative decoding, "KV cache"'
    assert not settings.llm_configured and not settings.email.configured
    assert settings.schedule.cron == "0 7 * * 1-5"
    assert f"daily --config {path}" in output and "OnCalendar=Mon..Fri *-*-* 07:00:00" in output


def test_email_and_local_model_flags(tmp_path: Path) -> None:
    code, output = init(
        "--config",
        str(tmp_path / "sub" / "me.toml"),
        "--category",
        "stat.ML",
        "--base-url",
        "http://127.0.0.1:8080/v1",
        "--dialect",
        "json_object_schema",
        "--smtp-host",
        "smtp.example.org",
        "--username",
        "me@example.org",
        "--sender",
        "Paper digest <me@example.org>",
        "--recipient",
        "me@example.org",
        "--cron",
        "30 6 * * *",
        "--tz",
        "Europe/Berlin",
    )
    assert code == 0, output
    settings = load_settings(tmp_path / "sub" / "me.toml")
    assert settings.llm.base_url == "http://127.0.0.1:8080/v1"
    assert settings.llm.dialect == "json_object_schema"
    assert settings.email.smtp_host == "smtp.example.org" and settings.email.recipients == [
        "me@example.org"
    ]
    assert settings.email.password is None
    assert settings.sources.default == ["arxiv-rss:stat.ML", "hf-daily"]
    assert (settings.schedule.cron, settings.schedule.tz) == ("30 6 * * *", "Europe/Berlin")
    assert "OnCalendar=*-*-* 06:30:00 Europe/Berlin" in output
    assert "DIGEST_EMAIL__PASSWORD" in output and "cron and systemd do not see" in " ".join(
        output.split()
    )


def test_a_key_in_the_environment_makes_openai_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-written")
    code, output = init("--yes")
    assert code == 0, output
    text = (tmp_path / "digest.toml").read_text(encoding="utf-8")
    assert "the key is read from OPENAI_API_KEY" in text and "sk-test-not-written" not in text
    assert load_settings(tmp_path / "digest.toml").llm_configured


def test_an_existing_file_is_never_overwritten_without_force(tmp_path: Path) -> None:
    path = tmp_path / "digest.toml"
    path.write_text("max_papers = 7\n", encoding="utf-8")
    code, output = init("--yes")
    assert code == 2 and "exists; use --force" in output
    assert path.read_text(encoding="utf-8") == "max_papers = 7\n"
    code, output = init("--yes", "--force")
    assert code == 0, output
    assert load_settings(path).max_papers == 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--category", "cs CL!"], "is not an arXiv category"),
        (
            ["--category", "cs.cl", "--category", "foo.XY"],
            "'cs.cl' is not an arXiv category; did you mean cs.CL?",
        ),
        (["--tz", "Europe/Berlni"], "did you mean Europe/Berlin"),
        (["--library", "/nope.bib"], "library: /nope.bib: no such file"),
        (["--model", "local", "--base-url", "javascript:alert(1)"], "is not an http(s) URL"),
        (["--smtp-host", "smtp.example.org"], "email needs --sender"),
        (["--model", "local"], "a local model needs --base-url"),
        (["--cron", "every morning"], "invalid cron expression"),
        (["--tz", "Mars/Olympus"], "unknown time zone"),
        (
            ["--email", "--smtp-host", "h", "--sender", "a@b.c", "--recipient", "nobody"],
            "is not an email address",
        ),
    ],
)
def test_bad_answers_are_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    code, output = init(*args)
    assert code == 2
    assert message in output and "Traceback" not in output
    assert not (tmp_path / "digest.toml").exists()


def test_interactive_answers_keep_the_password_out_of_the_file(tmp_path: Path) -> None:
    lines = [  # one answer per line, commented
        "cs.CV cs.RO",  # categories
        "n",  # Hugging Face daily papers
        "robot grasping",  # interests
        "",  # library
        "local",  # model
        "http://127.0.0.1:9999/v1",
        "smol",  # model name
        "json_object",  # dialect
        "y",  # email
        "mail.example.org",
        "ssl",
        "",  # port: 465 for ssl
        "me@example.org",  # login
        "me@example.org you@example.org",
        "",  # From: the default
        "s3cr3t pass'word",  # password
        "0 8 * * 1-5",
        "UTC",
    ]
    answers = "\n".join(lines) + "\n"
    code, output = init(input=answers)
    assert code == 0, output
    text = (tmp_path / "digest.toml").read_text(encoding="utf-8")
    assert "s3cr3t" not in text
    settings = load_settings(tmp_path / "digest.toml")
    assert settings.sources.default == ["arxiv-rss:cs.CV+cs.RO"]
    assert settings.interests == "robot grasping"
    assert (settings.llm.model, settings.llm.dialect) == ("smol", "json_object")
    assert (settings.email.security, settings.email.smtp_port) == ("ssl", 465)
    assert settings.email.recipients == ["me@example.org", "you@example.org"]
    assert settings.email.sender == "Paper digest <me@example.org>"
    env_file = tmp_path / "digest.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert (
        env_file.read_text(encoding="utf-8") == "DIGEST_EMAIL__PASSWORD='s3cr3t pass'\"'\"'word'\n"
    )
    assert f". {env_file}" in output  # the cron line loads it
    # the env file, sourced by a shell, gives the password back exactly
    import subprocess

    shown = subprocess.run(
        ["sh", "-c", f'. "{env_file}" && printf %s "$DIGEST_EMAIL__PASSWORD"'],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"]},
    ).stdout
    assert shown == "s3cr3t pass'word"


def test_an_invalid_interactive_category_is_asked_again(tmp_path: Path) -> None:
    code, output = init(input="cs.CL!\ncs.IR\ny\n\n\nnone\nn\n\n\n")
    assert code == 0, output
    assert "'cs.CL!' is not an arXiv category" in output
    assert load_settings(tmp_path / "digest.toml").sources.default == [
        "arxiv-rss:cs.IR",
        "hf-daily",
    ]


def test_a_library_file_is_checked_and_written_with_its_whole_path(tmp_path: Path) -> None:
    (tmp_path / "papers.bib").write_text("@article{a, title={Speculative decoding}}\n")
    code, output = init("--category", "cs.CL", "--library", "papers.bib")
    assert code == 0, output
    text = (tmp_path / "digest.toml").read_text(encoding="utf-8")
    # cron and systemd run elsewhere: the path is the file's whole path, not "papers.bib"
    assert f"library = [{str(tmp_path / 'papers.bib')!r}]".replace("'", '"') in text.splitlines()


def test_strings_are_escaped_for_toml() -> None:
    answers = InitAnswers(interests='a "quoted" \\ back\nslash', categories=[])
    parsed = tomllib.loads(render_config(answers))
    assert parsed["interests"] == 'a "quoted" \\ back\nslash'
    assert parsed["sources"]["default"] == ["hf-daily"]


@pytest.mark.parametrize(
    ("cron", "tz", "expected"),
    [
        ("0 7 * * 1-5", None, "Mon..Fri *-*-* 07:00:00"),
        ("15 18 * * *", "Asia/Tokyo", "*-*-* 18:15:00 Asia/Tokyo"),
        ("0 9 * * 1,3,5", None, "Mon,Wed,Fri *-*-* 09:00:00"),
        ("0 7 * * 0", None, "Sun *-*-* 07:00:00"),
        ("0 7 * * mon-fri", "Europe/Berlin", "Mon..Fri *-*-* 07:00:00 Europe/Berlin"),
        ("*/30 7 * * *", None, "*-*-* 07:00,30:00"),
        ("0 7 1 * *", None, "*-*-01 07:00:00"),
        ("0 7 1 * 1", None, None),  # cron: the 1st OR a Monday; systemd cannot say "or"
        ("0 7 * * 5#3", None, None),  # the third Friday: no OnCalendar form
        ("@daily", None, "*-*-* 00:00:00"),  # croniter's macros, any case
        ("@WEEKLY", None, "Sun *-*-* 00:00:00"),
    ],
)
def test_systemd_calendar_of_common_crons(cron: str, tz: str | None, expected: str | None) -> None:
    assert on_calendar(cron, tz) == expected


def test_crontab_lines_quote_paths_and_escape_percent_signs() -> None:
    lines = crontab_lines(
        "0 7 * * 1-5",
        digest="/opt/my env/digest",
        config=Path("/a b/100%.toml"),
        home=Path("/h"),
        env_file=None,
        log_file=Path("/h/cron.log"),
        tz=None,
    )
    command = "DIGEST_HOME=/h '/opt/my env/digest' daily --config '/a b/100\\%.toml'"
    assert lines == [f"0 7 * * 1-5  {command} >> /h/cron.log 2>&1"]


REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "agent" / "init" / "templates" / "digest.toml.j2"
# a document named in the template's comments, with the section it names, if any
DOC_POINTER = re.compile(r'\b(README(?:\.md)?|docs/[\w.-]+\.md)\b(?: \("([^"]+)"\))?')


def test_every_pointer_of_the_written_config_names_a_doc_and_a_section_that_exist() -> None:
    """The comments of digest.toml send the reader to documents: each one exists, and so does
    each section it names (a '## Heading' of that file); `digest daily --help` has the source
    syntax the [sources] comment sends the reader to it for."""
    text = TEMPLATE.read_text(encoding="utf-8")
    pointers = DOC_POINTER.findall(text)
    assert pointers, "the template points at no document"
    for name, section in pointers:
        doc = REPO / (name if name.endswith(".md") else f"{name}.md")
        assert doc.is_file(), name
        if section:
            headings = re.findall(r"(?m)^#+ (.+?)\s*$", doc.read_text(encoding="utf-8"))
            assert section in headings, f"{name} has no section {section!r}"
    assert "`digest daily --help`" in text
    helped = " ".join(CliRunner().invoke(main, ["daily", "--help"]).output.split())
    for spec in ("arxiv:QUERY", "s2:QUERY", "file:PATH", "sample"):
        assert spec in text and spec in helped, spec
