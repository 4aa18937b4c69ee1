"""Settings: required variables, validation messages that name variables, never values, production rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from waxos.config import ConfigError, Environment, load_settings

VALID = {
    "PUSHER_APP_ID": "100001",
    "PUSHER_KEY": "test-key",
    "PUSHER_SECRET": "test-secret-value",
    "PUSHER_CLUSTER": "ap2",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [
        *VALID,
        "PUSHER_HOST",
        "PUSHER_PORT",
        "PUSHER_USE_TLS",
        "WAXOS_ENV",
        "DATABASE_URL",
        "PUSHER_ENCRYPTION_MASTER_KEY_BASE64",
        "WAXOS_ENV_FILE",
        "WAXOS_SECRET_KEY",
        "PUSHER_TIMEOUT_SECONDS",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def set_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in {**VALID, **values}.items():
        monkeypatch.setenv(name, value)


def test_defaults_point_at_pusher_channels_with_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch)
    settings = load_settings()
    assert settings.pusher_use_tls is True
    assert settings.pusher_api_host == "api-ap2.pusher.com"
    assert settings.pusher_api_port == 443
    assert settings.pusher_timeout_seconds == 5
    assert settings.waxos_env is Environment.DEVELOPMENT
    assert settings.database_url.startswith("sqlite+aiosqlite://")


def test_host_port_and_tls_override(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, PUSHER_HOST="127.0.0.1", PUSHER_PORT="6001", PUSHER_USE_TLS="false")
    settings = load_settings()
    assert (settings.pusher_api_host, settings.pusher_api_port, settings.pusher_use_tls) == (
        "127.0.0.1",
        6001,
        False,
    )
    set_env(monkeypatch, PUSHER_PORT="", PUSHER_USE_TLS="false", PUSHER_HOST="")
    assert load_settings().pusher_api_port == 80


def test_every_missing_variable_is_named_in_one_message() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    for name in VALID:
        assert f"{name}: is required" in message
    assert set(caught.value.problems) == set(VALID)


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("PUSHER_APP_ID", "abc", "numeric app id"),
        ("PUSHER_KEY", "has space", "letters, digits"),
        ("PUSHER_CLUSTER", "AP 2", "cluster name"),
        ("PUSHER_PORT", "70000", "less than or equal to 65535"),
        ("PUSHER_PORT", "six", "valid integer"),
        ("PUSHER_USE_TLS", "perhaps", "valid boolean"),
        ("PUSHER_HOST", "https://api.example", "without scheme"),
        ("PUSHER_TIMEOUT_SECONDS", "0", "greater than 0"),
        ("PUSHER_ENCRYPTION_MASTER_KEY_BASE64", "not base64!", "must be base64"),
        ("PUSHER_ENCRYPTION_MASTER_KEY_BASE64", "c2hvcnQ=", "32 bytes"),
        ("WAXOS_ENV", "prd", "development"),
        ("DATABASE_URL", "mysql://x", "sqlite+aiosqlite"),
        ("PUSHER_SECRET", " padded ", "surrounding spaces"),
    ],
)
def test_a_malformed_variable_is_named_without_its_value(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, why: str
) -> None:
    set_env(monkeypatch, **{name: value})
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert list(caught.value.problems) == [name]
    assert why in caught.value.problems[name]
    if len(value.strip()) > 3:
        assert value.strip() not in str(caught.value)


def test_secret_never_appears_in_errors_or_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, PUSHER_PORT="bad", PUSHER_SECRET="s3cr3t-do-not-print")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "s3cr3t" not in str(caught.value)
    set_env(
        monkeypatch,
        PUSHER_PORT="6001",
        PUSHER_SECRET="s3cr3t-do-not-print",
        DATABASE_URL="postgresql+asyncpg://u:dbpass@h/db",
    )
    settings = load_settings()
    assert "s3cr3t" not in settings.summary() and "dbpass" not in settings.summary()
    assert "s3cr3t" not in repr(settings)


def test_production_refuses_development_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, WAXOS_ENV="production", PUSHER_SECRET="waxos-dev-secret", PUSHER_USE_TLS="false")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert set(caught.value.problems) == {
        "PUSHER_APP_ID",
        "PUSHER_SECRET",
        "WAXOS_SECRET_KEY",
        "PUSHER_USE_TLS",
    }
    assert "waxos-dev-secret" not in str(caught.value)


def test_production_starts_with_real_looking_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(
        monkeypatch,
        WAXOS_ENV="production",
        WAXOS_SECRET_KEY="a-long-random-signing-key-from-vault",
        PUSHER_APP_ID="2073332",
        PUSHER_KEY="f509dea7753e0f72661c",
    )
    assert load_settings().waxos_env is Environment.PRODUCTION


def test_env_file_is_read_and_process_variables_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_file = tmp_path / "custom.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in VALID.items()) + "PUSHER_CLUSTER=eu\n")
    assert load_settings(env_file).pusher_cluster == "eu"
    monkeypatch.setenv("PUSHER_CLUSTER", "mt1")
    assert load_settings(env_file).pusher_cluster == "mt1"
    monkeypatch.setenv("WAXOS_ENV_FILE", str(env_file))
    assert load_settings().pusher_key == "test-key"


def test_dot_env_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in VALID.items()))
    assert load_settings().pusher_app_id == "100001"


def test_a_named_env_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.env")


def test_committed_templates_document_every_variable() -> None:
    root = Path(__file__).resolve().parents[1]
    from waxos.config import Settings

    documented = {
        line.split("=", 1)[0]
        for line in (root / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert documented == {name.upper() for name in Settings.model_fields}
    development = root / ".env.development"
    settings = load_settings(development)
    assert (settings.pusher_api_host, settings.pusher_api_port, settings.pusher_use_tls) == (
        "127.0.0.1",
        6001,
        False,
    )
