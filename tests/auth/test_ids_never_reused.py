"""Ids are never reused: a deleted user's token, or a deleted workspace's history, passes to nobody.

On SQLite the next id was the largest in use plus one, so deleting the newest user handed their id, and
with it their still-valid tokens, to the next account; deleting the newest workspace handed its channel
names and event history to the next one. Both databases must refuse that, whatever the ids.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import delete, func, select

from tests.support.accounts import Api, build_world, migrated, running_api
from tests.support.events import emit_messages
from waxos.auth.models import Membership, User
from waxos.auth.service import delete_workspace
from waxos.cli.main import main
from waxos.db.engine import transaction
from waxos.events.tables import ChannelHead, LoggedEvent

SOCKET_ID = "123.456"


async def _authorized(api: Api, token: str, channel: str) -> tuple[int, int, int, int]:
    """Statuses of /me, a channel authorization, a sign-in and an inbox read with `token`."""
    headers = {"Authorization": f"Bearer {token}"}
    me = await api.client.get("/api/v1/me", headers=headers)
    auth = await api.client.post(
        "/api/v1/pusher/auth", data={"socket_id": SOCKET_ID, "channel_name": channel}, headers=headers
    )
    signin = await api.client.post("/api/v1/pusher/user-auth", data={"socket_id": SOCKET_ID}, headers=headers)
    chats = await api.client.get(f"/api/v1/workspaces/{api.world.acme.id}/chats", headers=headers)
    return me.status_code, auth.status_code, signin.status_code, chats.status_code


async def _new_user(api: Api, email: str, user_id: int | None = None) -> User:
    async with transaction(api.sessions) as session:
        user = User(id=user_id, email=email, name="New User", password_hash="unused")
        session.add(user)
        await session.flush()
        workspace_id = api.world.acme.id
        session.add(Membership(user_id=user.id, workspace_id=workspace_id, role="agent"))
    return user


async def test_the_next_account_never_gets_a_deleted_users_id(database_url: str) -> None:
    async with running_api(database_url) as api:
        newest = await _new_user(api, "newest@acme.test")
        token = api.world.token(newest)
        channel = f"private-user-{newest.id}"
        assert await _authorized(api, token, channel) == (200, 200, 200, 200)
        async with transaction(api.sessions) as session:
            await session.execute(delete(User).where(User.id == newest.id))
        following = await _new_user(api, "following@acme.test")
        assert following.id > newest.id
        assert await _authorized(api, token, channel) == (401, 401, 401, 401)


async def test_a_token_does_not_pass_to_another_user_given_the_same_id(database_url: str) -> None:
    # Ids freed before the migration that made them never reused could still be handed out once; the
    # token generation tells the two users apart all the same.
    async with running_api(database_url) as api:
        agent = api.world.acme_agent
        token = api.world.token(agent)
        async with transaction(api.sessions) as session:
            await session.execute(delete(User).where(User.id == agent.id))
        impostor = await _new_user(api, "impostor@acme.test", user_id=agent.id)
        assert impostor.token_generation != agent.token_generation
        channel = f"private-user-{agent.id}"
        assert await _authorized(api, token, channel) == (401, 401, 401, 401)
        assert await _authorized(api, api.world.token(impostor), channel) == (200, 200, 200, 200)


async def _log_of(api: Api) -> tuple[set[str], set[str]]:
    async with transaction(api.sessions) as session:
        events = set(await session.scalars(select(LoggedEvent.channel).distinct()))
        heads = set(await session.scalars(select(ChannelHead.channel)))
    return events, heads


async def test_deleting_a_workspace_deletes_its_event_log_and_heads(database_url: str) -> None:
    async with running_api(database_url) as api:
        acme, globex = api.world.acme.id, api.world.globex.id
        gone = {f"private-workspace-{acme}.chats", f"private-encrypted-workspace-{acme}.chats"}
        # Another workspace, a workspace whose id starts with Acme's, and a user's channel stay.
        kept = {
            f"private-workspace-{globex}.chats",
            f"private-workspace-{acme}0.chats",
            f"private-user-{api.world.acme_agent.id}",
        }
        for channel in gone | kept:
            await emit_messages(api.sessions, channel, 3)
        async with transaction(api.sessions) as session:
            assert await delete_workspace(session, acme)
            assert not await delete_workspace(session, 999_999)
        assert await _log_of(api) == (kept, kept)
        async with transaction(api.sessions) as session:
            members = await session.scalar(
                select(func.count()).select_from(Membership).where(Membership.workspace_id == acme)
            )
        assert members == 0


def test_delete_workspace_command(tmp_path: Path, database_url: str) -> None:
    async def prepare() -> int:
        async with migrated(database_url) as (_engine, sessions):
            world = await build_world(sessions)
            await emit_messages(sessions, f"private-workspace-{world.acme.id}.chats", 2)
            return world.acme.id

    async def channels() -> set[str]:
        async with migrated(database_url) as (_engine, sessions), transaction(sessions) as session:
            return set(await session.scalars(select(ChannelHead.channel)))

    acme = asyncio.run(prepare())
    env_file = tmp_path / "cli.env"
    env_file.write_text(
        f"DATABASE_URL={database_url}\nPUSHER_APP_ID=100001\nPUSHER_KEY=k\nPUSHER_SECRET=s\n"
        "PUSHER_CLUSTER=local\n"
    )
    base = ["--env-file", str(env_file), "delete-workspace", str(acme)]
    unconfirmed = CliRunner().invoke(main, base)
    assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.output
    assert asyncio.run(channels()) == {f"private-workspace-{acme}.chats"}
    done = CliRunner().invoke(main, [*base, "--yes"])
    assert done.exit_code == 0, done.output
    assert asyncio.run(channels()) == set()
    missing = CliRunner().invoke(main, [*base, "--yes"])
    assert missing.exit_code == 1 and f"no workspace {acme}" in missing.output
