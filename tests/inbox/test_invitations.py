"""Invitations: nobody joins a workspace without accepting, the inviter learns nothing about the account,
only the invitee accepts or declines, invitations expire and can be revoked (finding F1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from tests.inbox.helpers import terminations
from tests.support.accounts import Api
from tests.support.inbox import EventLog, bearer
from waxos.auth.models import Invitation, Membership, User
from waxos.auth.service import delete_workspace
from waxos.channels.names import members_channel, user_channel
from waxos.db.base import utcnow
from waxos.db.engine import transaction
from waxos.inbox.invitations import INVITATION_TTL

MISSING = 987_654_321


async def invite(api: Api, inviter: User, workspace_id: int, email: str, role: str = "agent") -> Any:
    return await api.client.post(
        f"/api/v1/workspaces/{workspace_id}/members",
        json={"email": email, "role": role},
        headers=bearer(api, inviter),
    )


async def invitation_rows(api: Api) -> list[tuple[int, str, str]]:
    async with api.sessions() as session:
        rows = await session.scalars(select(Invitation).order_by(Invitation.id))
        return [(i.workspace_id, i.email, i.role.value) for i in rows]


async def workspaces_of(api: Api, user: User) -> list[str]:
    me = await api.client.get("/api/v1/me", headers=bearer(api, user))
    return sorted(w["name"] for w in me.json()["workspaces"])


async def test_an_admin_of_another_tenant_learns_nothing_and_enrols_nobody(api: Api, log: EventLog) -> None:
    """F1: Globex's admin "adds" Acme's agent: 202 invited, no name, no id, no membership, no event; the
    answer for an email nobody has is the same; revoking it closes nobody's connections."""
    world = api.world
    await log.new()
    victim = await invite(api, world.globex_admin, world.globex.id, "AGENT@acme.test")
    nobody = await invite(api, world.globex_admin, world.globex.id, "nobody@nowhere.test")
    for answer, email in ((victim, "agent@acme.test"), (nobody, "nobody@nowhere.test")):
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert set(body) == {"status", "invitation_id", "email", "role", "expires_at"}
        assert (body["status"], body["email"], body["role"]) == ("invited", email, "agent")
        assert world.acme_agent.name not in answer.text
    assert await log.new() == [], "nothing reaches the victim's channels"
    assert await workspaces_of(api, world.acme_agent) == ["Acme"]
    listed = await api.client.get(
        f"/api/v1/workspaces/{world.globex.id}/members", headers=bearer(api, world.globex_admin)
    )
    assert [m["email"] for m in listed.json()["items"]] == ["admin@globex.test"]
    subscribe = await api.client.post(
        "/api/v1/pusher/auth",
        data={"socket_id": "1.2", "channel_name": members_channel(world.globex.id)},
        headers=bearer(api, world.acme_agent),
    )
    assert subscribe.status_code == 403

    remove = await api.client.delete(
        f"/api/v1/workspaces/{world.globex.id}/members/{world.acme_agent.id}",
        headers=bearer(api, world.globex_admin),
    )
    assert (remove.status_code, remove.json()["code"]) == (404, "member_not_found")
    revoked = await api.client.delete(
        f"/api/v1/workspaces/{world.globex.id}/invitations/{victim.json()['invitation_id']}",
        headers=bearer(api, world.globex_admin),
    )
    assert revoked.status_code == 204
    assert await terminations(api) == [], "an invitation never accepted disconnects nobody"
    assert await log.new() == []


async def test_the_invitee_accepts_and_joins_with_member_added(api: Api, log: EventLog) -> None:
    world = api.world
    await log.new()
    sent = await invite(api, world.acme_admin, world.acme.id, " LONER@nowhere.test ")
    assert sent.status_code == 202 and sent.json()["email"] == "loner@nowhere.test"
    invitation_id = sent.json()["invitation_id"]
    expires = sent.json()["expires_at"]
    mine = (await api.client.get("/api/v1/me/invitations", headers=bearer(api, world.loner))).json()
    assert mine["items"] == [
        {
            "id": invitation_id,
            "workspace_id": world.acme.id,
            "workspace_name": "Acme",
            "role": "agent",
            "invited_by_name": world.acme_admin.name,
            "invited_at": mine["items"][0]["invited_at"],
            "expires_at": expires,
        }
    ]
    others = await api.client.get("/api/v1/me/invitations", headers=bearer(api, world.acme_agent))
    assert others.json() == {"items": []}
    assert await log.new() == []

    accepted = await api.client.post(
        f"/api/v1/invitations/{invitation_id}/accept", headers=bearer(api, world.loner, "123.456")
    )
    assert accepted.status_code == 200, accepted.text
    assert {k: accepted.json()[k] for k in ("workspace_id", "workspace_name", "role")} == {
        "workspace_id": world.acme.id,
        "workspace_name": "Acme",
        "role": "agent",
    }
    events = await log.new()
    assert sorted((e.channel, e.type) for e in events) == sorted(
        [(members_channel(world.acme.id), "member.added"), (user_channel(world.loner.id), "member.added")]
    )
    for event in events:
        assert event.data == {"user_id": world.loner.id, "role": "agent", "added_by_id": world.acme_admin.id}
        assert event.socket_id == "123.456", "not echoed to the accepting connection"
    assert await workspaces_of(api, world.loner) == ["Acme"]
    assert (await api.client.get("/api/v1/me/invitations", headers=bearer(api, world.loner))).json() == {
        "items": []
    }
    again = await api.client.post(
        f"/api/v1/invitations/{invitation_id}/accept", headers=bearer(api, world.loner)
    )
    assert (again.status_code, again.json()["code"]) == (404, "invitation_not_found")
    member = await invite(api, world.acme_admin, world.acme.id, "Loner@Nowhere.test", "admin")
    assert (member.status_code, member.json()["code"]) == (409, "already_a_member")
    assert await invitation_rows(api) == [] and await log.new() == []

    removed = await api.client.delete(
        f"/api/v1/workspaces/{world.acme.id}/members/{world.loner.id}", headers=bearer(api, world.acme_admin)
    )
    assert removed.status_code == 204
    assert await terminations(api) == [world.loner.id], "an accepted member's removal still disconnects"


