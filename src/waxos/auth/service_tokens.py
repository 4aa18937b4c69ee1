"""Service tokens: how a machine (the AI worker) authenticates, without being a staff user.

A service token is `wxs_` followed by 43 random URL-safe characters, sent as a bearer token. The server
never stores it: `WAXOS_SERVICE_TOKEN_SHA256` holds the SHA-256 hex digests of the accepted tokens
(comma-separated, so a new token can be added before the old one is removed). `waxos service-token`
prints a new token and its digest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

SERVICE_TOKEN_PREFIX = "wxs_"  # noqa: S105  (a prefix that marks the kind of token, not a secret)


def new_service_token() -> tuple[str, str]:
    """A fresh service token and the digest to configure for it."""
    token = SERVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, service_token_digest(token)


def service_token_digest(token: str) -> str:
    """The SHA-256 hex digest of a token, as configured."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_service_token(token: str) -> bool:
    """True when `token` has a service token's form (it may still be wrong)."""
    return token.startswith(SERVICE_TOKEN_PREFIX)


def service_token_accepted(token: str, digests: Iterable[str]) -> bool:
    """True when `token` hashes to one of `digests`; every digest is compared, in constant time."""
    presented = service_token_digest(token)
    accepted = False
    for digest in digests:
        accepted |= hmac.compare_digest(presented, digest)
    return accepted
