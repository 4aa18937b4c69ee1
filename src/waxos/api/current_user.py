"""Who is calling: the bearer token's user id, the user record, and the batching `StaffLookup`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from waxos.api.deps import SessionDep, SettingsDep
from waxos.api.errors import ApiError
from waxos.auth.errors import NotAuthenticated
from waxos.auth.lookup import StaffLookup
from waxos.auth.models import User
from waxos.auth.service import user_for_id
from waxos.auth.tokens import read_access_token
from waxos.config import Settings

_bearer = HTTPBearer(auto_error=False, description="An access token from `POST /api/v1/auth/login`.")

BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def user_id_from(credentials: HTTPAuthorizationCredentials | None, settings: Settings) -> int:
    """The user id in a valid bearer token, else a 401; the caller must still check the user exists."""
    if credentials is None:
        raise unauthorized("a bearer access token is required")
    try:
        return read_access_token(credentials.credentials, settings.waxos_secret_key.get_secret_value())
    except NotAuthenticated as exc:
        raise unauthorized(exc.reason) from exc


async def get_token_user_id(settings: SettingsDep, credentials: BearerDep) -> int:
    """The user id in the request's bearer token (no database read)."""
    return user_id_from(credentials, settings)


TokenUserIdDep = Annotated[int, Depends(get_token_user_id)]


async def get_current_user(session: SessionDep, user_id: TokenUserIdDep) -> User:
    """The user, looked up on every request so that deleting them ends their access at once."""
    try:
        return await user_for_id(session, user_id)
    except NotAuthenticated as exc:
        raise unauthorized(exc.reason) from exc


CurrentUserDep = Annotated[User, Depends(get_current_user)]


def staff_lookup(state: Any) -> StaffLookup:
    """The app's one `StaffLookup` (in `app.state`), made on first use: it holds only the app's engine.

    Made again if the lifespan has since built a new engine (an app started twice, as tests do).
    """
    lookup: StaffLookup | None = getattr(state, "staff_lookup", None)
    if lookup is None or lookup.engine is not state.engine:
        lookup = state.staff_lookup = StaffLookup(state.engine)
    return lookup


def unauthorized(reason: str) -> ApiError:
    """The 401 for a missing or unusable access token."""
    return ApiError(401, "not_authenticated", reason, headers={"WWW-Authenticate": "Bearer"})
