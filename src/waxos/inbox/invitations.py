"""Invitations: an admin offers a workspace membership to an email address; only that account accepts.

Nothing about the invitee reaches the inviting workspace: inviting answers the same whether an account has
the email or not, and nothing is sent on the invitee's channels until they accept (then `member.added`, as
an added member always got). The invitee, matched by their account's email (stored lower-cased, as login
compares it), lists, accepts or declines; to anyone else an invitation answers exactly like a missing id.
An expired invitation is refused with `Gone` to its invitee; the workspace's admins list and revoke.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from waxos.auth.errors import NotAuthenticated
from waxos.auth.models import Invitation, Membership, Role, User, Workspace
from waxos.auth.service import normalize_email
from waxos.db.base import utcnow
from waxos.inbox import members
from waxos.inbox.access import USER_GONE, Actor, member_of
from waxos.inbox.errors import Conflict, Gone, NotFound
from waxos.inbox.pages import decode_cursor, encode_cursor

INVITATION_TTL = timedelta(days=7)
"""How long an invitation can be accepted; inviting the same email again renews it."""


def is_expired(invitation: Invitation, now: datetime | None = None) -> bool:
    """True once the invitation can no longer be accepted."""
    return invitation.expires_at <= (now or utcnow())


async def invite(
    session: AsyncSession, actor: Actor, workspace_id: int, email: str, role: Role
) -> Invitation:
    """Invite `email` with `role` (admins only); the same email again renews the pending invitation.

    `Conflict` if the email is a member's already (the caller can list the members: it tells them nothing
    new); otherwise the outcome is the same whether an account has the email or not.
    """
    member = await member_of(session, actor, workspace_id)
    member.require_admin("invite members")
    address = normalize_email(email)
    # Invitations of one workspace are written one at a time, so the same email twice makes one row; the
    # invitation is locked before membership is read, so an acceptance in flight is seen as a membership.
    await session.execute(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update())
    invitation = await session.scalar(
        select(Invitation)
        .where(Invitation.workspace_id == workspace_id, Invitation.email == address)
        .with_for_update()
    )
    already = await session.scalar(
        select(Membership.user_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace_id, User.email == address)
    )
    if already is not None:
        raise Conflict("already_a_member", "this email belongs to a member of the workspace")
    now = utcnow()
    if invitation is None:
        invitation = Invitation(workspace_id=workspace_id, email=address)
        session.add(invitation)
    invitation.role = role
    invitation.invited_by_id = actor.user_id
    invitation.created_at = now
    invitation.expires_at = now + INVITATION_TTL
    await session.flush()
    return invitation


async def list_for_workspace(
    session: AsyncSession, actor: Actor, workspace_id: int, cursor: str | None, limit: int
) -> tuple[list[Invitation], str | None]:
    """A page of the workspace's invitations, expired ones included, by id (admins only)."""
    member = await member_of(session, actor, workspace_id)
    member.require_admin("list invitations")
    statement = select(Invitation).where(Invitation.workspace_id == workspace_id)
    after = decode_cursor(cursor)
    if after is not None:
        statement = statement.where(Invitation.id > after)
    rows = list(await session.scalars(statement.order_by(Invitation.id).limit(limit + 1)))
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1].id)
    return rows, None


async def revoke(session: AsyncSession, actor: Actor, workspace_id: int, invitation_id: int) -> None:
    """Withdraw a pending invitation (admins only); nothing is sent to anyone."""
    member = await member_of(session, actor, workspace_id)
    member.require_admin("revoke invitations")
    deleted = await session.execute(
        delete(Invitation)
        .where(Invitation.id == invitation_id, Invitation.workspace_id == workspace_id)
        .returning(Invitation.id)
    )
    if deleted.first() is None:
        raise NotFound("invitation")


async def _invitee(session: AsyncSession, actor: Actor) -> User:
    user = await session.get(User, actor.user_id)
    if user is None or user.token_generation != actor.generation:
        raise NotAuthenticated(USER_GONE)
    return user


async def list_mine(session: AsyncSession, actor: Actor) -> list[tuple[Invitation, Workspace, User]]:
    """The caller's pending invitations, newest first, with their workspace and who invited."""
    user = await _invitee(session, actor)
    inviter = aliased(User)
    rows = await session.execute(
        select(Invitation, Workspace, inviter)
        .join(Workspace, Workspace.id == Invitation.workspace_id)
        .join(inviter, inviter.id == Invitation.invited_by_id)
        .where(Invitation.email == user.email, Invitation.expires_at > utcnow())
        .order_by(Invitation.id.desc())
    )
    return [(i, w, u) for i, w, u in rows]


async def _mine(session: AsyncSession, actor: Actor, invitation_id: int) -> Invitation:
    """The caller's invitation, locked; `NotFound` for anyone else's, exactly as for a missing id."""
    user = await _invitee(session, actor)
    invitation = await session.scalar(
        select(Invitation)
        .where(Invitation.id == invitation_id, Invitation.email == user.email)
        .with_for_update()
    )
    if invitation is None:
        raise NotFound("invitation")
    return invitation


async def accept(session: AsyncSession, actor: Actor, invitation_id: int) -> tuple[Membership, Workspace]:
    """Join the workspace: the membership and `member.added` (as `members.enrol` does), the invitation
    gone. `Gone` if it expired; already a member (added some other way): the membership as it is."""
    invitation = await _mine(session, actor, invitation_id)
    if is_expired(invitation):
        raise Gone("invitation_expired", "this invitation has expired; ask for a new one")
    workspace = await session.get_one(Workspace, invitation.workspace_id)
    await session.delete(invitation)
    membership = await session.get(Membership, (actor.user_id, invitation.workspace_id))
    if membership is None:
        membership = await members.enrol(
            session,
            invitation.workspace_id,
            actor.user_id,
            invitation.role,
            invitation.invited_by_id,
            actor.socket_id,
        )
    return membership, workspace


async def decline(session: AsyncSession, actor: Actor, invitation_id: int) -> None:
    """Refuse (or dismiss an expired) invitation: it is gone; the workspace is not told."""
    await session.delete(await _mine(session, actor, invitation_id))
    await session.flush()
