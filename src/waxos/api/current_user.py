"""Who is calling: the bearer token's user id, the user record, and the batching `StaffLookup`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from waxos.api.deps import SessionDep, SettingsDep
from waxos.api.errors import ApiError
from waxos.auth.errors import NotAuthenticated
from waxos.auth.lookup import StaffLookup
from waxos.auth.models import User
from waxos.auth.service import user_for_id
from waxos.auth.tokens import read_access_token

_bearer = HTTPBearer(auto_error=False, description="An access token from `POST /api/v1/auth/login`.")


async def get_token_user_id(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> int:
    """The user id in a valid bearer token; the caller must still check the user exists (401 if not)."""
    if credentials is None:
        raise unauthorized("a bearer access token is required")
    try:
        return read_access_token(credentials.credentials, settings.waxos_secret_key.get_secret_value())
    except NotAuthenticated as exc:
        raise unauthorized(exc.reason) from exc


TokenUserIdDep = Annotated[int, Depends(get_token_user_id)]


async def get_current_user(session: SessionDep, user_id: TokenUserIdDep) -> User:
    """The user, looked up on every request so that deleting them ends their access at once."""
    try:
        return await user_for_id(session, user_id)
    except NotAuthenticated as exc:
        raise unauthorized(exc.reason) from exc


CurrentUserDep = Annotated[User, Depends(get_current_user)]


async def get_staff_lookup(request: Request) -> StaffLookup:
    """The app's one `StaffLookup`, made on first use: it holds no resource, only the app's engine."""
    state = request.app.state
    lookup: StaffLookup | None = getattr(state, "staff_lookup", None)
    if lookup is None:
        lookup = state.staff_lookup = StaffLookup(state.engine)
    return lookup


StaffLookupDep = Annotated[StaffLookup, Depends(get_staff_lookup)]


def unauthorized(reason: str) -> ApiError:
    """The 401 for a missing or unusable access token."""
    return ApiError(401, "not_authenticated", reason, headers={"WWW-Authenticate": "Bearer"})
