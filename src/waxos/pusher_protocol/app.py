"""One Pusher app as pure state: connections in, frames and closes and webhooks out.

The adapter feeds it what happened (`connect`, `receive_text`, `disconnect`, `on_deadline`, HTTP API
calls through `http_api`) with the current time, then drains `take_output()` and `take_webhooks()`.
Nothing here touches a socket or a clock, so every protocol rule is tested as text in, text out.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping

from waxos.pusher_protocol import messages, webhooks
from waxos.pusher_protocol.auth import auth_problem, verify_signin
from waxos.pusher_protocol.config import AppConfig
from waxos.pusher_protocol.connection import Connection, Liveness, connect_refusal
from waxos.pusher_protocol.counts import SubscriptionCounter
from waxos.pusher_protocol.errors import CloseCode, FrameError, excerpt
from waxos.pusher_protocol.hub import Hub
from waxos.pusher_protocol.messages import ClientMessage, PresenceMember
from waxos.pusher_protocol.names import (
    CLIENT_EVENT_PREFIX,
    SERVER_TO_USER_PREFIX,
    ChannelKind,
    ChannelName,
    InvalidName,
    is_valid_event_name,
    parse_channel,
)
from waxos.pusher_protocol.output import Close, Output, Send
from waxos.pusher_protocol.signing import channel_string_to_sign

# Presence channels report members instead; `#server-to-user-` channels are Pusher's own.
_NOT_COUNTED = frozenset({ChannelKind.PRESENCE, ChannelKind.SERVER_TO_USER})


class _Refusal(Exception):
    """A subscription refused with a reason and the HTTP-like status pusher-js reports."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def random_socket_id() -> str:
    """Two random unsigned integers joined by a dot, the form every server SDK validates."""
    return f"{secrets.randbelow(10**10)}.{secrets.randbelow(10**10)}"


