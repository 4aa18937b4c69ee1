"""One client connection: whether it is let in, then its subscriptions, user, liveness and event budget.

Timers live in the adapter; this object only says when the next one is due (`next_deadline`) and what
to do when it fires (`on_deadline`), with the clock always passed in. That keeps the liveness rules
testable to the millisecond without sleeping.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from waxos.pusher_protocol.errors import CloseCode, excerpt
from waxos.pusher_protocol.messages import JsonValue, PresenceMember

SUPPORTED_PROTOCOL = 7


def connect_refusal(app_key: str, key: str, query: Mapping[str, str]) -> tuple[int, str] | None:
    """Why a connection to `/app/{key}?protocol=…` is refused (a close code and Pusher's reason), or None."""
    if key != app_key:
        return CloseCode.APP_NOT_FOUND, f"App key {excerpt(key)} not in this cluster"
    protocol = query.get("protocol")
    if protocol is None or protocol == "":
        return CloseCode.NO_PROTOCOL, "No protocol version supplied"
    # ASCII digits only: `str.isdigit` accepts '²', and `int` refuses it or a 5,000-digit string.
    if not (protocol.isascii() and protocol.isdigit()):
        return CloseCode.INVALID_VERSION, "Invalid version string format"
    if protocol.lstrip("0") != str(SUPPORTED_PROTOCOL):
        return CloseCode.UNSUPPORTED_PROTOCOL, f"Unsupported protocol version {excerpt(protocol, 20)}"
    return None


class Liveness(enum.Enum):
    """What a due deadline asks the connection's owner to do."""

    NOTHING = "nothing"
    PING = "ping"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class SignedInUser:
    """The user a connection signed in as with `pusher:signin`."""

    user_id: str
    user_info: JsonValue
    user_data: str


class Connection:
    """State of one socket, owned by `PusherApp`; holds no sockets and reads no clock."""

    __slots__ = (
        "_client_event_limit",
        "_client_events",
        "_ping_sent_at",
        "activity_timeout",
        "last_activity",
        "pong_timeout",
        "socket_id",
        "subscriptions",
        "user",
    )

    def __init__(
        self,
        socket_id: str,
        now: float,
        *,
        activity_timeout: float,
        pong_timeout: float,
        client_event_limit: int,
    ) -> None:
        self.socket_id = socket_id
        self.activity_timeout = activity_timeout
        self.pong_timeout = pong_timeout
        self.last_activity = now
        self._ping_sent_at: float | None = None
        self._client_event_limit = client_event_limit
        self._client_events: deque[float] = deque()
        # channel -> the presence member this connection joined as (None on other channel kinds)
        self.subscriptions: dict[str, PresenceMember | None] = {}
        self.user: SignedInUser | None = None

    def touch(self, now: float) -> None:
        """Any frame from the client proves it is alive, so it also answers an outstanding ping."""
        self.last_activity = now
        self._ping_sent_at = None

    def next_deadline(self) -> float:
        """When `on_deadline` should next run: the ping time, or the pong deadline after a ping."""
        if self._ping_sent_at is None:
            return self.last_activity + self.activity_timeout
        return self._ping_sent_at + self.pong_timeout

    def on_deadline(self, now: float) -> Liveness:
        """Ping an idle client once; close (4201) one that stayed silent after the ping."""
        if now < self.next_deadline():
            return Liveness.NOTHING
        if self._ping_sent_at is None:
            self._ping_sent_at = now
            return Liveness.PING
        return Liveness.CLOSE

    def allow_client_event(self, now: float) -> bool:
        """A sliding one-second window of at most `client_event_limit` events (0: unlimited)."""
        if self._client_event_limit <= 0:
            return True
        window = self._client_events
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self._client_event_limit:
            return False
        window.append(now)
        return True
