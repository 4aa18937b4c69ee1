"""Channel auth decisions and catch-up answers are counted, by outcome and reason, at /metrics."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.support.accounts import Api, running_api
from tests.support.events import emit_messages


async def samples(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample /metrics exports, by name and sorted labels."""
    text = (await api.client.get("/metrics")).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def decision(endpoint: str, outcome: str, reason: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return (
        "waxos_channel_auth_decisions_total",
        (("endpoint", endpoint), ("outcome", outcome), ("reason", reason)),
    )


async def test_auth_decisions_are_counted_by_outcome_and_reason(database_url: str) -> None:
    async with running_api(database_url) as api:
        world = api.world
        agent = {"Authorization": f"Bearer {world.token(world.acme_agent)}"}
        acme = f"private-workspace-{world.acme.id}.chats"
        globex = f"private-workspace-{world.globex.id}.chats"
        for channel, expected in (
            (acme, 200),
            (acme, 200),
            (globex, 403),
            (f"private-user-{world.acme_agent.id}", 200),
            (f"private-user-{world.acme_admin.id}", 403),
        ):
            answer = await api.client.post(
                "/api/v1/pusher/auth", data={"socket_id": "1.2", "channel_name": channel}, headers=agent
            )
            assert answer.status_code == expected
        counted = await samples(api)
    assert counted[decision("auth", "allowed", "member")] == 2
    assert counted[decision("auth", "denied", "not_a_member")] == 1
    assert counted[decision("auth", "allowed", "own_user_channel")] == 1
    assert counted[decision("auth", "denied", "not_your_user_channel")] == 1


async def test_catch_up_answers_are_counted_ok_denied_and_resync_required(database_url: str) -> None:
    async with running_api(database_url) as api:
        world = api.world
        acme = f"private-workspace-{world.acme.id}.chats"
        await emit_messages(api.sessions, acme, 3)
        agent = {"Authorization": f"Bearer {world.token(world.acme_agent)}"}
        outsider = {"Authorization": f"Bearer {world.token(world.globex_admin)}"}
        url = "/api/v1/realtime/events"
        assert (await api.client.get(url, params={"channel": acme, "after": 0}, headers=agent)).is_success
        resync = await api.client.get(url, params={"channel": acme, "after": 9}, headers=agent)
        assert resync.status_code == 410
        denied = await api.client.get(url, params={"channel": acme, "after": 0}, headers=outsider)
        assert denied.status_code == 403
        counted = await samples(api)
    assert counted[("waxos_catchup_requests_total", (("outcome", "ok"),))] == 1
    assert counted[("waxos_catchup_requests_total", (("outcome", "resync_required"),))] == 1
    assert counted[("waxos_catchup_requests_total", (("outcome", "denied"),))] == 1
    assert counted[("waxos_catchup_resync_required_total", (("reason", "ahead_of_head"),))] == 1
    assert counted[decision("catch-up", "denied", "not_a_member")] == 1
    assert counted[decision("catch-up", "allowed", "member")] == 2
