"""Staff sign-in: login with lockout, the user behind an access token, and a user's workspaces."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from waxos.auth.errors import InvalidCredentials, LoginThrottled, NotAuthenticated
from waxos.auth.guard import HashingPool
from waxos.auth.models import LoginFailure, Membership, Role, User, Workspace
from waxos.auth.tokens import AccessToken, issue_access_token
from waxos.db.engine import transaction
from waxos.events.erasure import erase_workspace_log

# Five wrong passwords within fifteen minutes lock the account until the oldest of them is fifteen
# minutes old: online guessing is held to 20 tries an hour while a mistyping human is barely slowed.
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
PRUNE_PER_LOGIN = 50
# The first key of the per-email advisory lock on PostgreSQL (the second is the email's hash): a class of
# its own, so it cannot collide with other advisory locks.
_LOGIN_LOCK_CLASS = 0x6C6F67  # "log"


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
    hashing: HashingPool,
) -> str:
    """An access token for the account, or `InvalidCredentials` / `LoginThrottled` / `LoginBusy`.

    The attempt is counted before the password is checked: one short transaction checks the lockout and
    records the attempt as a failure, serialized per email (see `_claim_attempt`), so concurrent
    requests can never verify more than `LOCKOUT_FAILURES` passwords of an account within the window. The
    deliberately slow argon2 verification then runs outside any transaction (on SQLite it would hold the
    write lock); a success removes the account's failures, the attempt's own included. A failure needs no
    further write. The verification runs on `hashing`'s own threads; a login it has no room for is refused
    before any of this (see `waxos.auth.guard`).
    """
    email = normalize_email(email)
    async with hashing.admitted():
        async with transaction(sessions) as session:
            account = await _claim_attempt(session, email, now)
        password_hash = account.password_hash if account is not None else None
        matched = await hashing.verify(password_hash, password)
    if account is None or not matched:
        raise InvalidCredentials()
    async with transaction(sessions) as session:
        await session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    return issue_access_token(account.id, account.token_generation, tokens.secret, tokens.lifetime, now)


class _Account(NamedTuple):
    id: int
    password_hash: str
    token_generation: int


async def _claim_attempt(session: AsyncSession, email: str, now: datetime) -> _Account | None:
    """Count an attempt for `email` as a failure, or raise `LoginThrottled`; the account, if any.

    Counting and inserting must not interleave between requests for one email: SQLite's BEGIN IMMEDIATE
    serializes all writers already; on PostgreSQL a transaction-scoped advisory lock per email does.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(_LOGIN_LOCK_CLASS, func.hashtext(email))))
    retry_after = await _lockout_remaining(session, email, now)
    if retry_after is not None:
        raise LoginThrottled(retry_after)
    await _prune_failures(session, now)
    session.add(LoginFailure(email=email, failed_at=now))
    account = (
        await session.execute(
            select(User.id, User.password_hash, User.token_generation).where(User.email == email)
        )
    ).one_or_none()
    return None if account is None else _Account(*account)


async def _prune_failures(session: AsyncSession, now: datetime) -> None:
    """Forget failures past the window, of any email, oldest first and a few per login.

    Failures for random emails are never cleared by a success, so without this the table grows with
    every flood. Ids grow with time: the oldest rows are the first by id, found through the primary key
    in constant time, and each login removes more than the one it adds. On PostgreSQL, rows another
    login is pruning are skipped rather than waited for (two logins would otherwise deadlock).
    """
    oldest = (
        select(LoginFailure.id)
        .order_by(LoginFailure.id)
        .limit(PRUNE_PER_LOGIN)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    await session.execute(
        delete(LoginFailure).where(
            LoginFailure.id.in_(oldest), LoginFailure.failed_at <= now - LOCKOUT_WINDOW
        )
    )


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


async def user_for_token(session: AsyncSession, token: AccessToken) -> User:
    """The user a valid token names, read from the database now: a deleted user's token stops working,
    and so does it for a user created later under the same id (another token generation)."""
    user = await session.get(User, token.user_id)
    if user is None or user.token_generation != token.generation:
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


async def delete_workspace(session: AsyncSession, workspace_id: int) -> bool:
    """Delete a workspace with its memberships, invitations, event log and channel heads; False if there
    is none."""
    workspace = await session.get(Workspace, workspace_id)
    if workspace is None:
        return False
    await erase_workspace_log(session, workspace_id)
    # Memberships and invitations go with it: their foreign keys cascade.
    await session.delete(workspace)
    return True
