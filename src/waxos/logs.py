"""Logging set-up: one format for the process, and a filter that masks configured secrets in every line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

MASK = "***"


class SecretMasker(logging.Filter):
    """Replaces any configured secret value in a record's final message, whatever logged it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Short values would mask innocent text and are not secrets worth the name.
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with secrets masked; never drops a record."""
        if not self._secrets:
            return True
        message = record.getMessage()
        masked = message
        for secret in self._secrets:
            masked = masked.replace(secret, MASK)
        if masked != message or record.exc_info:
            if record.exc_info:
                formatted = logging.Formatter().formatException(record.exc_info)
                for secret in self._secrets:
                    formatted = formatted.replace(secret, MASK)
                masked = f"{masked}\n{formatted}"
                record.exc_info = None
                record.exc_text = None
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str, secrets: Iterable[str] = (), *, sql_parameters: bool = False) -> None:
    """Send records to stderr at `level`, with `secrets` masked on every handler's output.

    The database driver's debug lines carry every SQL parameter (emails at login, hashes when seeding):
    they stay off, even at DEBUG, unless `sql_parameters` asks for them.
    """
    root = logging.getLogger()
    root.setLevel(level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretMasker(secrets))
    for existing in list(root.handlers):
        if getattr(existing, "_waxos", False):
            root.removeHandler(existing)
    handler._waxos = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    for noisy in ("httpx", "httpcore"):
        # httpx logs full request URLs at INFO, and ours carry signed query strings.
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # aiosqlite logs each call with its arguments at DEBUG; SQLAlchemy's engine logs statements and
    # parameters at INFO (engines also hide parameters, see `waxos.db.engine.make_engine`).
    for driver in ("aiosqlite", "sqlalchemy.engine"):
        logging.getLogger(driver).setLevel(logging.NOTSET if sql_parameters else logging.WARNING)


def secret_values(*values: str | None) -> list[str]:
    """The non-empty values among `values`, for `configure_logging`."""
    return [value for value in values if value]
