"""The channel policy: each rule, decided purely and then with the membership read from the database."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from tests.support.accounts import build_world, migrated
from waxos.auth.models import Membership, Role, User
from waxos.channels.names import waxos_channel
from waxos.channels.policy import (
    NOT_A_MEMBER,
    NOT_YOUR_USER_CHANNEL,
    PUBLIC_CHANNEL,
    UNKNOWN_CHANNEL,
    Allowed,
    Denied,
    authorize_channel,
    decide,
)
from waxos.db.engine import transaction

USER = User(id=7, email="u@x.test", name="Una User", password_hash="unused")


@pytest.mark.parametrize(
    ("channel", "role", "expected"),
    [
        ("private-workspace-3.chats", Role.AGENT, None),
        ("private-workspace-3.chats", None, NOT_A_MEMBER),
        ("private-encrypted-workspace-3.chats", Role.ADMIN, None),
        ("private-encrypted-workspace-3.chats", None, NOT_A_MEMBER),
        ("presence-workspace-3", Role.AGENT, None),
        ("presence-workspace-3", None, NOT_A_MEMBER),
        ("private-user-7", None, None),
        ("private-user-8", Role.ADMIN, NOT_YOUR_USER_CHANNEL),
        ("workspace-3.chats", Role.ADMIN, PUBLIC_CHANNEL),
        ("public-anything", Role.ADMIN, PUBLIC_CHANNEL),
        ("private-workspace-3", Role.ADMIN, UNKNOWN_CHANNEL),
        ("presence-workspace-3.chats", Role.ADMIN, UNKNOWN_CHANNEL),
        ("presence-user-7", Role.ADMIN, UNKNOWN_CHANNEL),
        ("private-encrypted-user-7", Role.ADMIN, UNKNOWN_CHANNEL),
        ("private-workspace-03.chats", Role.ADMIN, UNKNOWN_CHANNEL),
        ("private-workspace-3.Chats", Role.ADMIN, UNKNOWN_CHANNEL),
        ("private-something-else", Role.ADMIN, UNKNOWN_CHANNEL),
    ],
)
def test_decide(channel: str, role: Role | None, expected: str | None) -> None:
    decision = decide(USER, waxos_channel(channel), role)
    if expected is None:
        assert isinstance(decision, Allowed), decision
    else:
        assert decision == Denied(waxos_channel(channel), expected)


def test_presence_member_data_comes_from_the_user_record() -> None:
    decision = decide(USER, waxos_channel("presence-workspace-3"), Role.ADMIN)
    assert isinstance(decision, Allowed)
    assert decision.presence == {"user_id": "7", "user_info": {"name": "Una User", "role": "admin"}}
    private = decide(USER, waxos_channel("private-workspace-3.chats"), Role.ADMIN)
    assert isinstance(private, Allowed)
    assert private.presence is None


async def test_removing_a_membership_denies_at_once(database_url: str) -> None:
    async with migrated(database_url) as (_engine, sessions):
        world = await build_world(sessions)
        channel = f"presence-workspace-{world.acme.id}"
        async with transaction(sessions) as session:
            allowed = await authorize_channel(session, world.acme_agent, channel)
            other = await authorize_channel(session, world.globex_admin, channel)
        async with transaction(sessions) as session:
            await session.execute(
                delete(Membership).where(
                    Membership.user_id == world.acme_agent.id, Membership.workspace_id == world.acme.id
                )
            )
        async with transaction(sessions) as session:
            removed = await authorize_channel(session, world.acme_agent, channel)
    assert isinstance(allowed, Allowed)
    assert allowed.presence == {
        "user_id": str(world.acme_agent.id),
        "user_info": {"name": "Alan Agent", "role": "agent"},
    }
    assert isinstance(other, Denied)
    assert other.reason == NOT_A_MEMBER
    assert isinstance(removed, Denied)
    assert removed.reason == NOT_A_MEMBER