async def test_only_the_invitee_may_accept_or_decline(api: Api, log: EventLog) -> None:
    world = api.world
    invitation_id = (await invite(api, world.acme_admin, world.acme.id, "loner@nowhere.test")).json()[
        "invitation_id"
    ]
    await log.new()
    for stranger in (world.acme_agent, world.globex_admin, world.acme_admin, world.operator):
        for action in ("accept", "decline"):
            theirs = await api.client.post(
                f"/api/v1/invitations/{invitation_id}/{action}", headers=bearer(api, stranger)
            )
            missing = await api.client.post(
                f"/api/v1/invitations/{MISSING}/{action}", headers=bearer(api, stranger)
            )
            where = (stranger.email, action)
            assert theirs.status_code == 404, where
            assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json()), where
    assert await log.new() == []
    assert await invitation_rows(api) == [(world.acme.id, "loner@nowhere.test", "agent")]
    assert await workspaces_of(api, world.acme_agent) == ["Acme"]
    assert await workspaces_of(api, world.globex_admin) == ["Globex"]


async def test_re_inviting_while_pending_renews_the_same_invitation(api: Api) -> None:
    world = api.world
    first = await invite(api, world.acme_admin, world.acme.id, "loner@nowhere.test")
    second = await invite(api, world.acme_admin, world.acme.id, "LONER@nowhere.test")
    assert first.status_code == second.status_code == 202
    assert second.json()["invitation_id"] == first.json()["invitation_id"]
    assert {k: v for k, v in second.json().items() if k != "expires_at"} == {
        k: v for k, v in first.json().items() if k != "expires_at"
    }
    assert await invitation_rows(api) == [(world.acme.id, "loner@nowhere.test", "agent")]
    promoted = await invite(api, world.acme_admin, world.acme.id, "loner@nowhere.test", "admin")
    assert promoted.json()["invitation_id"] == first.json()["invitation_id"]
    assert await invitation_rows(api) == [(world.acme.id, "loner@nowhere.test", "admin")]
    other_tenant = await invite(api, world.globex_admin, world.globex.id, "loner@nowhere.test")
    assert other_tenant.json()["invitation_id"] != first.json()["invitation_id"]
    mine = (await api.client.get("/api/v1/me/invitations", headers=bearer(api, world.loner))).json()
    assert [i["workspace_name"] for i in mine["items"]] == ["Globex", "Acme"]

    agent = bearer(api, world.acme_agent)
    url = f"/api/v1/workspaces/{world.acme.id}/invitations"
    for method, path in (
        ("POST", f"/api/v1/workspaces/{world.acme.id}/members"),
        ("GET", url),
        ("DELETE", f"{url}/{first.json()['invitation_id']}"),
    ):
        refused = await api.client.request(
            method, path, json={"email": "x@y.test", "role": "agent"}, headers=agent
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "admin_required"), (method, path)


