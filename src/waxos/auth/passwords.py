"""Password hashing with argon2id, and a verify that costs the same whether or not the account exists."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults (RFC 9106's low-memory profile: t=3, m=64 MiB, p=4). A hash records its own
# parameters, so verifying needs no hasher configuration and cheaper hashes made in tests still verify.
DEFAULT_HASHER = PasswordHasher()


def hash_password(password: str, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    """An argon2id hash of `password`, salted, with its parameters encoded in it."""
    return hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches `password_hash`.

    With no hash (an unknown email) it still runs one full verification, against a throw-away hash,
    so the response time does not tell an attacker which emails have accounts.
    """
    target = password_hash if password_hash is not None else _decoy_hash()
    try:
        DEFAULT_HASHER.verify(target, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


@cache
def _decoy_hash() -> str:
    return DEFAULT_HASHER.hash("decoy password for unknown accounts")
