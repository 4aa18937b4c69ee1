"""Access tokens: short-lived HS256 JWTs naming a staff user, issued at login and checked per request."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import jwt

from waxos.auth.errors import NotAuthenticated

ALGORITHM = "HS256"
_ACCESS_KIND = "access"
_REQUIRED_CLAIMS = ["sub", "iat", "exp", "typ", "gen"]
# \A...\Z with fullmatch: `$` also matches before a trailing newline.
_USER_ID = re.compile(r"\A[1-9][0-9]{0,17}\Z")


@dataclass(frozen=True, slots=True)
class AccessToken:
    """Whom a valid token was issued to: the user's id and their token generation at the time.

    The user read from the database must have both: a user created later under the same id has another
    generation (`waxos.auth.models.new_token_generation`), so it is not the token's user.
    """

    user_id: int
    generation: int


def access_token_key(secret: str) -> bytes:
    """The HMAC key for access tokens, derived from `WAXOS_SECRET_KEY` for this one purpose.

    Deriving keeps tokens unforgeable from anything else signed with the same secret, and always yields
    the 32 bytes HS256 wants, whatever the secret's length.
    """
    return hmac.new(secret.encode(), b"waxos access token v1", hashlib.sha256).digest()


def issue_access_token(user_id: int, generation: int, secret: str, lifetime: timedelta, now: datetime) -> str:
    """A signed token for user `user_id` of token generation `generation`, valid from `now` for `lifetime`."""
    claims = {
        "sub": str(user_id),
        "gen": generation,
        "typ": _ACCESS_KIND,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(claims, access_token_key(secret), algorithm=ALGORITHM)


def read_access_token(token: str, secret: str) -> AccessToken:
    """The user a valid token names; raise `NotAuthenticated` for anything else.

    Only HS256 is accepted, so a token cannot choose its own algorithm (`none`, or a public-key one).
    """
    access, expires = _verified(token, secret)
    # Checked on every call: a verification remembered from earlier says nothing about expiry now.
    if expires <= time.time():
        raise NotAuthenticated("access token expired")
    return access


# A browser presents the same token for each of its subscriptions and reconnections, and PyJWT's
# parsing costs more than the rest of an authorization. Only tokens with a valid signature get here
# (failures raise, and raising is not cached), so the cache cannot be filled with junk.
@lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[AccessToken, int]:
    """Whom a token with a valid signature and claims names, and its expiry (Unix time)."""
    try:
        claims = jwt.decode(
            token, access_token_key(secret), algorithms=[ALGORITHM], options={"require": _REQUIRED_CLAIMS}
        )
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("access token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise NotAuthenticated("invalid access token") from exc
    subject, generation, expires = claims["sub"], claims["gen"], claims["exp"]
    if (
        claims["typ"] != _ACCESS_KIND
        or not isinstance(subject, str)
        or not _USER_ID.fullmatch(subject)
        or not isinstance(expires, int)
        or isinstance(generation, bool)
        or not isinstance(generation, int)
    ):
        raise NotAuthenticated("invalid access token")
    return AccessToken(int(subject), generation), expires
