"""Settings precedence (flags > env > TOML > defaults), OPENAI_* env, and one-line errors."""

from pathlib import Path

import pytest

from agent.config import load_settings
from agent.errors import ConfigError


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_flags_over_env_over_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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
