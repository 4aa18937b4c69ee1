"""The team inbox with real clients: two staff of Acme and one of Globex, each a pusher-js browser signed in
through the API and following its channels with the catch-up helper, against the local Pusher server and
the API started as `scripts/run` starts them. Every change reaches exactly the right browsers."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.inbox_stack import Browser
from tests.support.accounts import TEST_PASSWORD, World, build_world, migrated
from tests.support.environment import require_node
from tests.support.run_stack import Stack, inbox_stack
from tests.support.settings import PUSHER_KEY
from waxos.auth.models import User
from waxos.auth.service_tokens import service_token_digest
from waxos.channels.names import (
    chats_channel,
    members_channel,
    notifications_channel,
    presence_workspace_channel,
    staff_online_channel,
    user_channel,
)

pytestmark = pytest.mark.needs_node

SERVICE_TOKEN = "wxs_e2e-service-token-not-a-secret-00000000000000"


def channels_of(workspace_id: int, user: User) -> list[str]:
    return [
        chats_channel(workspace_id),
        notifications_channel(workspace_id),
        staff_online_channel(workspace_id),
        members_channel(workspace_id),
        user_channel(user.id),
    ]


def login(api: httpx.Client, user: User) -> str:
    response = api.post("/api/v1/auth/login", json={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@contextlib.contextmanager
def browser(
    node: str, stack: Stack, token: str, name: str, user: User, workspace_id: int
) -> Iterator[Browser]:
    options = {
        "key": PUSHER_KEY,
        "host": stack.pusher_host,
        "port": stack.pusher_port,
        "apiBase": stack.api,
        "token": token,
        "follow": channels_of(workspace_id, user),
        "presence": presence_workspace_channel(workspace_id),
    }
    with Browser.start(node, name, options) as started:
        yield started


def settled(b: Browser, channels: list[str], presence: str) -> bool:
    subscribed = {line["channel"] for line in b.of("subscribed")}
    caught_up = {line["channel"] for line in b.of("catchup") if line["status"] == 200}
    return bool(b.of("signed_in")) and set(channels) <= caught_up and {*channels, presence} <= subscribed


def members_of(b: Browser, channel: str) -> set[str]:
    """Who pusher-js says is in the presence channel now."""
    members: set[str] = set()
    b.collect()
    for line in (line for line in b.lines if line.get("channel") == channel):
        if line["kind"] == "subscribed":
            members = set(line["members"])
        elif line["kind"] == "member_added":
            members.add(line["user_id"])
        elif line["kind"] == "member_removed":
            members.discard(line["user_id"])
    return members


def online_of(b: Browser, channel: str) -> dict[int, bool]:
    """Who is online according to the `user.online` events applied so far."""
    state: dict[int, bool] = {}
    for kind, data in b.applied(channel):
        if kind == "user.online":
            state[data["user_id"]] = data["online"]
    return state


def count(b: Browser, channel: str, kind: str) -> int:
    return b.applied_types(channel).count(kind)


async def test_every_change_reaches_exactly_the_right_browsers(database_url: str, tmp_path: Path) -> None:
    node = require_node()
    async with migrated(database_url) as (_engine, sessions):
        world: World = await build_world(sessions)
    acme, globex = world.acme.id, world.globex.id
    a_chats, a_notes, a_online = chats_channel(acme), notifications_channel(acme), staff_online_channel(acme)
    settings = {"WAXOS_SERVICE_TOKEN_SHA256": service_token_digest(SERVICE_TOKEN)}
    with inbox_stack(database_url, tmp_path, **settings) as stack, httpx.Client(base_url=stack.api) as api:
        admin = {"Authorization": f"Bearer {login(api, world.acme_admin)}"}
        operator = {"Authorization": f"Bearer {login(api, world.operator)}"}
        tokens = {
            user.id: login(api, user) for user in (world.acme_agent, world.acme_agent2, world.globex_admin)
        }
        as_a1 = {"Authorization": f"Bearer {tokens[world.acme_agent.id]}"}

        def call(method: str, path: str, headers: dict[str, str], **body: Any) -> Any:
            response = api.request(method, path, headers=headers, json=body or None)
            assert response.status_code < 300, response.text
            return response.json() if response.content else None

        with (
            browser(node, stack, tokens[world.acme_agent.id], "A1", world.acme_agent, acme) as a1,
            browser(node, stack, tokens[world.acme_agent2.id], "A2", world.acme_agent2, acme) as a2,
            browser(node, stack, tokens[world.globex_admin.id], "B", world.globex_admin, globex) as b,
        ):
            for each, workspace_id, user in (
                (a1, acme, world.acme_agent),
                (a2, acme, world.acme_agent2),
                (b, globex, world.globex_admin),
            ):
                each.wait_for(
                    lambda x, w=workspace_id, u=user: settled(
                        x, channels_of(w, u), presence_workspace_channel(w)
                    )
                )

            # Presence: both Acme browsers are members of Acme's presence channel, and webhooks say so.
            both = {str(world.acme_agent.id), str(world.acme_agent2.id)}
            a1.wait_for(lambda x: members_of(x, presence_workspace_channel(acme)) == both)
            for each in (a1, a2):
                each.wait_for(
                    lambda x: (
                        online_of(x, a_online) == {world.acme_agent.id: True, world.acme_agent2.id: True}
                    )
                )
            b.wait_for(lambda x: online_of(x, staff_online_channel(globex)) == {world.globex_admin.id: True})

            # Globex cannot listen to Acme.
            b.send("subscribe", channel=a_chats)
            b.wait_for(lambda x: any(line["channel"] == a_chats for line in x.of("subscription_error")))
            assert b.of("subscription_error", a_chats)[0]["status"] == 403

            chat = call(
                "POST",
                f"/api/v1/workspaces/{acme}/chats",
                admin,
                customer={"name": "Cleo", "handle": "+1555"},
            )
            message = call(
                "POST", f"/api/v1/chats/{chat['id']}/messages", as_a1, body="Hello Cleo", direction="outbound"
            )
            call("PATCH", f"/api/v1/messages/{message['id']}", admin, status="delivered")
            call("PUT", f"/api/v1/chats/{chat['id']}/assignee", admin, user_id=world.acme_agent2.id)
            suggestion = call(
                "POST",
                f"/api/v1/chats/{chat['id']}/suggestions",
                {"Authorization": f"Bearer {SERVICE_TOKEN}"},
                body="Anything else?",
            )
            call("POST", f"/api/v1/workspaces/{acme}/notifications", admin, level="info", code="welcome")
            call("POST", "/api/v1/announcements", operator, level="warning", code="maintenance")

            expected_chats = ["chat.new", "message.new", "message.status", "chat.assigned"]
            for each in (a1, a2):
                each.wait_for(lambda x: x.applied_types(a_chats) == expected_chats)
                each.wait_for(
                    lambda x: x.applied_types(a_notes) == ["notification.system", "notification.system"]
                )
            a2.wait_for(
                lambda x: (
                    x.applied_types(user_channel(world.acme_agent2.id))
                    == ["chat.assigned", "ai.suggestion_ready"]
                )
            )
            assert a2.applied(user_channel(world.acme_agent2.id))[1][1]["suggestion_id"] == suggestion["id"]
            b.wait_for(lambda x: x.applied_types(notifications_channel(globex)) == ["notification.system"])
            # Each live event reached each browser once; nothing of Acme's reached Globex.
            for each in (a1, a2):
                assert [line["type"] for line in each.of("live", a_chats)] == expected_chats
            assert a1.applied(user_channel(world.acme_agent.id)) == []
            assert b.applied(chats_channel(globex)) == [] and not b.of("live", a_chats)

            # A2 drops: webhooks take A2 offline; what happens meanwhile is filled in by catch-up on return.
            a2.send("disconnect")
            a1.wait_for(lambda x: online_of(x, a_online).get(world.acme_agent2.id) is False)
            missed = [
                call(
                    "POST",
                    f"/api/v1/chats/{chat['id']}/messages",
                    admin,
                    body=f"while away {n}",
                    direction="outbound",
                )
                for n in range(3)
            ]
            a1.wait_for(lambda x: count(x, a_chats, "message.new") == 4)
            a2.send("connect")
            a2.wait_for(lambda x: count(x, a_chats, "message.new") == 4)
            assert [data["message_id"] for kind, data in a2.applied(a_chats) if kind == "message.new"][
                1:
            ] == [m["id"] for m in missed]
            gap = [line for line in a2.of("catchup", a_chats) if line["seqs"]][-1]
            assert gap["seqs"] == [5, 6, 7], gap
            a1.wait_for(lambda x: online_of(x, a_online).get(world.acme_agent2.id) is True)

            # Not echoed to the sender: A1's own request is not sent live to A1's socket; the next event
            # shows A1 the gap and catch-up fills it in.
            messages_url = f"/api/v1/chats/{chat['id']}/messages"
            socket = {**as_a1, "X-Socket-ID": a1.of("connected")[-1]["socket_id"]}
            own = call("POST", messages_url, socket, body="sent by A1", direction="outbound")
            a2.wait_for(lambda x: count(x, a_chats, "message.new") == 5)
            call("POST", messages_url, admin, body="next", direction="outbound")
            a1.wait_for(lambda x: count(x, a_chats, "message.new") == 6)
            a2.wait_for(lambda x: count(x, a_chats, "message.new") == 6)
            assert own["id"] in [
                data["message_id"] for kind, data in a1.applied(a_chats) if kind == "message.new"
            ]
            live_a1 = [line["seq"] for line in a1.of("live", a_chats)]
            live_a2 = [line["seq"] for line in a2.of("live", a_chats)]
            assert 8 in live_a2 and 8 not in live_a1, (live_a1, live_a2)

            for each in (a1, a2, b):
                assert each.of("follow_error") == [] and each.of("resync") == [], each.lines

            # Access ends with membership: A2 is removed, told why, disconnected within seconds, and
            # cannot come back to Acme's channels.
            states_before = len(a2.of("state"))
            live_before = len(a2.of("live", a_chats))
            removed_at = time.monotonic()
            call("DELETE", f"/api/v1/workspaces/{acme}/members/{world.acme_agent2.id}", admin)
            a2.wait_for(
                lambda x: "disconnected" in [line["current"] for line in x.of("state")[states_before:]]
            )
            disconnected_after = time.monotonic() - removed_at
            assert disconnected_after < 10, disconnected_after
            a2_own = user_channel(world.acme_agent2.id)
            assert "member.removed" in a2.applied_types(a2_own) + [
                line["type"] for line in a2.of("live", a2_own)
            ]
            a1.wait_for(lambda x: online_of(x, a_online).get(world.acme_agent2.id) is False)
            a1.wait_for(lambda x: "member.removed" in x.applied_types(members_channel(acme)))
            later = call("POST", messages_url, admin, body="after the removal", direction="outbound")
            a1.wait_for(lambda x: count(x, a_chats, "message.new") == 7)
            errors_before = len(a2.of("subscription_error", a_chats))
            a2.send("connect")
            a2.wait_for(lambda x: len(x.of("subscription_error", a_chats)) > errors_before)
            assert a2.of("subscription_error", a_chats)[-1]["status"] == 403
            a2.wait_for(lambda x: bool(x.of("signed_in")) and len(x.of("state")) > states_before + 1)
            seen_by_a2 = [data.get("message_id") for _, data in a2.applied(a_chats)]
            assert later["id"] not in seen_by_a2
            # The removal's own event (A2's chat unassigned) came before the disconnect; nothing after.
            assert {line["type"] for line in a2.of("live", a_chats)[live_before:]} <= {"chat.unassigned"}
