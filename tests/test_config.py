"""Settings precedence (flags > env > TOML > defaults), OPENAI_* env, and one-line errors."""

from pathlib import Path

import pytest

from agent.config import load_settings
from agent.errors import ConfigError


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_flags_over_env_over_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _toml(tmp_path, 'max_papers = 10\nengine = "offline"\n[email]\nsmtp_port = 2525\n')
    assert load_settings(path, home=tmp_path).max_papers == 10
    monkeypatch.setenv("DIGEST_MAX_PAPERS", "20")
    monkeypatch.setenv("DIGEST_EMAIL__RECIPIENTS", '["a@example.org", "b@example.org"]')
    settings = load_settings(path, home=tmp_path)
    assert settings.max_papers == 20
    assert settings.email.smtp_port == 2525
    assert settings.email.recipients == ["a@example.org", "b@example.org"]
    assert load_settings(path, home=tmp_path, max_papers=5).max_papers == 5


def test_home_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_HOME", str(tmp_path / "h"))
    assert load_settings(None).home == (tmp_path / "h").resolve()


def test_openai_env_is_honoured_and_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-123")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings(None, home=tmp_path)
    assert settings.llm_configured
    assert settings.llm.base_url == "http://127.0.0.1:9/v1"
    assert settings.llm.api_key is not None
    assert settings.llm.api_key.get_secret_value() == "sk-test-secret-123"
    assert "sk-test-secret-123" not in repr(settings) + str(settings.model_dump())


def test_no_key_means_not_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert not load_settings(None, home=tmp_path).llm_configured


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_papers = 0\n", "max_papers"),
        ("engine = 'gpt'\n", "engine"),
        ("nonsense_key = 1\n", "nonsense_key"),
        ("[email]\nsecurity = 'tls13'\n", "email.security"),
        ("max_papers = [\n", "not valid TOML"),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(_toml(tmp_path, text), home=tmp_path)
    assert "\n" not in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "absent.toml")


# -- email addresses are checked when the settings load ---------------------------------------


@pytest.mark.parametrize(
    ("line", "key", "reason"),
    [
        ('recipients = ["not-an-address"]', "email.recipients.0", "not a valid email address"),
        ('recipients = [""]', "email.recipients.0", "an empty address"),
        (
            'recipients = ["a@example.org, b@example.org"]',
            "email.recipients.0",
            "more than one address",
        ),
        ('recipients = ["ok@example.org", "x@y@z"]', "email.recipients.1", "not a valid"),
        ('sender = "me@example.org\\nBcc: victim@example.org"', "email.sender", "line break"),
        (
            'recipients = ["a@example.org\\r\\nBcc: b@example.org"]',
            "email.recipients.0",
            "line break",
        ),
        ('sender = "Digest <me@example.org>, other@example.org"', "email.sender", "more than one"),
    ],
)
def test_bad_addresses_are_exit_2_naming_the_key(
    tmp_path: Path, line: str, key: str, reason: str
) -> None:
    path = _toml(tmp_path, f"[email]\nsmtp_host = 'localhost'\n{line}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, home=tmp_path)
    assert info.value.exit_code == 2
    assert key in str(info.value) and reason in str(info.value)
    assert "\n" not in str(info.value)


def test_good_addresses_with_display_names_pass(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        '[email]\nsender = "Paper digest <me@example.org>"\n'
        'recipients = ["a@example.org", "Bea <b@example.org>"]\n',
    )
    settings = load_settings(path, home=tmp_path)
    assert settings.email.recipients == ["a@example.org", "Bea <b@example.org>"]


def test_every_toml_problem_is_listed(tmp_path: Path) -> None:
    path = _toml(tmp_path, "max_papers = 0\nengine = 'gpt'\n[email]\nsmtp_port = 0\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, home=tmp_path)
    text = str(info.value)
    assert "max_papers" in text and "engine" in text and "email.smtp_port" in text
    assert "more)" not in text


def test_unknown_digest_env_warns_with_the_closest_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DIGEST_EMIAL__SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("DIGEST_LLM__CHAT_MODEL_KWARGS__MODEL", "m")  # dict tables take any key
    monkeypatch.setenv("DIGEST_MAX_PAPERS", "5")
    settings = load_settings(None, home=tmp_path)
    assert settings.max_papers == 5 and settings.email.smtp_host is None
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        (
            "environment variable DIGEST_EMIAL__SMTP_HOST is not a setting and is ignored; "
            "did you mean DIGEST_EMAIL__SMTP_HOST?"
        )
    ]


def test_digest_config_env_names_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "elsewhere" / "my-digest.toml"
    config.parent.mkdir()
    config.write_text("max_papers = 7\n", encoding="utf-8")
    monkeypatch.setenv("DIGEST_CONFIG", str(config))
    monkeypatch.chdir(tmp_path)
    assert load_settings(None, home=tmp_path).max_papers == 7
    monkeypatch.setenv("DIGEST_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(None, home=tmp_path)
