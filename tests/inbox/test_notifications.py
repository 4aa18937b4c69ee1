"""Workspace notifications (admins), and announcements to every workspace (operators) in batches."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from tests.support.accounts import Api
from tests.support.inbox import EventLog, bearer
from waxos.auth.models import Workspace
from waxos.channels.names import notifications_channel
from waxos.db.engine import transaction
from waxos.inbox.access import Actor
from waxos.inbox.announcements import create_announcement, fan_out_batch
from waxos.inbox.models import Level


async def test_an_admin_notifies_the_workspace_and_members_list_and_read_it(api: Api, log: EventLog) -> None:
    world = api.world
    url = f"/api/v1/workspaces/{world.acme.id}/notifications"
    created = await api.client.post(
        url, json={"level": "warning", "code": "quota_near"}, headers=bearer(api, world.acme_admin)
    )
    assert created.status_code == 201, created.text
    notification = created.json()
    assert (notification["workspace_id"], notification["level"], notification["code"]) == (
        world.acme.id,
        "warning",
        "quota_near",
    )
    (event,) = await log.new()
    assert (event.channel, event.type, event.data) == (
        notifications_channel(world.acme.id),
        "notification.system",
        {"notification_id": notification["id"], "level": "warning", "code": "quota_near"},
    )
    agent = await api.client.post(
        url, json={"level": "info", "code": "x"}, headers=bearer(api, world.acme_agent)
    )
    assert agent.status_code == 403 and agent.json()["code"] == "admin_required"
    for bad in ({"level": "loud", "code": "x"}, {"level": "info", "code": "Not A Code"}, {"level": "info"}):
        assert (
            await api.client.post(url, json=bad, headers=bearer(api, world.acme_admin))
        ).status_code == 422
    assert await log.new() == []
    listed = (await api.client.get(url, headers=bearer(api, world.acme_agent))).json()
    assert [n["id"] for n in listed["items"]] == [notification["id"]]
    read = await api.client.get(
        f"/api/v1/notifications/{notification['id']}", headers=bearer(api, world.acme_agent)
    )
    assert read.json() == notification
    other = await api.client.get(
        f"/api/v1/notifications/{notification['id']}", headers=bearer(api, world.globex_admin)
    )
    assert other.status_code == 404


async def test_an_operator_announces_to_every_workspace_without_waiting_for_the_fan_out(
    api: Api, log: EventLog
) -> None:
    world = api.world
    refused = await api.client.post(
        "/api/v1/announcements",
        json={"level": "critical", "code": "outage"},
        headers=bearer(api, world.acme_admin),
    )
    assert refused.status_code == 403 and refused.json()["code"] == "operator_required"
    created = await api.client.post(
        "/api/v1/announcements",
        json={"level": "critical", "code": "outage"},
        headers=bearer(api, world.operator),
    )
    assert created.status_code == 202, created.text
    body = created.json()
    assert (body["workspaces"], body["notification"]["workspace_id"]) == (2, None)
    async with asyncio.timeout(10):
        while len(events := await log.new()) < 2:
            await asyncio.sleep(0.02)
    assert sorted(e.channel for e in events) == sorted(
        [notifications_channel(world.acme.id), notifications_channel(world.globex.id)]
    )
    assert {e.type for e in events} == {"notification.system"}
    for member in (world.acme_agent, world.globex_admin):
        seen = await api.client.get(
            f"/api/v1/notifications/{body['notification']['id']}", headers=bearer(api, member)
        )
        assert seen.status_code == 200
    assert (
        await api.client.get(
            f"/api/v1/notifications/{body['notification']['id']}", headers=bearer(api, world.loner)
        )
    ).status_code == 404


async def test_a_fan_out_goes_in_batches_that_resume_where_the_last_one_stopped(
    api: Api, log: EventLog
) -> None:
    async with transaction(api.sessions) as session:
        session.add_all(Workspace(name=f"Extra {n}") for n in range(5))
    await log.new()
    stopped = []
    async with transaction(api.sessions) as session:
        notification, count = await create_announcement(
            session,
            Actor(api.world.operator.id, api.world.operator.token_generation),
            Level.INFO,
            "release",
            lambda: stopped.append("woken"),
        )
    assert count == 7
    # The callback stood in for waking the app's worker; run the batches here, two workspaces at a time.
    finished = False
    batches = 0
    while not finished:
        async with transaction(api.sessions) as session:
            finished = await fan_out_batch(session, notification.id, batch_size=2)
        batches += 1
    events = await log.new()
    async with api.sessions() as session:
        workspace_ids = list(await session.scalars(select(Workspace.id).order_by(Workspace.id)))
    assert sorted(e.channel for e in events if e.data["notification_id"] == notification.id) == sorted(
        notifications_channel(w) for w in workspace_ids
    ), "each workspace exactly once, whichever of the app's sweep and this loop sent a batch"
    assert stopped == ["woken"]
    assert batches <= 4
