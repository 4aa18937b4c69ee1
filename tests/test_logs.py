"""Secret masking: whatever logs a configured secret, the line that leaves the process shows ***."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.support.accounts import running_api
from waxos.db.engine import make_engine
from waxos.logs import SecretMasker, configure_logging


def _capture(secrets: list[str]) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretMasker(secrets))
    logger = logging.getLogger(f"test-masking-{id(stream)}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_secrets_in_messages_and_arguments_are_masked() -> None:
    logger, stream = _capture(["test-secret-value", "signing-key-value"])
    logger.error("url=%s key=%s", "http://h/?secret=test-secret-value", "signing-key-value")
    assert stream.getvalue().strip() == "url=http://h/?secret=*** key=***"


def test_secrets_in_tracebacks_are_masked() -> None:
    logger, stream = _capture(["test-secret-value"])
    try:
        raise RuntimeError("bad secret test-secret-value")
    except RuntimeError:
        logger.exception("failed")
    output = stream.getvalue()
    assert "failed" in output and "RuntimeError: bad secret ***" in output
    assert "test-secret-value" not in output


def test_short_values_are_not_treated_as_secrets() -> None:
    logger, stream = _capture(["abc", ""])
    logger.info("abc is fine")
    assert stream.getvalue().strip() == "abc is fine"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    drivers = {name: logging.getLogger(name).level for name in ("aiosqlite", "sqlalchemy.engine")}
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, level in drivers.items():
        logging.getLogger(name).setLevel(level)


NEEDLE = "probe-parameter-value@example.test"


async def _insert_twice(url: str, *, show_parameters: bool) -> str:
    """Insert NEEDLE twice into a unique column; the second insert's error message."""
    engine = make_engine(url, show_parameters=show_parameters)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE probe (v VARCHAR(100) UNIQUE)"))
            await connection.execute(text("INSERT INTO probe (v) VALUES (:v)"), {"v": NEEDLE})
        with pytest.raises(IntegrityError) as caught:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO probe (v) VALUES (:v)"), {"v": NEEDLE})
        return str(caught.value)
    finally:
        await engine.dispose()


@pytest.mark.usefixtures("restore_logging")
async def test_sql_parameters_stay_out_of_debug_logs_and_errors(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    error = await _insert_twice(database_url, show_parameters=False)
    assert NEEDLE not in error
    assert NEEDLE not in caplog.text


@pytest.mark.usefixtures("restore_logging")
async def test_sql_parameters_are_logged_only_when_asked_for(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("DEBUG", sql_parameters=True)
    caplog.set_level(logging.DEBUG)
    error = await _insert_twice(f"sqlite+aiosqlite:///{tmp_path / 'probe.db'}", show_parameters=True)
    assert NEEDLE in error and NEEDLE in caplog.text


@pytest.mark.usefixtures("restore_logging")
async def test_a_login_at_debug_level_logs_no_email_nor_hash(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    async with running_api(database_url, waxos_log_level="DEBUG") as api:
        email = api.world.acme_agent.email
        response = await api.client.post("/api/v1/auth/login", json={"email": email, "password": "wrong"})
        assert response.status_code == 401
        password_hash = api.world.acme_agent.password_hash
    assert email not in caplog.text
    assert password_hash not in caplog.text
