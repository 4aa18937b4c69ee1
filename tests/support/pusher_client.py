"""A minimal Pusher protocol client over the `websockets` library, for adapter tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.support.local_pusher import LocalPusher
from waxos.pusher_protocol.signing import channel_string_to_sign, sign_auth, user_string_to_sign


class PusherClient:
    """One connection: JSON frames in and out, with timeouts so a missing frame fails fast."""

    # Every client opened, so the package's autouse fixture can close what a test left open.
    opened: list[PusherClient] = []  # noqa: RUF012 - deliberately shared across instances

    def __init__(self, server: LocalPusher, ws: ClientConnection) -> None:
        self.server = server
        self.ws = ws
        self.socket_id = ""

    @classmethod
    async def open(cls, server: LocalPusher, **url: Any) -> PusherClient:
        """Connect and consume `pusher:connection_established`."""
        client = cls(server, await connect(server.ws_url(**url), max_size=None, max_queue=None))
        cls.opened.append(client)
        established = await client.recv()
        assert established["event"] == "pusher:connection_established", established
        client.socket_id = json.loads(established["data"])["socket_id"]
        return client

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        """Send a frame (dicts are JSON-encoded)."""
        await self.ws.send(json.dumps(message) if isinstance(message, dict) else message)

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame, decoded."""
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        return json.loads(raw)  # type: ignore[no-any-return]

    async def expect_silence(self, within: float = 0.2) -> None:
        """Fail if any frame arrives within `within` seconds."""
        try:
            frame = await asyncio.wait_for(self.ws.recv(), within)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame {frame}")

    async def subscribe(
        self, channel: str, *, user: dict[str, Any] | None = None, auth: str | None = None
    ) -> dict[str, Any]:
        """Subscribe (signing private/presence channels) and return the server's first reply."""
        data: dict[str, Any] = {"channel": channel}
        channel_data = None if user is None else json.dumps(user)
        if channel_data is not None:
            data["channel_data"] = channel_data
        if auth is None and channel.startswith(("private-", "presence-")):
            text = channel_string_to_sign(self.socket_id, channel, channel_data)
            auth = sign_auth(self.server.key, self.server.secret, text)
        data["auth"] = auth or ""
        await self.send({"event": "pusher:subscribe", "data": data})
        return await self.recv()

    async def signin(self, user: dict[str, Any]) -> dict[str, Any]:
        """Sign in as `user` and return the reply."""
        text = json.dumps(user)
        auth = sign_auth(self.server.key, self.server.secret, user_string_to_sign(self.socket_id, text))
        await self.send({"event": "pusher:signin", "data": {"auth": auth, "user_data": text}})
        return await self.recv()

    async def close(self) -> None:
        """Close the connection."""
        await self.ws.close()
