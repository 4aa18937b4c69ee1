"""Members: who belongs to a workspace, with which role; enrolling, re-roling, removing, deleting a user.

Nobody is made a member without their consent: an admin invites an email address and the account
accepts (`waxos.inbox.invitations`), which calls `enrol` here. So only an account that accepted can be
removed, and have its live connections closed by the removal; a pending invitation is revoked silently.

Access ends with membership (decision D8): the channel policy reads membership on every authorization,
so a removed member is refused new subscriptions the moment this transaction commits, and the relay closes
their live connections (Pusher's terminate-user-connections, requested through the log in the same
transaction). Their chats in the workspace are unassigned, and `member.removed` goes to the workspace and
to the user's own channel.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.auth.models import Invitation, Membership, Role, User
from waxos.channels.names import chats_channel, members_channel, user_channel
from waxos.db.base import utcnow
from waxos.events import ChatUnassigned, MemberAdded, MemberRemoved, MemberRoleChanged
from waxos.events.terminations import terminate_connections
from waxos.inbox.access import Actor, member_of
from waxos.inbox.announcements import require_operator
from waxos.inbox.errors import Conflict, NotFound
from waxos.inbox.models import Chat
from waxos.inbox.outbox import Outbox
from waxos.inbox.pages import decode_cursor, encode_cursor


async def list_members(
    session: AsyncSession, actor: Actor, workspace_id: int, cursor: str | None, limit: int
) -> tuple[list[tuple[Membership, User]], str | None]:
    """A page of the workspace's members by user id, and the next page's cursor."""
    await member_of(session, actor, workspace_id)
    statement = (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace_id)
    )
    after = decode_cursor(cursor)
    if after is not None:
        statement = statement.where(Membership.user_id > after)
    rows = [(m, u) for m, u in await session.execute(statement.order_by(Membership.user_id).limit(limit + 1))]
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1][0].user_id)
    return rows, None


async def enrol(
    session: AsyncSession,
    workspace_id: int,
    user_id: int,
    role: Role,
    added_by_id: int | None,
    socket_id: str | None,
) -> Membership:
    """Make the user a member (an accepted invitation, `waxos.inbox.invitations`): the membership and
    `member.added` to the workspace and to the user, in the caller's transaction."""
    membership = Membership(user_id=user_id, workspace_id=workspace_id, role=role, created_at=utcnow())
    session.add(membership)
    await session.flush()
    outbox = Outbox(socket_id)
    outbox.add(
        [members_channel(workspace_id), user_channel(user_id)],
        MemberAdded(user_id=user_id, role=role.value, added_by_id=added_by_id),
    )
    await outbox.emit(session)
    return membership


async def _target(session: AsyncSession, workspace_id: int, user_id: int) -> Membership:
    """The membership being changed, locked; with every admin of the workspace locked too, in user order,
    so two admins demoting or removing each other at once cannot leave the workspace without one."""
    await session.execute(
        select(Membership.user_id)
        .where(Membership.workspace_id == workspace_id, Membership.role == Role.ADMIN)
        .order_by(Membership.user_id)
        .with_for_update()
    )
    target = await session.get(Membership, (user_id, workspace_id), with_for_update=True)
    if target is None:
        raise NotFound("member")
    return target


async def _check_not_last_admin(session: AsyncSession, target: Membership) -> None:
    if target.role is not Role.ADMIN:
        return
    admins = await session.scalars(
        select(Membership.user_id).where(
            Membership.workspace_id == target.workspace_id, Membership.role == Role.ADMIN
        )
    )
    if len(list(admins)) <= 1:
        raise Conflict("last_admin", "a workspace keeps at least one admin; make another member admin first")


async def change_role(
    session: AsyncSession, actor: Actor, workspace_id: int, user_id: int, role: Role
) -> tuple[Membership, User]:
    """Change a member's role (admins only); `member.role_changed` to the workspace and to the user."""
    member = await member_of(session, actor, workspace_id)
    member.require_admin("change roles")
    target = await _target(session, workspace_id, user_id)
    user = await session.get_one(User, user_id)
    if target.role is role:
        return target, user
    await _check_not_last_admin(session, target)
    previous = target.role
    target.role = role
    outbox = Outbox(actor.socket_id)
    outbox.add(
        [members_channel(workspace_id), user_channel(user_id)],
        MemberRoleChanged(
            user_id=user_id, role=role.value, previous_role=previous.value, changed_by_id=actor.user_id
        ),
    )
    await session.flush()
    await outbox.emit(session)
    return target, user


async def remove_member(session: AsyncSession, actor: Actor, workspace_id: int, user_id: int) -> None:
    """Remove a member: an admin removes anyone, a member removes themselves (leaves)."""
    member = await member_of(session, actor, workspace_id)
    if user_id != actor.user_id:
        member.require_admin("remove other members")
    target = await _target(session, workspace_id, user_id)
    await _check_not_last_admin(session, target)
    outbox = Outbox(actor.socket_id)
    await _end_membership(session, target, actor.user_id, outbox)
    await session.flush()
    await outbox.emit(session)


async def delete_user(session: AsyncSession, actor: Actor, user_id: int) -> None:
    """Delete a user account (platform operators only): every membership ends as a removal does, and
    the invitations to their email go too (those they sent go with the account: foreign key cascade)."""
    await require_operator(session, actor)
    if user_id == actor.user_id:
        raise Conflict("cannot_delete_self", "an operator cannot delete their own account")
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("user")
    outbox = Outbox(actor.socket_id)
    memberships = await session.scalars(
        select(Membership).where(Membership.user_id == user_id).order_by(Membership.workspace_id)
    )
    for membership in list(memberships):
        await _end_membership(session, membership, None, outbox)
    await terminate_connections(session, user_id)
    await session.execute(delete(Invitation).where(Invitation.email == user.email))
    await session.delete(user)
    await session.flush()
    await outbox.emit(session)


async def _end_membership(
    session: AsyncSession, membership: Membership, removed_by: int | None, outbox: Outbox
) -> None:
    """Delete the membership, unassign the user's chats in that workspace, and queue the events."""
    workspace_id, user_id = membership.workspace_id, membership.user_id
    chats = await session.scalars(
        select(Chat)
        .where(Chat.workspace_id == workspace_id, Chat.assignee_id == user_id)
        .order_by(Chat.id)
        .with_for_update()
    )
    now = utcnow()
    for chat in chats:
        chat.assignee_id = None
        chat.updated_at = now
        outbox.add(
            [chats_channel(workspace_id), user_channel(user_id)],
            ChatUnassigned(chat_id=chat.id, previous_assignee_id=user_id, unassigned_by_id=removed_by),
        )
    await session.delete(membership)
    outbox.add(
        [members_channel(workspace_id), user_channel(user_id)],
        MemberRemoved(user_id=user_id, removed_by_id=removed_by),
    )
    # Their connections are subscribed to the workspace's channels already: Pusher must close them. All
    # of them, other workspaces' too (Pusher terminates per user); the client signs in and resubscribes
    # to what it may still follow, and `member.removed` on its own channel says why.
    await terminate_connections(session, user_id)