async def test_decline_revoke_and_expiry(api: Api, log: EventLog) -> None:
    world = api.world
    loner = bearer(api, world.loner)
    admin = bearer(api, world.acme_admin)
    url = f"/api/v1/workspaces/{world.acme.id}/invitations"
    await log.new()

    declined_id = (await invite(api, world.acme_admin, world.acme.id, "loner@nowhere.test")).json()[
        "invitation_id"
    ]
    declined = await api.client.post(f"/api/v1/invitations/{declined_id}/decline", headers=loner)
    assert declined.status_code == 204
    assert (await api.client.get(url, headers=admin)).json() == {"items": [], "next_cursor": None}
    assert await workspaces_of(api, world.loner) == []

    revoked_id = (await invite(api, world.acme_admin, world.acme.id, "loner@nowhere.test")).json()[
        "invitation_id"
    ]
    assert revoked_id != declined_id, "ids are never reused"
    assert (await api.client.delete(f"{url}/{revoked_id}", headers=admin)).status_code == 204
    assert (await api.client.delete(f"{url}/{revoked_id}", headers=admin)).status_code == 404
    late = await api.client.post(f"/api/v1/invitations/{revoked_id}/accept", headers=loner)
    assert (late.status_code, late.json()["code"]) == (404, "invitation_not_found")
    cross = await api.client.delete(
        f"/api/v1/workspaces/{world.globex.id}/invitations/{revoked_id}",
        headers=bearer(api, world.globex_admin),
    )
    assert cross.status_code == 404

    expiring = (await invite(api, world.acme_admin, world.acme.id, "loner@nowhere.test")).json()
    async with transaction(api.sessions) as session:
        await session.execute(
            update(Invitation)
            .where(Invitation.id == expiring["invitation_id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert (await api.client.get("/api/v1/me/invitations", headers=loner)).json() == {"items": []}
    expired = await api.client.post(f"/api/v1/invitations/{expiring['invitation_id']}/accept", headers=loner)
    assert (expired.status_code, expired.json()["code"]) == (410, "invitation_expired")
    stranger = await api.client.post(
        f"/api/v1/invitations/{expiring['invitation_id']}/accept", headers=bearer(api, world.acme_agent)
    )
    assert stranger.status_code == 404, "only the invitee learns that it expired"
    listed = (await api.client.get(url, headers=admin)).json()["items"]
    assert [(i["id"], i["expired"]) for i in listed] == [(expiring["invitation_id"], True)]
    renewed = await invite(api, world.acme_admin, world.acme.id, "loner@nowhere.test")
    assert renewed.json()["invitation_id"] == expiring["invitation_id"]
    listed = (await api.client.get(url, headers=admin)).json()["items"]
    assert [(i["id"], i["expired"]) for i in listed] == [(expiring["invitation_id"], False)]
    async with api.sessions() as session:
        row = await session.get_one(Invitation, expiring["invitation_id"])
        assert row.expires_at - row.created_at == INVITATION_TTL
    accepted = await api.client.post(f"/api/v1/invitations/{expiring['invitation_id']}/accept", headers=loner)
    assert accepted.status_code == 200
    assert [e.type for e in await log.new()] == ["member.added", "member.added"]


async def test_the_email_must_be_an_email_address(api: Api) -> None:
    world = api.world
    for email in (
        "no-at-sign",
        "two@@signs.test",
        "a b@c.test",
        "a@b.test\x00",
        "a\u0085@b.test",
        "@b.test",
        "a@",
        "  ",
        "a" * 320 + "@b.test",
    ):
        answer = await invite(api, world.acme_admin, world.acme.id, email)
        assert answer.status_code == 422, (email, answer.text)
    extra = await api.client.post(
        f"/api/v1/workspaces/{world.acme.id}/members",
        json={"email": "a@b.test", "role": "agent", "name": "x"},
        headers=bearer(api, world.acme_admin),
    )
    assert extra.status_code == 422
    assert await invitation_rows(api) == []


async def test_invitations_go_with_their_workspace_their_inviter_and_their_invitee(api: Api) -> None:
    world = api.world
    await invite(api, world.acme_admin, world.acme.id, "loner@nowhere.test")
    await invite(api, world.acme_admin, world.acme.id, "someone@else.test")
    await invite(api, world.globex_admin, world.globex.id, "loner@nowhere.test")
    await invite(api, world.globex_admin, world.globex.id, "nobody@else.test")
    operator = bearer(api, world.operator)
    assert (await api.client.delete(f"/api/v1/users/{world.loner.id}", headers=operator)).status_code == 204
    assert await invitation_rows(api) == [
        (world.acme.id, "someone@else.test", "agent"),
        (world.globex.id, "nobody@else.test", "agent"),
    ]
    async with transaction(api.sessions) as session:
        assert await delete_workspace(session, world.globex.id)
    assert await invitation_rows(api) == [(world.acme.id, "someone@else.test", "agent")]
    promoted = await api.client.patch(
        f"/api/v1/workspaces/{world.acme.id}/members/{world.acme_agent.id}",
        json={"role": "admin"},
        headers=bearer(api, world.acme_admin),
    )
    assert promoted.status_code == 200
    gone = await api.client.delete(f"/api/v1/users/{world.acme_admin.id}", headers=operator)
    assert gone.status_code == 204
    assert await invitation_rows(api) == [], "the inviter's invitations went with the account"
    async with api.sessions() as session:
        assert await session.scalar(select(Membership).where(Membership.user_id == world.loner.id)) is None