class PusherApp:
    """Connections, channels and presence of one app; every method takes `now` in seconds."""

    def __init__(self, config: AppConfig, *, new_socket_id: Callable[[], str] = random_socket_id):
        self.config = config
        self.hub = Hub()
        self.connections: dict[str, Connection] = {}
        self._new_socket_id = new_socket_id
        self._output: list[Output] = []
        self._webhooks: list[webhooks.WebhookEvent] = []
        self._users: dict[str, dict[str, None]] = {}
        # cache_miss webhooks are de-duplicated across clients until the cache is filled again.
        self._cache_miss_reported: set[str] = set()
        self._counts = SubscriptionCounter()

    # ---- draining -------------------------------------------------------------------------------

    def take_output(self) -> list[Output]:
        """Frames to write and sockets to close, in the order they were produced."""
        output, self._output = self._output, []
        return output

    def take_webhooks(self) -> list[webhooks.WebhookEvent]:
        """Webhook events produced since the last call."""
        events, self._webhooks = self._webhooks, []
        return events

    def _send(self, socket_ids: list[str], text: str) -> None:
        if socket_ids:
            self._output.append(Send(socket_ids, text))

    def _error(self, socket_id: str, message: str, code: int | None = None) -> None:
        self._send([socket_id], messages.error(message, code))

    # ---- connection lifecycle -------------------------------------------------------------------

    def connect(self, key: str, query: Mapping[str, str], now: float) -> str:
        """Open a connection for `/app/{key}?protocol=…`; refused ones get an error and a close."""
        socket_id = self._new_socket_id()
        while socket_id in self.connections:
            socket_id = self._new_socket_id()
        refusal = connect_refusal(self.config.key, key, query)
        if refusal is not None:
            code, reason = refusal
            self._error(socket_id, reason, code)
            self._output.append(Close(socket_id, code, reason))
            return socket_id
        config = self.config
        self.connections[socket_id] = Connection(
            socket_id,
            now,
            activity_timeout=config.activity_timeout,
            pong_timeout=config.pong_timeout,
            client_event_limit=config.client_event_rate_limit,
        )
        self._send([socket_id], messages.connection_established(socket_id, config.activity_timeout))
        return socket_id

    def refuse(self, code: int, reason: str, now: float) -> str:
        """A WebSocket the server will not serve (another path: 4005; over a limit: 4100): error, close."""
        del now
        socket_id = self._new_socket_id()
        self._error(socket_id, reason, code)
        self._output.append(Close(socket_id, code, reason))
        return socket_id

    def disconnect(self, socket_id: str, now: float) -> None:
        """The socket closed: leave every channel as an unsubscribe would. Idempotent."""
        connection = self.connections.pop(socket_id, None)
        if connection is None:
            return
        for channel in list(connection.subscriptions):
            self._leave(connection, channel, now)
        if connection.user is not None:
            sockets = self._users.get(connection.user.user_id, {})
            sockets.pop(socket_id, None)
            if not sockets:
                self._users.pop(connection.user.user_id, None)

    def close(self, socket_id: str, code: int, reason: str, now: float) -> None:
        """Close a connection from the server side: forget it at once, then ask for the close."""
        if socket_id not in self.connections:
            return
        self.disconnect(socket_id, now)
        self._output.append(Close(socket_id, code, reason))

    def next_deadline(self, socket_id: str) -> float | None:
        """When the adapter should call `on_deadline` for this socket (None once it is gone)."""
        connection = self.connections.get(socket_id)
        return None if connection is None else connection.next_deadline()

    def on_deadline(self, socket_id: str, now: float) -> None:
        """Ping a silent client, or close it with 4201 when the ping went unanswered."""
        connection = self.connections.get(socket_id)
        if connection is None:
            return
        action = connection.on_deadline(now)
        if action is Liveness.PING:
            self._send([socket_id], messages.ping())
        elif action is Liveness.CLOSE:
            self.close(socket_id, CloseCode.PONG_NOT_RECEIVED, "Pong reply not received", now)

    # ---- frames from the client -----------------------------------------------------------------

    def receive_binary(self, socket_id: str, now: float) -> None:
        """Pusher speaks text frames only; a binary one is refused and the connection kept."""
        connection = self.connections.get(socket_id)
        if connection is not None:
            connection.touch(now)
            self._error(socket_id, "Binary frames are not supported")

    def receive_text(self, socket_id: str, text: str, now: float) -> None:
        """Handle one client text frame; bad frames get `pusher:error` and the connection stays."""
        connection = self.connections.get(socket_id)
        if connection is None:
            return
        connection.touch(now)
        try:
            if len(text.encode()) > self.config.max_frame_bytes:
                raise FrameError(f"Message exceeds the {self.config.max_frame_bytes} bytes limit")
            self._dispatch(connection, messages.parse_client_frame(text), now)
        except FrameError as exc:
            self._error(socket_id, exc.message, exc.code)

    def _dispatch(self, connection: Connection, message: ClientMessage, now: float) -> None:
        event = message.event
        if event == "pusher:ping":
            self._send([connection.socket_id], messages.pong())
        elif event == "pusher:pong":
            return  # touch() already recorded the liveness it proves
        elif event == "pusher:subscribe":
            self._subscribe(connection, messages.data_object(message), now)
        elif event == "pusher:unsubscribe":
            self._unsubscribe(connection, messages.data_object(message), now)
        elif event == "pusher:signin":
            self._signin(connection, messages.data_object(message))
        elif event.startswith(CLIENT_EVENT_PREFIX):
            self._client_event(connection, message, now)
        else:
            raise FrameError(f"Unsupported event received on socket: {excerpt(event)}")

    # ---- subscriptions --------------------------------------------------------------------------

    def _subscribe(self, connection: Connection, data: dict[str, object], now: float) -> None:
        raw_channel = data.get("channel")
        # Repeated in two frames: in part only, or a 16 KiB name would cost the server 48 KiB to answer.
        shown = excerpt(raw_channel) if isinstance(raw_channel, str) else ""
        try:
            try:
                channel = parse_channel(raw_channel)
            except InvalidName as exc:
                raise _Refusal(f"Invalid channel name '{shown}'", 400) from exc
            if channel.name in connection.subscriptions:
                raise FrameError(f"Existing subscription to channel {channel.name}")
            limit = self.config.max_subscriptions_per_connection
            if 0 < limit <= len(connection.subscriptions):
                raise _Refusal(f"Too many subscriptions on this connection (at most {limit})", 429)
            member = self._authorize(connection, channel, data)
        except _Refusal as refusal:
            self._reject(connection, shown, refusal.reason, refusal.status)
            return
        name = channel.name
        connection.subscriptions[name] = member
        joined = self.hub.join(name, connection.socket_id, member)
        if joined.occupied:
            self._webhooks.append(webhooks.channel_occupied(name))
        snapshot = None if member is None else self.hub.presence_snapshot(name)
        self._send([connection.socket_id], messages.subscription_succeeded(name, snapshot))
        if member is not None and joined.member_added:
            others = [s for s in self.hub.subscribers(name) if s != connection.socket_id]
            self._send(others, messages.member_added(name, member))
            self._webhooks.append(webhooks.member_added(name, member.user_id))
        if channel.cached:
            self._replay_cache(connection.socket_id, name, now)
        self._count_changed(channel, now)

    def _authorize(
        self, connection: Connection, channel: ChannelName, data: dict[str, object]
    ) -> PresenceMember | None:
        """The presence member this subscription joins as (None off presence), or `_Refusal`."""
        name = channel.name
        if channel.kind is ChannelKind.SERVER_TO_USER:
            user = connection.user
            if user is None or user.user_id != channel.user_id:
                raise _Refusal(f"Connection is not signed in as user {channel.user_id}", 403)
            return None
        if not channel.needs_auth:
            return None
        channel_data = data.get("channel_data")
        if channel_data is not None and not isinstance(channel_data, str):
            raise _Refusal("channel_data must be a string", 400)
        presence = channel.kind is ChannelKind.PRESENCE
        signed = channel_data if presence else None
        string_to_sign = channel_string_to_sign(connection.socket_id, name, signed)
        problem = auth_problem(self.config, name, data.get("auth"), string_to_sign)
        if problem is not None:
            raise _Refusal(problem, 401)
        if not presence:
            return None
        if channel_data is None:
            # A signed-in connection may join presence without channel_data: it joins as its user.
            if connection.user is None:
                raise _Refusal("Presence subscription requires channel_data", 400)
            member = PresenceMember(connection.user.user_id, connection.user.user_info)
        else:
            parsed = messages.parse_channel_data(channel_data)
            if parsed is None:
                raise _Refusal("Invalid channel_data: user_id is required", 400)
            member = parsed
        problem = messages.presence_member_problem(member)
        if problem is not None:
            raise _Refusal(problem, 400)
        limit = self.config.max_presence_members
        if self.hub.user_count(name) >= limit and not self.hub.has_member(name, member.user_id):
            raise _Refusal(f"Presence channel {name} is full ({limit} members)", 403)
        return member

    def _reject(self, connection: Connection, channel: str, reason: str, status: int) -> None:
        """Refuse a subscription and keep the connection.

        Real Pusher answers with `pusher:error` (code null); soketi with `pusher:subscription_error`,
        which pusher-js hands to the channel's error listeners. Both are sent so that either style of
        client code sees the refusal.
        """
        self._error(connection.socket_id, reason)
        self._send([connection.socket_id], messages.subscription_error(channel, reason, status))

    def _leave(self, connection: Connection, name: str, now: float) -> None:
        member = connection.subscriptions.pop(name)
        user_id = None if member is None else member.user_id
        left = self.hub.leave(name, connection.socket_id, user_id)
        if left.member_removed and user_id is not None:
            self._send(self.hub.subscribers(name), messages.member_removed(name, user_id))
            self._webhooks.append(webhooks.member_removed(name, user_id))
        if left.vacated:
            self._webhooks.append(webhooks.channel_vacated(name))
            # Nothing about a channel outlives its last subscriber but its cached event.
            self._cache_miss_reported.discard(name)
        self._count_changed(parse_channel(name), now)

    def _unsubscribe(self, connection: Connection, data: dict[str, object], now: float) -> None:
        name = data.get("channel")
        # Unsubscribing from a channel one is not in is a no-op for Pusher: there is no reply at all.
        if isinstance(name, str) and name in connection.subscriptions:
            self._leave(connection, name, now)

    # ---- subscription counting ------------------------------------------------------------------

    def _count_changed(self, channel: ChannelName, now: float) -> None:
        if not self.config.enable_subscription_count or channel.kind in _NOT_COUNTED:
            return
        count = self.hub.subscription_count(channel.name)
        if self._counts.changed(channel.name, count, now):
            self._send_count(channel.name, count)

    def _send_count(self, name: str, count: int) -> None:
        self._send(self.hub.subscribers(name), messages.subscription_count(name, count))
        self._webhooks.append(webhooks.subscription_count(name, count))

    def next_count_due(self) -> float | None:
        """When `send_due_counts` has a count held back by the 5-second throttle to send (None: none)."""
        return self._counts.next_due()

    def send_due_counts(self, now: float) -> None:
        """Send the subscription counts the throttle held back until `now`, as they are now."""
        # A channel emptied meanwhile is no longer held back (see `SubscriptionCounter.changed`).
        for name in self._counts.due(now):
            self._send_count(name, self.hub.subscription_count(name))

    def _replay_cache(self, socket_id: str, name: str, now: float) -> None:
        cached = self.hub.cache_get(name, now)
        if cached is not None:
            self._send([socket_id], messages.channel_event(cached.event, name, cached.data))
            return
        self._send([socket_id], messages.cache_miss(name))
        if name not in self._cache_miss_reported:
            self._cache_miss_reported.add(name)
            self._webhooks.append(webhooks.cache_miss(name))

    # ---- sign-in ----------------------------------------------------------------------------------

    def _signin(self, connection: Connection, data: dict[str, object]) -> None:
        user = verify_signin(self.config, connection.socket_id, data)
        if connection.user is not None and connection.user.user_id != user.user_id:
            raise FrameError("Connection is already signed in as a different user")
        connection.user = user
        self._users.setdefault(user.user_id, {})[connection.socket_id] = None
        self._send([connection.socket_id], messages.signin_success(user.user_data))

    # ---- client events --------------------------------------------------------------------------

    def _client_event(self, connection: Connection, message: ClientMessage, now: float) -> None:
        if not self.config.enable_client_events:
            raise FrameError(
                "To send client events, you must enable this feature in the Settings page of your dashboard."
            )
        name = message.channel
        if name is None or name not in connection.subscriptions:
            raise FrameError(
                f"Cannot broadcast client event (connection not subscribed to channel {excerpt(name)})"
            )
        # A subscribed channel's name was parsed when it was joined: it parses again.
        if not parse_channel(name).allows_client_events:
            raise FrameError("Client event rejected - only supported on private and presence channels")
        if not is_valid_event_name(message.event):
            raise FrameError("Client event rejected - event name is too long")
        if len(messages.dumps(message.data).encode()) > self.config.max_data_bytes:
            raise FrameError(f"Client event rejected - data exceeds {self.config.max_data_bytes} bytes")
        if not connection.allow_client_event(now):
            raise FrameError("Client event rejected due to rate limit", CloseCode.CLIENT_EVENT_RATE_LIMIT)
        member = connection.subscriptions[name]
        user_id = None if member is None else member.user_id
        others = [s for s in self.hub.subscribers(name) if s != connection.socket_id]
        self._send(others, messages.channel_event(message.event, name, message.data, user_id))
        self._webhooks.append(
            webhooks.client_event(name, message.event, message.data, connection.socket_id, user_id)
        )

    # ---- publishing (HTTP API) ------------------------------------------------------------------

    def publish(
        self, event: str, channels: Iterable[str], data: str, exclude: str | None, now: float
    ) -> None:
        """Deliver an HTTP API event to every subscriber of each channel but `exclude`."""
        for name in channels:
            if name.startswith(SERVER_TO_USER_PREFIX):
                user_id = name.removeprefix(SERVER_TO_USER_PREFIX)
                recipients = list(self._users.get(user_id, ()))
            else:
                recipients = self.hub.subscribers(name)
            if exclude is not None and exclude in recipients:
                recipients.remove(exclude)
            self._send(recipients, messages.channel_event(event, name, data))
            # `_parse_event` checked every name before anything was published.
            if parse_channel(name).cached:
                self.hub.cache_put(name, event, data, now + self.config.cache_ttl)
                self._cache_miss_reported.discard(name)

    def terminate_user(self, user_id: str, now: float) -> int:
        """Close every connection signed in as `user_id` (4009, so pusher-js does not retry)."""
        sockets = list(self._users.get(user_id, ()))
        reason = "You got disconnected by the app."
        for socket_id in sockets:
            self._error(socket_id, reason, CloseCode.UNAUTHORIZED)
            self.close(socket_id, CloseCode.UNAUTHORIZED, reason, now)
        return len(sockets)
