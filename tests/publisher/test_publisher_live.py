"""PusherService over real HTTP against the local Pusher server, which verifies every signature.

Subscribers are real WebSocket connections, so "sent" means "arrived at exactly the right sockets".
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nacl.secret import SecretBox
from websockets.exceptions import ConnectionClosed

from tests.support.cli import run_waxos
from tests.support.local_pusher import LocalPusher
from tests.support.pusher_client import PusherClient
from tests.support.settings import MASTER_KEY, make_settings
from waxos.publisher.results import FailureKind
from waxos.publisher.service import OutgoingEvent, PusherService


@pytest.fixture
async def service(local_pusher: LocalPusher) -> AsyncIterator[PusherService]:
    service = PusherService(live_settings(local_pusher, pusher_encryption_master_key_base64=MASTER_KEY))
    yield service
    await service.aclose()


def live_settings(server: LocalPusher, **overrides: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "pusher_app_id": server.app_id,
        "pusher_key": server.key,
        "pusher_secret": server.secret,
        "pusher_host": server.host,
        "pusher_port": server.port,
    }
    values.update(overrides)
    return make_settings(**values)


async def subscriber(server: LocalPusher, *channels: str) -> PusherClient:
    client = await PusherClient.open(server)
    for channel in channels:
        reply = await client.subscribe(channel)
        assert reply["event"] == "pusher_internal:subscription_succeeded", reply
    return client


async def test_trigger_reaches_every_subscriber_of_the_channel_once(
    local_pusher: LocalPusher, service: PusherService
) -> None:
    first = await subscriber(local_pusher, "private-workspace-1.chats")
    second = await subscriber(local_pusher, "private-workspace-1.chats")
    other = await subscriber(local_pusher, "private-workspace-2.chats")
    try:
        result = await service.trigger(
            "private-workspace-1.chats", "message.new", {"message_id": 7, "t": "é"}
        )
        assert result.ok and result.status == 200, result
        for client in (first, second):
            frame = await client.recv()
            assert frame["event"] == "message.new"
            assert frame["channel"] == "private-workspace-1.chats"
            assert json.loads(frame["data"]) == {"message_id": 7, "t": "é"}
            await client.expect_silence()
        await other.expect_silence()
    finally:
        for client in (first, second, other):
            await client.close()


async def test_socket_id_excludes_the_sender(local_pusher: LocalPusher, service: PusherService) -> None:
    sender = await subscriber(local_pusher, "private-user-1")
    watcher = await subscriber(local_pusher, "private-user-1")
    try:
        result = await service.trigger("private-user-1", "chat.assigned", {"chat_id": 3}, sender.socket_id)
        assert result.ok
        assert (await watcher.recv())["event"] == "chat.assigned"
        await sender.expect_silence()
    finally:
        await sender.close()
        await watcher.close()


async def test_batch_of_25_arrives_complete_with_each_request_in_order(
    local_pusher: LocalPusher, service: PusherService
) -> None:
    client = await subscriber(local_pusher, "private-user-1", "private-user-2")
    try:
        events = [OutgoingEvent(f"private-user-{n % 2 + 1}", "message.status", {"n": n}) for n in range(25)]
        result = await service.trigger_batch(events)
        assert result.ok and len(result.chunks) == 3
        received = [json.loads((await client.recv())["data"])["n"] for _ in range(25)]
        await client.expect_silence()
        assert sorted(received) == list(range(25))
        # Requests run concurrently; within one request of 10 the order is kept.
        for start in (0, 10, 20):
            chunk = [n for n in received if start <= n < start + 10]
            assert chunk == sorted(chunk)
    finally:
        await client.close()


async def test_data_of_exactly_10240_bytes_is_accepted_by_the_server(
    local_pusher: LocalPusher, service: PusherService
) -> None:
    client = await subscriber(local_pusher, "private-user-1")
    try:
        data = {"x": "é" * ((10_240 - 8) // 2)}
        result = await service.trigger("private-user-1", "message.new", data)
        assert result.ok, result
        frame = await client.recv()
        assert len(frame["data"].encode()) == 10_240
    finally:
        await client.close()


async def test_encrypted_channel_carries_only_ciphertext(
    local_pusher: LocalPusher, service: PusherService
) -> None:
    channel = "private-encrypted-workspace-1.chats"
    token = service.authenticate_private_channel("1.1", channel)
    client = await subscriber(local_pusher, channel)
    try:
        assert (await service.trigger(channel, "message.new", {"message_id": 9})).ok
        sealed = json.loads((await client.recv())["data"])
        assert set(sealed) == {"nonce", "ciphertext"}
        shared = base64.b64decode(token["shared_secret"])
        assert shared == hashlib.sha256(channel.encode() + base64.b64decode(MASTER_KEY)).digest()
        plain = SecretBox(shared).decrypt(
            base64.b64decode(sealed["ciphertext"]), base64.b64decode(sealed["nonce"])
        )
        assert json.loads(plain) == {"message_id": 9}
    finally:
        await client.close()


async def test_reads_report_occupied_channels(local_pusher: LocalPusher, service: PusherService) -> None:
    client = await subscriber(local_pusher, "private-workspace-4.chats")
    try:
        result = await service.channels_info("private-workspace-4", ["subscription_count"])
        assert result.ok
        assert result.body["channels"]["private-workspace-4.chats"]["subscription_count"] == 1
        assert (await service.channel_info("private-workspace-4.chats", ["subscription_count"])).body[
            "occupied"
        ] is True
    finally:
        await client.close()


async def test_terminate_user_connections_disconnects_the_signed_in_user(
    local_pusher: LocalPusher, service: PusherService
) -> None:
    client = await PusherClient.open(local_pusher)
    try:
        reply = await client.signin({"id": "42", "user_info": {}})
        assert reply["event"] == "pusher:signin_success", reply
        result = await service.terminate_user_connections("42")
        assert result.ok, result
        error = await client.recv()
        assert error["event"] == "pusher:error" and error["data"]["code"] == 4009
        with pytest.raises(ConnectionClosed) as closed:
            await client.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4009
    finally:
        await client.close()


async def test_wrong_secret_is_unauthorized_and_nothing_is_delivered(local_pusher: LocalPusher) -> None:
    client = await subscriber(local_pusher, "private-user-1")
    service = PusherService(live_settings(local_pusher, pusher_secret="not-the-secret"))
    try:
        result = await service.trigger("private-user-1", "message.new", {})
        assert not result.ok and result.failure is FailureKind.UNAUTHORIZED and result.status == 401
        await client.expect_silence()
    finally:
        await service.aclose()
        await client.close()


def cli_env(server: LocalPusher, **overrides: str) -> dict[str, str]:
    return {
        "PUSHER_APP_ID": server.app_id,
        "PUSHER_KEY": server.key,
        "PUSHER_SECRET": server.secret,
        "PUSHER_CLUSTER": "local",
        "PUSHER_HOST": server.host,
        "PUSHER_PORT": str(server.port),
        "PUSHER_USE_TLS": "false",
        **overrides,
    }


def test_check_succeeds_against_the_local_server(local_pusher: LocalPusher, tmp_path: Path) -> None:
    result = run_waxos("check", env=cli_env(local_pusher), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ") and "accepted our signed request" in result.stdout


def test_check_with_a_wrong_secret_says_bad_credentials(local_pusher: LocalPusher, tmp_path: Path) -> None:
    result = run_waxos("check", env=cli_env(local_pusher, PUSHER_SECRET="wrong-secret-x"), cwd=tmp_path)
    assert result.returncode == 1
    assert "failed: bad credentials" in result.stderr
    assert "wrong-secret-x" not in result.stderr + result.stdout


def test_check_with_an_unknown_app_says_unknown_app(local_pusher: LocalPusher, tmp_path: Path) -> None:
    result = run_waxos("check", env=cli_env(local_pusher, PUSHER_APP_ID="999"), cwd=tmp_path)
    assert result.returncode == 1
    assert "failed: unknown app" in result.stderr


def test_trigger_command_publishes(local_pusher: LocalPusher, tmp_path: Path) -> None:
    result = run_waxos(
        "trigger", "private-user-1", "message.new", '{"id": 1}', env=cli_env(local_pusher), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "ok: message.new published to private-user-1" in result.stdout


async def test_the_app_refuses_to_start_when_pusher_refuses_its_credentials(
    local_pusher: LocalPusher, tmp_path: Path
) -> None:
    from tests.support.asgi import asgi_client
    from waxos.app import create_app
    from waxos.publisher.credentials import CredentialsRefused

    database_url = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    wrong = live_settings(local_pusher, pusher_secret="not-the-secret", database_url=database_url)
    with pytest.raises(CredentialsRefused, match="bad credentials"):
        async with asgi_client(create_app(wrong)):
            pass
    unknown_app = live_settings(local_pusher, pusher_app_id="999", database_url=database_url)
    with pytest.raises(CredentialsRefused, match="unknown app"):
        async with asgi_client(create_app(unknown_app)):
            pass
    right = live_settings(local_pusher, database_url=database_url, waxos_run_relay=False)
    async with asgi_client(create_app(right)) as client:
        assert (await client.get("/health/live")).status_code == 200
