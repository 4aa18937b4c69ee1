"""The webhook receiver through HTTP: verification, idempotence, presence, occupancy and live counts."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.support.accounts import Api, running_api
from tests.support.failover_drill import SECONDARY_APP_ID, SECONDARY_KEY, SECONDARY_SECRET
from tests.support.inbox import EventLog
from tests.support.settings import PUSHER_KEY, PUSHER_SECRET
from waxos.auth.models import Membership, Role
from waxos.channels.names import chats_channel, presence_workspace_channel, staff_online_channel
from waxos.db.engine import transaction
from waxos.pusher_protocol.signing import sign_webhook
from waxos.pusher_protocol.webhooks import build_webhook
from waxos.usage.rollup import LiveCounts
from waxos.webhooks.tables import StaffPresence
from waxos.webhooks.usage import workspace_live_counts

URL = "/api/v1/pusher/webhooks"


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url) as api:
        yield api


@pytest.fixture
def log(api: Api) -> EventLog:
    return EventLog(api.sessions)


def now_ms() -> int:
    return int(time.time() * 1000)


async def post(
    api: Api,
    events: list[dict[str, Any]],
    time_ms: int | None = None,
    secret: str = PUSHER_SECRET,
    key: str = PUSHER_KEY,
) -> Any:
    request = build_webhook(events, key=key, secret=secret, time_ms=now_ms() if time_ms is None else time_ms)
    return await api.client.post(URL, content=request.body, headers=request.headers)


def member(name: str, workspace_id: int, user_id: int) -> dict[str, Any]:
    return {"name": name, "channel": presence_workspace_channel(workspace_id), "user_id": str(user_id)}


async def metric(api: Api, kind: str, verdict: str) -> float:
    text = (await api.client.get("/metrics")).text
    found = re.search(
        rf'waxos_webhook_deliveries_total{{kind="{re.escape(kind)}",verdict="{verdict}"}} (\S+)', text
    )
    return float(found.group(1)) if found else 0.0


async def test_member_events_drive_user_online_once_per_change_and_late_retries_change_nothing(
    api: Api, log: EventLog
) -> None:
    world = api.world
    acme, agent = world.acme.id, world.acme_agent.id
    t0 = now_ms()
    added = await post(api, [member("member_added", acme, agent)], t0)
    assert added.status_code == 200 and added.json() == {"status": "accepted", "events": 1}, added.text
    (event,) = await log.new()
    assert (event.channel, event.type, event.data) == (
        staff_online_channel(acme),
        "user.online",
        {"user_id": agent, "online": True},
    )
    request = build_webhook(
        [member("member_added", acme, agent)], key=PUSHER_KEY, secret=PUSHER_SECRET, time_ms=t0
    )
    replayed = await api.client.post(URL, content=request.body, headers=request.headers)
    assert replayed.status_code == 200 and replayed.json()["status"] == "duplicate"
    resigned = await post(api, [member("member_added", acme, agent)], t0 + 5)
    assert resigned.json()["status"] == "accepted"
    assert await log.new() == [], "a retry re-signed with a newer time_ms changes nothing either"

    removed = await post(api, [member("member_removed", acme, agent)], t0 + 20)
    assert removed.status_code == 200
    assert [(e.data["user_id"], e.data["online"]) for e in await log.new()] == [(agent, False)]
    late = await post(api, [member("member_added", acme, agent)], t0 + 10)
    assert late.json()["status"] == "accepted" and await log.new() == [], "older than what we know: ignored"

    in_one = await post(
        api, [member("member_added", acme, agent), member("member_removed", acme, agent)], t0 + 30
    )
    assert in_one.status_code == 200
    assert [e.data["online"] for e in await log.new()] == [True, False]
    assert await metric(api, "member_added", "accepted") == 4
    assert await metric(api, "member_added", "duplicate") == 1


async def test_a_user_in_two_workspaces_is_online_in_each_and_counted_once_per_workspace(
    api: Api, log: EventLog
) -> None:
    world = api.world
    agent = world.acme_agent.id
    async with transaction(api.sessions) as session:
        session.add(Membership(user_id=agent, workspace_id=world.globex.id, role=Role.AGENT))
    t0 = now_ms()
    await post(api, [member("member_added", world.acme.id, agent)], t0)
    await post(api, [member("member_added", world.globex.id, agent)], t0 + 1)
    await post(api, [member("member_added", world.acme.id, world.acme_agent2.id)], t0 + 2)
    assert sorted((e.channel, e.data["user_id"]) for e in await log.new()) == sorted(
        [
            (staff_online_channel(world.acme.id), agent),
            (staff_online_channel(world.globex.id), agent),
            (staff_online_channel(world.acme.id), world.acme_agent2.id),
        ]
    )
    await post(api, [member("member_removed", world.globex.id, agent)], t0 + 3)
    assert [(e.channel, e.data["online"]) for e in await log.new()] == [
        (staff_online_channel(world.globex.id), False)
    ]
    async with api.sessions() as session:
        counts = await workspace_live_counts(session)
        online = list(await session.execute(select(StaffPresence.workspace_id, StaffPresence.online)))
    assert counts[world.acme.id].presence_members == 2
    assert world.globex.id not in counts or counts[world.globex.id].presence_members == 0
    assert sorted(online) == sorted([(world.acme.id, True), (world.acme.id, True), (world.globex.id, False)])


async def test_strangers_and_malformed_events_change_nothing(api: Api, log: EventLog) -> None:
    world = api.world
    events = [
        member("member_added", world.acme.id, world.globex_admin.id),  # not a member of Acme
        member("member_added", world.acme.id, 987_654),  # no such user
        {"name": "member_added", "channel": "presence-elsewhere", "user_id": "1"},
        {"name": "member_added", "channel": presence_workspace_channel(world.acme.id), "user_id": "01"},
        {"name": "member_added", "channel": "not a channel!", "user_id": "1"},
        {"name": "member_added"},
        {"name": "channel_occupied", "channel": chats_channel(987_654)},  # no such workspace
        {"name": "subscription_count", "channel": chats_channel(world.acme.id), "subscription_count": -1},
        {
            "name": "client_event",
            "channel": chats_channel(world.acme.id),
            "event": "client-typing",
            "data": "{}",
        },
        {"name": "cache_miss", "channel": "private-cache-x"},
        {"name": "something_new"},
        "not an object",
    ]
    response = await post(api, events)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert await log.new() == []
    async with api.sessions() as session:
        assert await workspace_live_counts(session) == {}
    assert await metric(api, "client_event", "accepted") == 1
    assert await metric(api, "cache_miss", "accepted") == 1


async def test_forged_stale_and_malformed_deliveries_are_refused_with_nothing_changed(
    api: Api, log: EventLog
) -> None:
    world = api.world
    events = [member("member_added", world.acme.id, world.acme_agent.id)]
    good = build_webhook(events, key=PUSHER_KEY, secret=PUSHER_SECRET, time_ms=now_ms())
    cases = [
        ("wrong secret", await post(api, events, secret="not-the-secret"), 401, "webhook_forged"),
        ("wrong key", await post(api, events, key="other-key"), 401, "webhook_forged"),
        ("stale", await post(api, events, now_ms() - 301_000), 401, "webhook_stale"),
        ("future", await post(api, events, now_ms() + 301_000), 401, "webhook_stale"),
        ("no headers", await api.client.post(URL, content=good.body), 401, "webhook_forged"),
        (
            "body changed",
            await api.client.post(
                URL, content=good.body.replace(b"member_added", b"member_remove"), headers=good.headers
            ),
            401,
            "webhook_forged",
        ),
    ]
    signed_garbage = build_webhook([], key=PUSHER_KEY, secret=PUSHER_SECRET, time_ms=now_ms())
    for body in (b"not json", b"[1, 2]", b'{"time_ms": "soon", "events": []}', b'{"time_ms": 1}'):
        headers = {**signed_garbage.headers, "X-Pusher-Signature": _sign(body)}
        cases.append(
            ("malformed", await api.client.post(URL, content=body, headers=headers), 400, "webhook_malformed")
        )
    big = b'{"time_ms": 1, "events": [' + b" " * (1024 * 1024) + b"]}"
    cases.append(
        ("too large", await api.client.post(URL, content=big, headers=good.headers), 413, "too_large")
    )
    for what, response, status, code in cases:
        assert (response.status_code, response.json()["code"]) == (status, code), (what, response.text)
    assert await log.new() == []
    async with api.sessions() as session:
        assert list(await session.scalars(select(StaffPresence))) == []
    assert await metric(api, "-", "forged") == 4
    assert await metric(api, "-", "stale") == 2
    assert await metric(api, "-", "malformed") == 4


def _sign(body: bytes) -> str:
    return sign_webhook(PUSHER_SECRET, body)


async def test_occupancy_and_subscription_counts_make_the_live_counts(api: Api) -> None:
    world = api.world
    acme = world.acme.id
    t0 = now_ms()
    await post(
        api,
        [
            {"name": "channel_occupied", "channel": chats_channel(acme)},
            {"name": "channel_occupied", "channel": f"private-workspace-{acme}.notifications"},
            {"name": "channel_occupied", "channel": presence_workspace_channel(acme)},
            {"name": "channel_occupied", "channel": f"private-user-{world.acme_agent.id}"},
            member("member_added", acme, world.acme_agent.id),
        ],
        t0,
    )
    await post(
        api, [{"name": "subscription_count", "channel": chats_channel(acme), "subscription_count": 3}], t0 + 1
    )
    async with api.sessions() as session:
        assert (await workspace_live_counts(session))[acme] == LiveCounts(
            connections=3, subscriptions=3 + 1 + 1, presence_members=1
        )
    await post(api, [{"name": "channel_vacated", "channel": chats_channel(acme)}], t0 + 3)
    await post(
        api, [{"name": "subscription_count", "channel": chats_channel(acme), "subscription_count": 2}], t0 + 2
    )
    async with api.sessions() as session:
        assert (await workspace_live_counts(session))[acme] == LiveCounts(
            connections=1, subscriptions=2, presence_members=1
        ), "the late subscription_count is older than the vacancy"
    usage = await api.client.get("/metrics")
    assert usage.status_code == 200


async def test_concurrent_deliveries_are_applied_together_each_exactly_once(api: Api, log: EventLog) -> None:
    world = api.world
    t0 = now_ms()
    users = [world.acme_admin.id, world.acme_agent.id, world.acme_agent2.id]
    requests = [
        build_webhook(
            [member("member_added" if n % 2 == 0 else "member_removed", world.acme.id, users[n % 3])],
            key=PUSHER_KEY,
            secret=PUSHER_SECRET,
            time_ms=t0 + n,
        )
        for n in range(60)
    ]
    sent = [*requests, requests[0], requests[1]]
    answers = await asyncio.gather(*(api.client.post(URL, content=r.body, headers=r.headers) for r in sent))
    statuses = [a.json()["status"] for a in answers]
    assert all(a.status_code == 200 for a in answers)
    assert statuses.count("duplicate") == 2 and statuses.count("accepted") == 60
    async with api.sessions() as session:
        rows = await session.execute(select(StaffPresence.user_id, StaffPresence.online))
        final = dict(rows.all())
    # The newest event per user wins, whatever order the batches applied them in.
    expected = {users[n % 3]: n % 2 == 0 for n in range(60)}
    assert final == expected
    flips = [e.data for e in await log.new()]
    for user in users:
        states = [d["online"] for d in flips if d["user_id"] == user]
        assert states and all(a != b for a, b in itertools.pairwise(states)), "only changes are events"
        assert states[-1] == expected[user]


async def test_deliveries_are_verified_with_the_secret_of_the_provider_whose_key_they_name(
    database_url: str,
) -> None:
    """After a failover the secondary provider sends the webhooks: its key picks its secret, and a key
    paired with the other provider's secret is forged."""
    secondary = {
        "pusher_secondary_app_id": SECONDARY_APP_ID,
        "pusher_secondary_key": SECONDARY_KEY,
        "pusher_secondary_secret": SECONDARY_SECRET,
        "pusher_secondary_host": "127.0.0.1",
        "pusher_secondary_port": 9,
        "pusher_secondary_use_tls": False,
    }
    async with running_api(database_url, **secondary) as api:
        world = api.world
        added = [member("member_added", world.acme.id, world.acme_agent.id)]
        removed = [member("member_removed", world.acme.id, world.acme_agent.id)]
        crossed = await post(api, added, key=SECONDARY_KEY, secret=PUSHER_SECRET)
        assert (crossed.status_code, crossed.json()["code"]) == (401, "webhook_forged")
        crossed = await post(api, added, key=PUSHER_KEY, secret=SECONDARY_SECRET)
        assert (crossed.status_code, crossed.json()["code"]) == (401, "webhook_forged")
        from_secondary = await post(api, added, key=SECONDARY_KEY, secret=SECONDARY_SECRET)
        assert from_secondary.json() == {"status": "accepted", "events": 1}
        async with api.sessions() as session:
            assert [p.online for p in await session.scalars(select(StaffPresence))] == [True]
        from_primary = await post(api, removed, now_ms() + 1)
        assert from_primary.json() == {"status": "accepted", "events": 1}
        async with api.sessions() as session:
            assert [p.online for p in await session.scalars(select(StaffPresence))] == [False]
