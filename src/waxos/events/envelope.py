"""The envelope: what subscribers and catch-up receive for one logged event, its size check and its id."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from waxos.pusher_protocol.limits import MAX_DATA_BYTES
from waxos.pusher_protocol.names import ChannelKind, ChannelName


class EventTooLarge(ValueError):
    """An envelope that would exceed Pusher's 10,240-byte limit once encoded; nothing was logged."""


class Envelope(BaseModel):
    """What every subscriber and the catch-up endpoint receive for one logged event."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Unique and time-sortable (UUIDv7): the deduplication key")
    type: str = Field(description="The catalogued `resource.action`, also the Pusher event name")
    channel: str = Field(description="The Pusher channel it was published on; `seq` counts per channel")
    seq: PositiveInt = Field(description="Gapless per channel, starting at 1")
    occurred_at: datetime = Field(description="UTC; for display only, never for ordering")
    workspace_id: PositiveInt | None = Field(
        default=None, description="The workspace of a workspace channel; null on user channels"
    )
    data: dict[str, Any] = Field(description="The event's payload, as listed per event below")

    def encode(self) -> str:
        """The compact JSON sent to Pusher and served by catch-up."""
        return json.dumps(
            self.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )


def check_size(channel: ChannelName, encoded: str) -> None:
    """Refuse an envelope whose `data`, as Pusher will receive it, exceeds 10,240 bytes."""
    size = len(encoded.encode("utf-8"))
    if channel.kind is ChannelKind.ENCRYPTED:
        # End-to-end encryption sends {"nonce": base64(24 bytes), "ciphertext": base64(secretbox)}: the
        # limit applies to that, so count what it will weigh rather than the plaintext.
        ciphertext = 4 * -(-(size + 16) // 3)
        size = len(json.dumps({"nonce": "x" * 32, "ciphertext": "x" * ciphertext}))
    if size > MAX_DATA_BYTES:
        raise EventTooLarge(
            f"the envelope for {channel.name} is {size} bytes once encoded; Pusher accepts at most "
            f"{MAX_DATA_BYTES}: send ids and fetch the rest through the API"
        )


class _Uuid7:
    """UUIDv7 (RFC 9562): 48-bit milliseconds then randomness, monotonic within this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def __call__(self) -> str:
        with self._lock:
            # A counter in the random bits keeps ids of one millisecond in creation order.
            value = max(
                time.time_ns() // 1_000_000 << 74 | int.from_bytes(os.urandom(10)) >> 6, self._last + 1
            )
            self._last = value
        millis, rest = value >> 74, value & ((1 << 74) - 1)
        rand_a, rand_b = rest >> 62, rest & ((1 << 62) - 1)
        return str(uuid.UUID(int=millis << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b))


new_event_id = _Uuid7()
