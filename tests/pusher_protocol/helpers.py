"""A harness around `PusherApp`: fixed clock, sequential socket ids, frames decoded per socket."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from typing import Any

from waxos.pusher_protocol import AppConfig, Close, PusherApp, Send
from waxos.pusher_protocol.signing import channel_string_to_sign, sign_auth, user_string_to_sign

APP_ID = "100001"
KEY = "waxos-dev-key"
SECRET = "waxos-dev-secret"
START = 1_800_000_000.0


def config(**overrides: Any) -> AppConfig:
    """The test app's configuration with client events on."""
    values: dict[str, Any] = {"app_id": APP_ID, "key": KEY, "secret": SECRET}
    values["enable_client_events"] = True
    values.update(overrides)
    return AppConfig(**values)


class Harness:
    """Drives one app as a server would, collecting what each socket receives."""

    def __init__(self, **overrides: Any) -> None:
        counter = itertools.count(1)
        self.app = PusherApp(config(**overrides), new_socket_id=lambda: f"{next(counter)}.{7}")
        self.now = START
        self.inbox: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.closed: dict[str, tuple[int, str]] = {}

    def pump(self) -> None:
        """Move the app's output into per-socket inboxes and the closed map."""
        for output in self.app.take_output():
            if isinstance(output, Send):
                output.text.encode()  # every frame must be writable as UTF-8
                for socket_id in output.socket_ids:
                    self.inbox[socket_id].append(json.loads(output.text))
            else:
                assert isinstance(output, Close)
                self.closed[output.socket_id] = (output.code, output.reason)

    def connect(self, *, keep_handshake: bool = False) -> str:
        """A connected socket, its handshake consumed unless asked to keep it."""
        socket_id = self.app.connect(KEY, {"protocol": "7", "client": "js"}, self.now)
        self.pump()
        if not keep_handshake:
            self.take(socket_id)
        return socket_id

    def send(self, socket_id: str, message: dict[str, Any] | str) -> None:
        """A text frame from the client."""
        text = message if isinstance(message, str) else json.dumps(message)
        self.app.receive_text(socket_id, text, self.now)
        self.pump()

    def take(self, socket_id: str) -> list[dict[str, Any]]:
        """Everything `socket_id` received since the last take."""
        return self.inbox.pop(socket_id, [])

    def subscribe(
        self,
        socket_id: str,
        channel: str,
        *,
        user: dict[str, Any] | None = None,
        auth: str | None = None,
    ) -> list[dict[str, Any]]:
        """Subscribe, signing private and presence channels correctly unless `auth` is given."""
        data: dict[str, Any] = {"channel": channel}
        channel_data = None if user is None else json.dumps(user)
        if channel_data is not None:
            data["channel_data"] = channel_data
        if auth is None and channel.startswith(("private-", "presence-")):
            auth = sign_auth(KEY, SECRET, channel_string_to_sign(socket_id, channel, channel_data))
        data["auth"] = auth or ""
        self.send(socket_id, {"event": "pusher:subscribe", "data": data})
        return self.take(socket_id)

    def signin(self, socket_id: str, user_data: dict[str, Any]) -> list[dict[str, Any]]:
        """A correctly signed `pusher:signin`."""
        text = json.dumps(user_data)
        auth = sign_auth(KEY, SECRET, user_string_to_sign(socket_id, text))
        self.send(socket_id, {"event": "pusher:signin", "data": {"auth": auth, "user_data": text}})
        return self.take(socket_id)


def succeeded(channel: str, data: str = "{}") -> dict[str, Any]:
    """The subscription_succeeded frame for a non-presence channel."""
    return {"event": "pusher_internal:subscription_succeeded", "channel": channel, "data": data}


def error(message: str, code: int | None = None) -> dict[str, Any]:
    """A `pusher:error` frame."""
    return {"event": "pusher:error", "data": {"code": code, "message": message}}
