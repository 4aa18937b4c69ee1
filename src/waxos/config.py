"""Settings: read from the environment and an untracked `.env`, validated once at start-up.

Nothing is read at import time. `load_settings()` builds a `Settings` or raises `ConfigError`, whose
message names every bad variable and never contains a value (a value may be a secret).
"""

from __future__ import annotations

import base64
import binascii
import enum
import os
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ENV_FILE = ".env"
ENV_FILE_VARIABLE = "WAXOS_ENV_FILE"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/waxos.db"

# Credentials that exist only for local development: the committed `.env.development` uses them, and the
# tests too. Production refuses to start with any of them, so a copied development file cannot go live.
DEVELOPMENT_PUSHER_SECRETS = frozenset({"waxos-dev-secret", "secret", "changeme", "change-me"})
DEVELOPMENT_SECRET_KEYS = frozenset({"waxos-dev-signing-key-not-for-production", "changeme"})
DEVELOPMENT_APP_IDS = frozenset({"100001"})

_APP_ID = re.compile(r"^[0-9]{1,20}$")
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CLUSTER = re.compile(r"^[a-z0-9-]{1,32}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$")


class Environment(enum.StrEnum):
    """Where the process runs; production is strict about credentials."""

    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class ConfigError(Exception):
    """Configuration is missing or malformed; the message names the variables, never their values."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        listed = "; ".join(f"{name}: {why}" for name, why in sorted(problems.items()))
        super().__init__(f"invalid configuration ({len(problems)} problem(s)): {listed}")


class Settings(BaseSettings):
    """Every setting of the service; field names are the environment variables, lower-cased."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, hide_input_in_errors=True)

    waxos_env: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    waxos_secret_key: SecretStr = SecretStr("waxos-dev-signing-key-not-for-production")
    waxos_access_token_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 60
    waxos_log_level: str = "INFO"
    waxos_run_relay: bool = True
    waxos_event_retention_hours: Annotated[float, Field(gt=0, le=24 * 365)] = 72.0
    # The Pusher plan's limits (account-wide, as Pusher counts them), for the usage view and the alerts;
    # the defaults are Pusher's "Startup" plan. The warn ratio is where the near-limit alerts fire.
    waxos_plan_max_connections: Annotated[int, Field(ge=1)] = 500
    waxos_plan_max_messages_per_day: Annotated[int, Field(ge=1)] = 1_000_000
    waxos_plan_warn_ratio: Annotated[float, Field(gt=0, le=1)] = 0.8
    # How often the usage recorder (beside each relay) samples live counts and recounts the log.
    waxos_usage_sample_seconds: Annotated[float, Field(gt=0, le=3600)] = 15.0
    waxos_usage_rollup_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0
    # Where a standalone `waxos relay` serves /metrics (`waxos serve` serves it on its own port).
    waxos_relay_metrics_host: str = "127.0.0.1"
    waxos_relay_metrics_port: Annotated[int, Field(ge=0, le=65535)] = 9464

    pusher_app_id: str
    pusher_key: str
    pusher_secret: SecretStr
    pusher_cluster: str
    pusher_host: str | None = None
    pusher_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    pusher_use_tls: bool = True
    pusher_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 5.0
    pusher_encryption_master_key_base64: SecretStr | None = None
    pusher_webhook_url: str | None = None

    @field_validator("pusher_app_id")
    @classmethod
    def _app_id(cls, value: str) -> str:
        if not _APP_ID.fullmatch(value):
            raise ValueError("must be the numeric app id")
        return value

    @field_validator("pusher_key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _KEY.fullmatch(value):
            raise ValueError("must be 1-64 letters, digits, '-' or '_'")
        return value

    @field_validator("pusher_secret", "waxos_secret_key")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if not raw or raw.strip() != raw or len(raw) > 256:
            raise ValueError("must be non-empty, without surrounding spaces, at most 256 characters")
        return value

    @field_validator("pusher_cluster")
    @classmethod
    def _cluster(cls, value: str) -> str:
        if not _CLUSTER.fullmatch(value):
            raise ValueError("must be a cluster name such as ap2 or mt1")
        return value

    @field_validator(
        "pusher_host", "pusher_webhook_url", "pusher_encryption_master_key_base64", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("pusher_port", mode="before")
    @classmethod
    def _blank_port(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("pusher_host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and not _HOST.fullmatch(value):
            raise ValueError("must be a host name or IP address, without scheme or port")
        return value

    @field_validator("pusher_encryption_master_key_base64")
    @classmethod
    def _master_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            decoded = base64.b64decode(value.get_secret_value(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("must be base64") from exc
        if len(decoded) != 32:
            raise ValueError("must decode to exactly 32 bytes")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("waxos_log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    @model_validator(mode="after")
    def _production_refuses_development_credentials(self) -> Settings:
        if self.waxos_env is not Environment.PRODUCTION:
            return self
        problems = []
        if self.pusher_secret.get_secret_value() in DEVELOPMENT_PUSHER_SECRETS:
            problems.append("PUSHER_SECRET: a development placeholder is refused in production")
        if self.waxos_secret_key.get_secret_value() in DEVELOPMENT_SECRET_KEYS:
            problems.append("WAXOS_SECRET_KEY: a development placeholder is refused in production")
        if self.pusher_app_id in DEVELOPMENT_APP_IDS:
            problems.append("PUSHER_APP_ID: the development app id is refused in production")
        if not self.pusher_use_tls:
            problems.append("PUSHER_USE_TLS: must be true in production")
        if problems:
            raise ValueError(" | ".join(problems))
        return self

    @property
    def pusher_api_host(self) -> str:
        """The HTTP API host: the override, else the cluster's Pusher host."""
        return self.pusher_host or f"api-{self.pusher_cluster}.pusher.com"

    @property
    def pusher_api_port(self) -> int:
        """The HTTP API port: the override, else 443 with TLS and 80 without."""
        if self.pusher_port is not None:
            return self.pusher_port
        return 443 if self.pusher_use_tls else 80

    def summary(self) -> str:
        """A one-line start-up summary; secrets appear only as set/unset."""
        encrypted = "on" if self.pusher_encryption_master_key_base64 else "off"
        return (
            f"env={self.waxos_env.value} pusher_app_id={self.pusher_app_id} key={self.pusher_key} "
            f"cluster={self.pusher_cluster} api={self.pusher_api_host}:{self.pusher_api_port} "
            f"tls={'on' if self.pusher_use_tls else 'off'} secret=*** encrypted_channels={encrypted} "
            f"database={_mask_url(self.database_url)}"
        )


def _mask_url(url: str) -> str:
    """Hide a password in a database URL."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def _variable_name(location: tuple[int | str, ...]) -> str:
    return str(location[0]).upper() if location else "SETTINGS"


def load_settings(env_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Read and validate settings; raise `ConfigError` naming every bad variable.

    The env file is `env_file`, else `$WAXOS_ENV_FILE`, else `.env`; process variables win over it.
    """
    chosen = env_file or os.environ.get(ENV_FILE_VARIABLE) or DEFAULT_ENV_FILE
    path = Path(chosen)
    if env_file is not None and not path.is_file():
        raise ConfigError({ENV_FILE_VARIABLE: f"env file {path} does not exist"})
    try:
        return Settings(_env_file=path if path.is_file() else None, **overrides)
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors(include_input=False, include_url=False):
            if error["type"] == "missing":
                message = "is required but not set"
            else:
                message = str(error["msg"]).removeprefix("Value error, ")
            if not error["loc"] and " | " in message:
                for part in message.split(" | "):
                    name, _, why = part.partition(": ")
                    problems[name] = why
                continue
            problems[_variable_name(error["loc"])] = message
        raise ConfigError(problems) from None
