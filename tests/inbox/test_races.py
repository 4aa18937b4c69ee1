"""Inbox changes racing each other on PostgreSQL (SQLite's write transactions never overlap)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from tests.inbox.helpers import open_chat
from tests.support.accounts import running_api
from waxos.auth.models import Invitation, Membership, Role
from waxos.db.engine import transaction
from waxos.inbox import chats, invitations, members
from waxos.inbox.access import Actor
from waxos.inbox.errors import Conflict
from waxos.inbox.models import Chat


async def test_removing_a_member_while_a_chat_is_assigned_to_them_leaves_it_unassigned(
    postgres_database_url: str,
) -> None:
    """The assignment is uncommitted when the removal starts: the removal waits for it, then unassigns
    the chat. Never a chat assigned to someone who is no longer a member."""
    async with running_api(postgres_database_url) as api:
        world = api.world
        chat = await open_chat(api)
        admin = Actor(world.acme_admin.id, world.acme_admin.token_generation)
        leaving = world.acme_agent2.id

        async def remove() -> None:
            async with transaction(api.sessions) as session:
                await members.remove_member(session, admin, world.acme.id, leaving)

        async with transaction(api.sessions) as session:
            await chats.assign(session, admin, int(chat["id"]), leaving)
            removal = asyncio.create_task(remove())
            await asyncio.sleep(0.5)
            assert not removal.done(), "the removal must wait for the assignment's transaction"
        await removal
        async with api.sessions() as session:
            assignee = await session.scalar(select(Chat.assignee_id).where(Chat.id == chat["id"]))
            membership = await session.get(Membership, (leaving, world.acme.id))
    assert membership is None
    assert assignee is None


async def test_the_same_email_invited_twice_at_once_makes_one_invitation(postgres_database_url: str) -> None:
    """The second invitation waits for the first (the workspace row is locked), then renews its row."""
    async with running_api(postgres_database_url) as api:
        world = api.world
        admin = Actor(world.acme_admin.id, world.acme_admin.token_generation)

        async def again() -> int:
            async with transaction(api.sessions) as session:
                return (await invitations.invite(session, admin, world.acme.id, "x@y.test", Role.AGENT)).id

        async with transaction(api.sessions) as session:
            first = await invitations.invite(session, admin, world.acme.id, "X@y.test", Role.AGENT)
            second = asyncio.create_task(again())
            await asyncio.sleep(0.5)
            assert not second.done(), "the second invitation must wait for the first"
        assert await second == first.id
        async with api.sessions() as session:
            assert len(list(await session.scalars(select(Invitation)))) == 1


async def test_inviting_while_the_invitation_is_being_accepted_says_already_a_member(
    postgres_database_url: str,
) -> None:
    """The acceptance holds the invitation; the invitation waits, then sees the membership: 409."""
    async with running_api(postgres_database_url) as api:
        world = api.world
        admin = Actor(world.acme_admin.id, world.acme_admin.token_generation)
        loner = Actor(world.loner.id, world.loner.token_generation)
        async with transaction(api.sessions) as session:
            invitation = await invitations.invite(
                session, admin, world.acme.id, "loner@nowhere.test", Role.AGENT
            )

        async def again() -> None:
            async with transaction(api.sessions) as session:
                await invitations.invite(session, admin, world.acme.id, "loner@nowhere.test", Role.ADMIN)

        async with transaction(api.sessions) as session:
            await invitations.accept(session, loner, invitation.id)
            renewal = asyncio.create_task(again())
            await asyncio.sleep(0.5)
            assert not renewal.done(), "the invitation must wait for the acceptance"
        with pytest.raises(Conflict):
            await renewal
        async with api.sessions() as session:
            assert list(await session.scalars(select(Invitation))) == []
            membership = await session.get_one(Membership, (world.loner.id, world.acme.id))
    assert membership.role is Role.AGENT
