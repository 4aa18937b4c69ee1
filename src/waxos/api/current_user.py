"""Who is calling: the bearer token's user, the user record, and the batching `StaffLookup`.

A missing or unusable token raises `NotAuthenticated`, which the error translator answers with 401.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from waxos.api.deps import ReadSessionsDep, SettingsDep
from waxos.auth.errors import NotAuthenticated
from waxos.auth.lookup import StaffLookup
from waxos.auth.models import User
from waxos.auth.service import user_for_token
from waxos.auth.tokens import AccessToken, read_access_token
from waxos.config import Settings

_bearer = HTTPBearer(auto_error=False, description="An access token from `POST /api/v1/auth/login`.")

BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def token_from(credentials: HTTPAuthorizationCredentials | None, settings: Settings) -> AccessToken:
    """The user a valid bearer token names, else `NotAuthenticated`; the caller must still check the user."""
    if credentials is None:
        raise NotAuthenticated("a bearer access token is required")
    return read_access_token(credentials.credentials, settings.waxos_secret_key.get_secret_value())


async def get_access_token(settings: SettingsDep, credentials: BearerDep) -> AccessToken:
    """The user the request's bearer token names (no database read)."""
    return token_from(credentials, settings)


AccessTokenDep = Annotated[AccessToken, Depends(get_access_token)]


async def get_current_user(read_sessions: ReadSessionsDep, token: AccessTokenDep) -> User:
    """The user, looked up on every request so that deleting them ends their access at once.

    Read in a short read-only transaction of its own, closed before the route's session connects: a
    request never holds two pooled connections at once, and on SQLite the read takes no write lock.
    """
    async with read_sessions() as session, session.begin():
        return await user_for_token(session, token)


CurrentUserDep = Annotated[User, Depends(get_current_user)]


def staff_lookup(state: Any) -> StaffLookup:
    """The app's one `StaffLookup` (in `app.state`), made on first use: it holds only the app's engine.

    Made again if the lifespan has since built a new engine (an app started twice, as tests do).
    """
    lookup: StaffLookup | None = getattr(state, "staff_lookup", None)
    if lookup is None or lookup.engine is not state.engine:
        lookup = state.staff_lookup = StaffLookup(state.engine)
    return lookup
