"""Sign-in endpoints: `POST /api/v1/auth/login` and `GET /api/v1/me`."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request

from waxos.api.current_user import CurrentUserDep
from waxos.api.deps import ReadSessionDep, SessionsDep, SettingsDep
from waxos.auth.errors import AddressThrottled
from waxos.auth.guard import AddressThrottle, HashingPool
from waxos.auth.schemas import LoginRequest, MeResponse, TokenResponse, WorkspaceRole
from waxos.auth.service import TokenPolicy, login, workspaces_of
from waxos.db.base import utcnow

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post(
    "/auth/login",
    summary="Exchange an email and password for a bearer access token",
    responses={
        401: {"description": "wrong email or password"},
        429: {
            "description": "too many failed logins for this account, or login attempts from this address; "
            "see Retry-After"
        },
        503: {"description": "too many logins in progress; see Retry-After"},
    },
)
async def login_route(
    request: Request, body: LoginRequest, sessions: SessionsDep, settings: SettingsDep
) -> TokenResponse:
    """A short-lived access token (`WAXOS_ACCESS_TOKEN_MINUTES`).

    Five failed logins for an account within fifteen minutes refuse further attempts for a while (429);
    so do more than `WAXOS_LOGIN_ATTEMPTS_PER_MINUTE` attempts a minute from one client address.
    """
    throttle: AddressThrottle = request.app.state.login_throttle
    wait = throttle.retry_after(request.client.host if request.client else "")
    if wait is not None:
        raise AddressThrottled(wait)
    hashing: HashingPool = request.app.state.hashing
    lifetime = timedelta(minutes=settings.waxos_access_token_minutes)
    tokens = TokenPolicy(settings.waxos_secret_key.get_secret_value(), lifetime)
    token = await login(sessions, body.email, body.password, tokens, utcnow(), hashing)
    return TokenResponse(access_token=token, expires_in=int(lifetime.total_seconds()))


@router.get(
    "/me",
    summary="The signed-in user and their workspaces",
    responses={401: {"description": "no valid access token"}},
)
async def me(user: CurrentUserDep, session: ReadSessionDep) -> MeResponse:
    """Who the bearer token belongs to, and their role in each of their workspaces."""
    workspaces = await workspaces_of(session, user.id)
    return MeResponse(
        id=user.id,
        email=user.email,
        name=user.name,
        is_operator=user.is_operator,
        workspaces=[WorkspaceRole(id=w.id, name=w.name, role=role) for w, role in workspaces],
    )
