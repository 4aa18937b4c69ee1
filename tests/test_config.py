"""Settings: required variables, validation messages that name variables, never values, production rules."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
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
        "WAXOS_SERVICE_TOKEN_SHA256",
        "WAXOS_TRUSTED_PROXIES",
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
        ("WAXOS_SERVICE_TOKEN_SHA256", "wxs_a-token-instead-of-its-digest", "SHA-256 hex digests"),
        ("WAXOS_SERVICE_TOKEN_SHA256", "a" * 64 + ",abc", "SHA-256 hex digests"),
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


def strong_key() -> str:
    """A fresh 32-byte key, as an operator would generate one (never a committed value)."""
    return secrets.token_urlsafe(32)


def pusher_like_secret() -> str:
    """Shaped like a Pusher app secret: 20 hex characters."""
    return secrets.token_hex(10)


@pytest.mark.parametrize("env", ["staging", "production"])
def test_outside_development_every_development_credential_is_refused_in_one_message(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    # The reported case: staging with no WAXOS_SECRET_KEY signed tokens with the committed development key.
    set_env(monkeypatch, WAXOS_ENV=env, PUSHER_SECRET="waxos-dev-secret", PUSHER_USE_TLS="false")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert set(caught.value.problems) == {
        "PUSHER_APP_ID",
        "PUSHER_SECRET",
        "WAXOS_SECRET_KEY",
        "PUSHER_USE_TLS",
    }
    assert caught.value.problems["WAXOS_SECRET_KEY"].startswith(f"must be set in {env}")
    assert "waxos-dev-secret" not in str(caught.value)
    assert "waxos-dev-signing-key" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WAXOS_SECRET_KEY", "WAXOS-DEV-SIGNING-KEY-NOT-FOR-PRODUCTION"),
        ("WAXOS_SECRET_KEY", "ChangeMe"),
        ("PUSHER_SECRET", "Waxos-Dev-Secret"),
        ("PUSHER_SECRET", "Change-Me"),
    ],
)
def test_development_values_are_refused_in_any_letter_case(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    secrets_ = {"WAXOS_SECRET_KEY": strong_key(), "PUSHER_SECRET": pusher_like_secret(), name: value}
    set_env(monkeypatch, WAXOS_ENV="staging", PUSHER_APP_ID="2073332", **secrets_)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert list(caught.value.problems) == [name]
    assert "development value" in caught.value.problems[name]
    assert value not in str(caught.value)


@pytest.mark.parametrize(
    "weak",
    [
        "short",
        "a-long-random-signing-key-from-vault",  # words: about 216 bits by its alphabet, 256 needed
        secrets.token_hex(16),
        "a" * 64,
        "0123456789abcdef" * 4,
        "Zq3!" * 20,
    ],
    ids=["short", "words", "16-random-bytes", "one-letter", "hex-pattern", "symbol-pattern"],
)
def test_a_weak_signing_key_is_refused_outside_development(
    monkeypatch: pytest.MonkeyPatch, weak: str
) -> None:
    set_env(
        monkeypatch,
        WAXOS_ENV="production",
        PUSHER_APP_ID="2073332",
        PUSHER_SECRET=pusher_like_secret(),
        WAXOS_SECRET_KEY=weak,
    )
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert list(caught.value.problems) == ["WAXOS_SECRET_KEY"]
    assert "too weak for production" in caught.value.problems["WAXOS_SECRET_KEY"]
    assert weak not in str(caught.value)


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: secrets.token_urlsafe(32),
        lambda: secrets.token_hex(32),
        lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
        lambda: secrets.token_hex(32).upper(),
    ],
)
def test_keys_from_the_usual_generators_are_strong_enough(
    monkeypatch: pytest.MonkeyPatch, make_key: Callable[[], str]
) -> None:
    for _ in range(50):
        set_env(
            monkeypatch,
            WAXOS_ENV="staging",
            PUSHER_APP_ID="2073332",
            PUSHER_SECRET=pusher_like_secret(),
            WAXOS_SECRET_KEY=make_key(),
        )
        assert load_settings().waxos_env is Environment.STAGING


def test_a_pusher_secret_shorter_than_pushers_or_equal_to_the_signing_key_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = strong_key()
    set_env(monkeypatch, WAXOS_ENV="staging", PUSHER_APP_ID="2073332", WAXOS_SECRET_KEY=key)
    monkeypatch.setenv("PUSHER_SECRET", secrets.token_hex(9))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert list(caught.value.problems) == ["PUSHER_SECRET"]
    assert "at least 20 characters" in caught.value.problems["PUSHER_SECRET"]
    monkeypatch.setenv("PUSHER_SECRET", key)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.problems == {"PUSHER_SECRET": "must not be the same value as WAXOS_SECRET_KEY"}


def test_a_weak_master_key_is_refused_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    zeros = base64.b64encode(bytes(32)).decode()
    set_env(monkeypatch, PUSHER_ENCRYPTION_MASTER_KEY_BASE64=zeros)
    assert load_settings().pusher_encryption_master_key_base64 is not None
    set_env(
        monkeypatch,
        WAXOS_ENV="production",
        PUSHER_APP_ID="2073332",
        PUSHER_SECRET=pusher_like_secret(),
        WAXOS_SECRET_KEY=strong_key(),
    )
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert list(caught.value.problems) == ["PUSHER_ENCRYPTION_MASTER_KEY_BASE64"]


def test_a_single_problem_is_named_by_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(
        monkeypatch,
        WAXOS_ENV="production",
        PUSHER_APP_ID="2073332",
        PUSHER_SECRET=pusher_like_secret(),
        WAXOS_SECRET_KEY=strong_key(),
        PUSHER_USE_TLS="false",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.problems == {"PUSHER_USE_TLS": "must be true in production"}
    assert "SETTINGS" not in str(caught.value)


def test_shape_and_environment_problems_come_in_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, WAXOS_ENV="production", PUSHER_PORT="six", PUSHER_SECRET="secret")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert set(caught.value.problems) == {"PUSHER_PORT", "PUSHER_SECRET", "PUSHER_APP_ID", "WAXOS_SECRET_KEY"}


def test_development_keeps_its_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, PUSHER_SECRET="waxos-dev-secret", PUSHER_USE_TLS="false")
    settings = load_settings()
    assert settings.waxos_secret_key.get_secret_value() == "waxos-dev-signing-key-not-for-production"


def test_production_starts_with_real_looking_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(
        monkeypatch,
        WAXOS_ENV="production",
        WAXOS_SECRET_KEY=strong_key(),
        PUSHER_SECRET=pusher_like_secret(),
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


SECONDARY = {
    "PUSHER_SECONDARY_APP_ID": "200002",
    "PUSHER_SECONDARY_KEY": "second-key",
    "PUSHER_SECONDARY_SECRET": "second-secret-value",
    "PUSHER_SECONDARY_HOST": "soketi.internal",
    "PUSHER_SECONDARY_PORT": "6002",
}


@pytest.fixture
def no_secondary(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*SECONDARY, "PUSHER_SECONDARY_CLUSTER", "PUSHER_SECONDARY_USE_TLS", "WAXOS_CORS_ORIGINS"]:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_secondary")
def test_a_complete_secondary_gives_settings_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, **SECONDARY)
    settings = load_settings()
    assert settings.secondary_configured
    other = settings.for_secondary()
    assert (other.pusher_app_id, other.pusher_key, other.pusher_api_host, other.pusher_api_port) == (
        "200002",
        "second-key",
        "soketi.internal",
        6002,
    )
    assert other.pusher_secret.get_secret_value() == "second-secret-value"
    assert settings.pusher_app_id == "100001"
    assert "second-secret-value" not in settings.summary() and "secondary=app 200002" in settings.summary()


@pytest.mark.usefixtures("no_secondary")
@pytest.mark.parametrize(
    ("given", "named"),
    [
        (
            {"PUSHER_SECONDARY_KEY": "k2"},
            {"PUSHER_SECONDARY_APP_ID", "PUSHER_SECONDARY_SECRET", "PUSHER_SECONDARY_CLUSTER"},
        ),
        (
            {**SECONDARY, "PUSHER_SECONDARY_HOST": "", "PUSHER_SECONDARY_PORT": ""},
            {"PUSHER_SECONDARY_CLUSTER"},
        ),
        ({**SECONDARY, "PUSHER_SECONDARY_APP_ID": "12a"}, {"PUSHER_SECONDARY_APP_ID"}),
        ({**SECONDARY, "PUSHER_SECONDARY_SECRET": " padded "}, {"PUSHER_SECONDARY_SECRET"}),
        ({**SECONDARY, "PUSHER_SECONDARY_HOST": "https://x"}, {"PUSHER_SECONDARY_HOST"}),
        ({**SECONDARY, "PUSHER_SECONDARY_PORT": "70000"}, {"PUSHER_SECONDARY_PORT"}),
    ],
)
def test_a_misconfigured_secondary_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, given: dict[str, str], named: set[str]
) -> None:
    set_env(monkeypatch, **given)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert set(error.value.problems) == named
    assert "second-secret-value" not in str(error.value)


@pytest.mark.usefixtures("no_secondary")
def test_production_refuses_a_secondary_with_development_credentials_or_without_tls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_env(
        monkeypatch,
        WAXOS_ENV="production",
        WAXOS_SECRET_KEY=strong_key(),
        PUSHER_APP_ID="2073332",
        PUSHER_SECRET=pusher_like_secret(),
        **{**SECONDARY, "PUSHER_SECONDARY_SECRET": "waxos-dev-secret", "PUSHER_SECONDARY_USE_TLS": "false"},
    )
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert set(error.value.problems) == {"PUSHER_SECONDARY_SECRET", "PUSHER_SECONDARY_USE_TLS"}


@pytest.mark.usefixtures("no_secondary")
def test_cors_origins_are_exact_and_the_wildcard_is_for_development_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_env(monkeypatch, WAXOS_CORS_ORIGINS=" https://app.example.com, http://127.0.0.1:3000 ")
    assert load_settings().cors_origins == ("https://app.example.com", "http://127.0.0.1:3000")
    set_env(monkeypatch, WAXOS_CORS_ORIGINS="")
    assert load_settings().cors_origins == ()
    for bad in ("https://app.example.com/", "app.example.com", "https://a.test/path", "*,https://a.test"):
        set_env(monkeypatch, WAXOS_CORS_ORIGINS=bad)
        with pytest.raises(ConfigError, match="WAXOS_CORS_ORIGINS"):
            load_settings()
    set_env(monkeypatch, WAXOS_CORS_ORIGINS="*")
    assert load_settings().cors_origins == ("*",)
    set_env(
        monkeypatch,
        WAXOS_CORS_ORIGINS="*",
        WAXOS_ENV="staging",
        WAXOS_SECRET_KEY=strong_key(),
        PUSHER_APP_ID="2073332",
        PUSHER_SECRET=pusher_like_secret(),
    )
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert set(error.value.problems) == {"WAXOS_CORS_ORIGINS"}


def test_service_token_digests_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, WAXOS_SERVICE_TOKEN_SHA256=f" {'A' * 64}, {'b' * 64} ,")
    assert load_settings().service_token_digests == ("a" * 64, "b" * 64)


def test_trusted_proxies_are_networks_and_decide_whose_forwarded_header_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from waxos.cli.serve import proxy_options

    set_env(monkeypatch)
    assert proxy_options(load_settings()) == {"proxy_headers": False, "forwarded_allow_ips": None}
    set_env(monkeypatch, WAXOS_TRUSTED_PROXIES=" 10.0.0.0/8, 192.168.1.5 ,")
    assert proxy_options(load_settings()) == {
        "proxy_headers": True,
        "forwarded_allow_ips": "10.0.0.0/8,192.168.1.5",
    }
    set_env(monkeypatch, WAXOS_TRUSTED_PROXIES="10.0.0.0/8, the-balancer")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert list(caught.value.problems) == ["WAXOS_TRUSTED_PROXIES"]
