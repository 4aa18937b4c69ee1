"""`CurrentUserDep`: the staff user named by the request's bearer token, read from the database."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from waxos.api.deps import SessionDep, SettingsDep
from waxos.api.errors import ApiError
from waxos.auth.errors import NotAuthenticated
from waxos.auth.models import User
from waxos.auth.service import user_for_token

_bearer = HTTPBearer(auto_error=False, description="An access token from `POST /api/v1/auth/login`.")


async def get_current_user(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The user, looked up on every request so that deleting them ends their access at once."""
    if credentials is None:
        raise _unauthorized("a bearer access token is required")
    try:
        return await user_for_token(
            session, credentials.credentials, settings.waxos_secret_key.get_secret_value()
        )
    except NotAuthenticated as exc:
        raise _unauthorized(exc.reason) from exc


def _unauthorized(reason: str) -> ApiError:
    return ApiError(401, "not_authenticated", reason, headers={"WWW-Authenticate": "Bearer"})


CurrentUserDep = Annotated[User, Depends(get_current_user)]
