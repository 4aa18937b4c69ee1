"""Password hashing: argon2id, salted, and a verify that never errors on bad input."""

from __future__ import annotations

from tests.support.accounts import FAST_HASHER
from waxos.auth.passwords import hash_password, verify_password


def test_a_hash_is_salted_argon2id_and_verifies_only_its_password() -> None:
    first = hash_password("a test password", FAST_HASHER)
    second = hash_password("a test password", FAST_HASHER)
    assert first.startswith("$argon2id$")
    assert first != second
    assert verify_password(first, "a test password")
    assert not verify_password(first, "a test passwore")


def test_verify_is_false_for_a_missing_or_corrupt_hash() -> None:
    assert not verify_password(None, "anything")
    assert not verify_password("not-an-argon2-hash", "anything")
