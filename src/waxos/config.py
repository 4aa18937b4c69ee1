"""Settings: read from the environment and an untracked `.env`, validated once at start-up.

Nothing is read at import time. `load_settings()` builds a `Settings` or raises `ConfigError`, whose
message names every bad variable and never contains a value (a value may be a secret).
"""

from __future__ import annotations

import base64
import binascii
import enum
import ipaddress
import math
import os
import re
import string
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ENV_FILE = ".env"
ENV_FILE_VARIABLE = "WAXOS_ENV_FILE"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/waxos.db"

# Credentials that exist only for local development: the committed `.env.development` uses them, and the
# tests too. Staging and production refuse them in any letter case, so a copied development file cannot
# go live; they also refuse TLS off and weak secrets (see `_weakness`).
DEVELOPMENT_PUSHER_SECRETS = frozenset({"waxos-dev-secret", "secret", "changeme", "change-me"})
DEVELOPMENT_SECRET_KEY = "waxos-dev-signing-key-not-for-production"  # noqa: S105  (the development default)
DEVELOPMENT_SECRET_KEYS = frozenset({DEVELOPMENT_SECRET_KEY, "changeme", "change-me", "secret"})
DEVELOPMENT_APP_IDS = frozenset({"100001"})
# Outside development: WAXOS_SECRET_KEY signs every access token, so it needs as much entropy as the
# HS256 key derived from it (32 bytes); a Pusher secret is 20 hex characters, and none is shorter.
MIN_SECRET_KEY_BITS = 256
MIN_PUSHER_SECRET_LENGTH = 20

