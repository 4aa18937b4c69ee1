"""Secret masking: whatever logs a configured secret, the line that leaves the process shows ***."""

from __future__ import annotations

import io
import logging

from waxos.logs import SecretMasker


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
