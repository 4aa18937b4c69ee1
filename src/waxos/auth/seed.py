"""Demo accounts for development: two workspaces, Acme and Globex, with an admin and agents, and a
platform operator who belongs to no workspace."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.auth.models import Membership, Role, User, Workspace
from waxos.auth.passwords import DEFAULT_HASHER, hash_password, verify_password

DEFAULT_DEMO_PASSWORD = "waxos-demo-password"  # noqa: S105  (development only; production refuses seeding)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """One demo login: who, where, and with which role."""

    workspace: str
    email: str
    name: str
    role: Role


DEMO_ACCOUNTS = (
    DemoAccount("Acme", "admin@acme.test", "Ada Admin", Role.ADMIN),
    DemoAccount("Acme", "agent@acme.test", "Alan Agent", Role.AGENT),
    DemoAccount("Acme", "agent2@acme.test", "Grace Agent", Role.AGENT),
    DemoAccount("Globex", "admin@globex.test", "Gil Globex", Role.ADMIN),
)
# Runs the platform (announcements, operator pages); a member of no workspace.
DEMO_OPERATOR = DemoAccount("", "operator@waxos.test", "Olga Operator", Role.AGENT)


async def seed_demo(
    session: AsyncSession, password: str, hasher: PasswordHasher = DEFAULT_HASHER
) -> tuple[DemoAccount, ...]:
    """Create whatever of the demo accounts is missing; running it again changes nothing.

    An existing demo user whose password differs from `password` gets `password`, so the logins the
    command prints always work.
    """
    workspaces: dict[str, Workspace] = {}
    for account in DEMO_ACCOUNTS:
        workspace = workspaces.get(account.workspace)
        if workspace is None:
            workspace = await _workspace(session, account.workspace)
            workspaces[account.workspace] = workspace
        user = await _user(session, account, password, hasher)
        membership = await session.get(Membership, (user.id, workspace.id))
        if membership is None:
            session.add(Membership(user_id=user.id, workspace_id=workspace.id, role=account.role))
        else:
            membership.role = account.role
    operator = await _user(session, DEMO_OPERATOR, password, hasher)
    operator.is_operator = True
    await session.flush()
    return DEMO_ACCOUNTS


async def _workspace(session: AsyncSession, name: str) -> Workspace:
    workspace = await session.scalar(
        select(Workspace).where(Workspace.name == name).order_by(Workspace.id).limit(1)
    )
    if workspace is None:
        workspace = Workspace(name=name)
        session.add(workspace)
        await session.flush()
    return workspace


async def _user(session: AsyncSession, account: DemoAccount, password: str, hasher: PasswordHasher) -> User:
    user = await session.scalar(select(User).where(User.email == account.email))
    if user is None:
        user = User(email=account.email, name=account.name, password_hash=hash_password(password, hasher))
        session.add(user)
        await session.flush()
    elif not verify_password(user.password_hash, password):
        user.password_hash = hash_password(password, hasher)
    return user