_APP_ID = re.compile(r"^[0-9]{1,20}$")
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CLUSTER = re.compile(r"^[a-z0-9-]{1,32}$")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$")
# An origin as browsers send it: scheme, host, optional port; no path, no trailing slash.
_ORIGIN = re.compile(r"^https?://([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$")
_SECONDARY = ("app_id", "key", "secret", "cluster", "host", "port")


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
    # Checked even when left at its default: outside development the default is refused.
    waxos_secret_key: Annotated[SecretStr, Field(validate_default=True)] = SecretStr(DEVELOPMENT_SECRET_KEY)
    waxos_access_token_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 60
    # Login attempts a minute per client address (bursts of as many), before any password is hashed.
    waxos_login_attempts_per_minute: Annotated[int, Field(ge=1, le=10_000)] = 30
    # Password verifications at once per process (0: half the CPUs, at least one: the rest stay free for
    # every other endpoint), and how many more may wait before a login gets 503.
    waxos_login_hashing_threads: Annotated[int, Field(ge=0, le=64)] = 0
    waxos_login_hashing_queue: Annotated[int, Field(ge=0, le=10_000)] = 16
    # Proxies (addresses or CIDR networks, comma-separated) whose X-Forwarded-For names the client: the
    # login throttle counts per client address, so behind a load balancer name it here. Empty: none.
    waxos_trusted_proxies: str = ""
    # Who may read `/metrics` on the API's port, which browsers reach too: the client address (as resolved
    # through WAXOS_TRUSTED_PROXIES) must be in one of these networks. Default: loopback and private ranges.
    waxos_metrics_networks: str = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
    waxos_log_level: str = "INFO"
    # Let the database driver log SQL with its parameters (emails, password hashes): debugging only.
    waxos_log_sql_parameters: bool = False
    waxos_run_relay: bool = True
    waxos_event_retention_hours: Annotated[float, Field(gt=0, le=24 * 365)] = 72.0
    # How long a relay's claim on a channel lasts unless renewed: a crashed relay's channels are taken
    # over after at most this (plus the other relay's next look, a second at most).
    waxos_relay_lease_seconds: Annotated[float, Field(ge=0.5, le=3600)] = 3.0
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
    # SHA-256 hex digests of the accepted service tokens (see waxos.auth.service_tokens), comma-separated.
    waxos_service_token_sha256: str = ""

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

    # A second Pusher-compatible provider to fail over to (D7): all unset, or app id, key, secret and a
    # cluster or host. Its own credentials, checked as strictly as the primary's; the encryption master
    # key is shared.
    pusher_secondary_app_id: str | None = None
    pusher_secondary_key: str | None = None
    pusher_secondary_secret: SecretStr | None = None
    pusher_secondary_cluster: str | None = None
    pusher_secondary_host: str | None = None
    pusher_secondary_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    pusher_secondary_use_tls: bool = True
    # Switch away from the active provider once its circuit has stayed open this long.
    waxos_failover_after_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    # `auto`: return to the primary after it has been healthy for WAXOS_FAILBACK_AFTER_SECONDS;
    # `manual`: only `waxos provider use primary` returns.
    waxos_failback: Literal["auto", "manual"] = "auto"
    waxos_failback_after_seconds: Annotated[float, Field(gt=0, le=24 * 3600)] = 600.0
    # How often the relay checks the provider it is not using (one signed read call).
    waxos_provider_probe_seconds: Annotated[float, Field(gt=0, le=3600)] = 10.0

    # Exact browser origins allowed to call the API from another origin (comma-separated); none by default.
    waxos_cors_origins: str = ""

    @field_validator("pusher_app_id", "pusher_secondary_app_id")
    @classmethod
    def _app_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not _APP_ID.fullmatch(value):
            raise ValueError("must be the numeric app id")
        if _strict(info) and value in DEVELOPMENT_APP_IDS:
            raise ValueError(f"the development app id is refused in {_strict(info)}")
        return value

    @field_validator("waxos_trusted_proxies", "waxos_metrics_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        try:
            for part in parts:
                ipaddress.ip_network(part, strict=False)
        except ValueError as exc:
            raise ValueError("must be IP addresses or networks, comma-separated") from exc
        return ",".join(parts)

    @field_validator("pusher_key", "pusher_secondary_key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is not None and not _KEY.fullmatch(value):
            raise ValueError("must be 1-64 letters, digits, '-' or '_'")
        return value

    @field_validator("pusher_secret", "waxos_secret_key", "pusher_secondary_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        raw = None if value is None else value.get_secret_value()
        if raw is not None and (not raw or raw.strip() != raw or len(raw) > 256):
            raise ValueError("must be non-empty, without surrounding spaces, at most 256 characters")
        return value

    @field_validator("waxos_secret_key")
    @classmethod
    def _strong_secret_key(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        env = _strict(info)
        if not env:
            return value
        raw = value.get_secret_value()
        if _is_development_value(raw, DEVELOPMENT_SECRET_KEYS):
            raise ValueError(f"must be set in {env}; a development value is refused")
        weakness = _weakness(raw, MIN_SECRET_KEY_BITS)
        if weakness:
            raise ValueError(
                f"too weak for {env} ({weakness}): use at least 32 random bytes, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        return value

    @field_validator("pusher_secret", "pusher_secondary_secret")
    @classmethod
    def _real_pusher_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        env = _strict(info)
        if not env or value is None:
            return value
        raw = value.get_secret_value()
        if _is_development_value(raw, DEVELOPMENT_PUSHER_SECRETS):
            raise ValueError(f"a development value is refused in {env}")
        if len(raw) < MIN_PUSHER_SECRET_LENGTH:
            raise ValueError(
                f"must be the app's secret from Pusher (at least {MIN_PUSHER_SECRET_LENGTH} characters)"
            )
        key = info.data.get("waxos_secret_key")
        if isinstance(key, SecretStr) and key.get_secret_value() == raw:
            raise ValueError("must not be the same value as WAXOS_SECRET_KEY")
        return value

    @field_validator("pusher_cluster", "pusher_secondary_cluster")
    @classmethod
    def _cluster(cls, value: str | None) -> str | None:
        if value is not None and not _CLUSTER.fullmatch(value):
            raise ValueError("must be a cluster name such as ap2 or mt1")
        return value

    @field_validator(
        "pusher_host",
        "pusher_webhook_url",
        "pusher_encryption_master_key_base64",
        *(f"pusher_secondary_{name}" for name in _SECONDARY),
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("pusher_port", mode="before")
    @classmethod
    def _blank_port(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("pusher_use_tls", "pusher_secondary_use_tls")
    @classmethod
    def _tls(cls, value: bool, info: ValidationInfo) -> bool:
        if not value and _strict(info):
            raise ValueError(f"must be true in {_strict(info)}")
        return value

    @field_validator("pusher_host", "pusher_secondary_host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and not _HOST.fullmatch(value):
            raise ValueError("must be a host name or IP address, without scheme or port")
        return value

    @field_validator("waxos_cors_origins")
    @classmethod
    def _cors_origins(cls, value: str, info: ValidationInfo) -> str:
        origins = [origin.strip() for origin in value.split(",") if origin.strip()]
        for origin in origins:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    "must list exact origins such as https://app.example.com, comma-separated "
                    "(scheme and host, optional port, no path)"
                )
        if "*" in origins and len(origins) > 1:
            raise ValueError("'*' cannot be combined with other origins")
        if "*" in origins and info.data.get("waxos_env") is not Environment.DEVELOPMENT:
            raise ValueError("'*' is refused outside development; list exact origins")
        return ",".join(origins)

    @field_validator("pusher_encryption_master_key_base64")
    @classmethod
    def _master_key(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            return None
        try:
            decoded = base64.b64decode(value.get_secret_value(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("must be base64") from exc
        if len(decoded) != 32:
            raise ValueError("must decode to exactly 32 bytes")
        env = _strict(info)
        if env and _weakness(value.get_secret_value(), 256):
            raise ValueError(f"too weak for {env}: use 32 random bytes")
        return value

    @field_validator("waxos_service_token_sha256")
    @classmethod
    def _service_token_digests(cls, value: str) -> str:
        if any(not _SHA256.fullmatch(part.strip()) for part in value.split(",") if part.strip()):
            raise ValueError("must be SHA-256 hex digests (64 hex digits), comma-separated")
        return value

    @property
    def service_token_digests(self) -> tuple[str, ...]:
        """The configured service token digests, lower-cased."""
        return tuple(p.strip().lower() for p in self.waxos_service_token_sha256.split(",") if p.strip())

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
    def _secondary_is_complete(self) -> Settings:
        given = {name for name in _SECONDARY if getattr(self, f"pusher_secondary_{name}") is not None}
        if not given:
            return self
        problems = [
            f"PUSHER_SECONDARY_{name.upper()}: is required when a secondary provider is configured"
            for name in ("app_id", "key", "secret")
            if name not in given
        ]
        if "cluster" not in given and "host" not in given:
            problems.append("PUSHER_SECONDARY_CLUSTER: set it, or PUSHER_SECONDARY_HOST, for the secondary")
        if (
            self.pusher_secondary_app_id == self.pusher_app_id
            and self.pusher_secondary_host == self.pusher_host
            and self.pusher_secondary_cluster in (None, self.pusher_cluster)
        ):
            problems.append("PUSHER_SECONDARY_APP_ID: the secondary must be another app or endpoint")
        if problems:
            # Each "NAME: why", split again by load_settings so each problem is named by its variable.
            raise ValueError(" | ".join(problems))
        return self

    @property
    def secondary_configured(self) -> bool:
        """Whether a secondary provider is configured (validation made it complete)."""
        return self.pusher_secondary_app_id is not None

    @property
    def metrics_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The networks whose clients may read `/metrics` on the API's port."""
        return tuple(
            ipaddress.ip_network(part, strict=False)
            for part in self.waxos_metrics_networks.split(",")
            if part
        )

    @property
    def cors_origins(self) -> tuple[str, ...]:
        """The allowed cross-origin browser origins (`*` only in development)."""
        return tuple(origin for origin in self.waxos_cors_origins.split(",") if origin)

    def for_secondary(self) -> Settings:
        """These settings with the secondary provider's credentials and endpoint in the `pusher_*` fields.

        Every part built from `Settings` (the publisher, its checks) then serves the secondary unchanged.
        """
        if not self.secondary_configured:
            raise ValueError("no secondary provider is configured")
        return self.model_copy(
            update={
                "pusher_app_id": self.pusher_secondary_app_id,
                "pusher_key": self.pusher_secondary_key,
                "pusher_secret": self.pusher_secondary_secret,
                "pusher_cluster": self.pusher_secondary_cluster or self.pusher_cluster,
                "pusher_host": self.pusher_secondary_host,
                "pusher_port": self.pusher_secondary_port,
                "pusher_use_tls": self.pusher_secondary_use_tls,
            }
        )

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
            f"database={_mask_url(self.database_url)}{self._secondary_summary()}"
        )

    def _secondary_summary(self) -> str:
        if not self.secondary_configured:
            return ""
        other = self.for_secondary()
        return (
            f" secondary=app {other.pusher_app_id} key={other.pusher_key} "
            f"api={other.pusher_api_host}:{other.pusher_api_port} failback={self.waxos_failback}"
        )


def _strict(info: ValidationInfo) -> str:
    """The environment's name when it is staging or production (strict about credentials), else ''.

    An invalid WAXOS_ENV is reported on its own; the other variables are then checked as in development
    (the process stops anyway).
    """
    env = info.data.get("waxos_env")
    return env.value if isinstance(env, Environment) and env is not Environment.DEVELOPMENT else ""


def _is_development_value(raw: str, development: frozenset[str]) -> bool:
    folded = raw.casefold()
    return any(folded == value.casefold() for value in development)


_HEX = frozenset(string.hexdigits.lower())
_BASE64 = frozenset(string.ascii_letters + string.digits + "+/-_")


def _weakness(raw: str, min_bits: int) -> str:
    """Why `raw` cannot hold `min_bits` of entropy, or '' when it may.

    A conservative estimate from what is visible: length times the bits per character of the smallest
    usual alphabet holding the value (hex 4, base64 6, other printable text 6.5); a value that repeats a
    shorter pattern, or uses few distinct characters, gets no credit. It cannot prove randomness, only
    catch what is certainly weak: words, short values, patterns.
    """
    body = raw.rstrip("=")  # base64 padding carries nothing
    chars = set(body)
    if len(chars) < 8 or _repeats(body):
        return "it repeats a pattern or uses few distinct characters"
    if chars <= _HEX or chars <= frozenset(c.upper() for c in _HEX):
        per_character = 4.0
    elif chars <= _BASE64:
        per_character = 6.0
    else:
        per_character = math.log2(94)
    bits = len(body) * per_character
    if bits < min_bits:
        return f"about {bits:.0f} bits of entropy at most, {min_bits} needed"
    return ""


def _repeats(text: str) -> bool:
    """True when `text` is a shorter string repeated (at least twice over)."""
    return any(
        text == (text[:period] * (len(text) // period + 1))[: len(text)]
        for period in range(1, len(text) // 2 + 1)
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
            if not error["loc"]:
                # A model validator's message: "NAME: why", several joined by " | ".
                for part in message.split(" | "):
                    name, _, why = part.partition(": ")
                    problems[name] = why
                continue
            problems[_variable_name(error["loc"])] = message
        raise ConfigError(problems) from None
