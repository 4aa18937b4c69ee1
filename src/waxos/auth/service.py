"""Staff sign-in: login with lockout, the user behind an access token, and a user's workspaces."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from waxos.auth.errors import InvalidCredentials, LoginThrottled, NotAuthenticated
from waxos.auth.models import LoginFailure, Membership, Role, User, Workspace
from waxos.auth.passwords import verify_password
from waxos.auth.tokens import issue_access_token
from waxos.db.engine import transaction

# Five wrong passwords within fifteen minutes lock the account until the oldest of them is fifteen
# minutes old: online guessing is held to 20 tries an hour while a mistyping human is barely slowed.
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """How access tokens are signed and how long they live."""

    secret: str
    lifetime: timedelta


def normalize_email(email: str) -> str:
    """The form emails are stored and compared in."""
    return email.strip().lower()


async def login(
    sessions: async_sessionmaker[AsyncSession],
    email: str,
    password: str,
    tokens: TokenPolicy,
    now: datetime,
) -> str:
    """An access token for the account, or `InvalidCredentials` / `LoginThrottled`.

    Three short transactions rather than one: the ~0.1 s argon2 verification must not hold a database
    transaction (on SQLite, the write lock), and a failure must be recorded even though the call fails.
    """
    email = normalize_email(email)
    async with transaction(sessions) as session:
        retry_after = await _lockout_remaining(session, email, now)
        if retry_after is not None:
            raise LoginThrottled(retry_after)
        account = (
            await session.execute(select(User.id, User.password_hash).where(User.email == email))
        ).one_or_none()
    password_hash = account.password_hash if account is not None else None
    # argon2 releases the GIL, so a thread keeps the event loop serving other requests meanwhile.
    matched = await asyncio.to_thread(verify_password, password_hash, password)
    async with transaction(sessions) as session:
        if matched:
            await session.execute(delete(LoginFailure).where(LoginFailure.email == email))
        else:
            await session.execute(
                delete(LoginFailure).where(
                    LoginFailure.email == email, LoginFailure.failed_at <= now - LOCKOUT_WINDOW
                )
            )
            session.add(LoginFailure(email=email, failed_at=now))
    if account is None or not matched:
        raise InvalidCredentials()
    return issue_access_token(account.id, tokens.secret, tokens.lifetime, now)


async def _lockout_remaining(session: AsyncSession, email: str, now: datetime) -> int | None:
    """Seconds until this email may try again, or None when it is not locked out."""
    recent = list(
        await session.scalars(
            select(LoginFailure.failed_at)
            .where(LoginFailure.email == email, LoginFailure.failed_at > now - LOCKOUT_WINDOW)
            .order_by(LoginFailure.failed_at.desc())
            .limit(LOCKOUT_FAILURES)
        )
    )
    if len(recent) < LOCKOUT_FAILURES:
        return None
    unlocks_at = recent[-1] + LOCKOUT_WINDOW
    return max(1, math.ceil((unlocks_at - now).total_seconds()))


async def user_for_id(session: AsyncSession, user_id: int) -> User:
    """The user a valid token names, read from the database now: a deleted user's token stops working."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotAuthenticated("the user of this access token no longer exists")
    return user


async def membership_role(session: AsyncSession, user_id: int, workspace_id: int) -> Role | None:
    """The user's role in the workspace, or None when they are not a member."""
    return await session.scalar(
        select(Membership.role).where(Membership.user_id == user_id, Membership.workspace_id == workspace_id)
    )


async def workspaces_of(session: AsyncSession, user_id: int) -> list[tuple[Workspace, Role]]:
    """The workspaces the user belongs to, with their role in each, oldest workspace first."""
    rows = await session.execute(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user_id)
        .order_by(Workspace.id)
    )
    return [(workspace, role) for workspace, role in rows]
