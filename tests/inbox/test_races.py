"""Inbox changes racing each other on PostgreSQL (SQLite's write transactions never overlap)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from tests.inbox.helpers import open_chat
from tests.support.accounts import running_api
from waxos.auth.models import Membership
from waxos.db.engine import transaction
from waxos.inbox import chats, members
from waxos.inbox.access import Actor
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
