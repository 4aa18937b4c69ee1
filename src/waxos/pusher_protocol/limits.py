"""Pusher Channels' numbers: the one place each is written; every other module imports it from here.

The values are the documented ones (shared reference `pusher-protocol.md` §2, "Limits"). Where the
official server SDKs are laxer than the documentation (they let 200-character channel names and user ids
through), the documentation wins: the local server stands in for Pusher, so a name it accepts must be one
Pusher accepts. WAXOS's own, stricter limits live beside the reason for them, not here.
"""

from __future__ import annotations

# Channel names count their prefix (`private-`, `presence-`...).
MAX_CHANNEL_NAME_LENGTH = 164
# Not in Pusher's current reference; every official SDK refuses longer ones, so no client sends them.
MAX_EVENT_NAME_LENGTH = 200
# Of an event's `data` string as sent (for encrypted channels: the sealed JSON); Pusher answers 413 above.
MAX_DATA_BYTES = 10_240
MAX_CHANNELS_PER_TRIGGER = 100
MAX_BATCH_EVENTS = 10
MAX_PRESENCE_MEMBERS = 100
# A presence member's `user_info`, encoded as JSON.
MAX_PRESENCE_USER_INFO_BYTES = 1_024
# A presence `user_id` or a signed-in user's `id`.
MAX_USER_ID_LENGTH = 128
CLIENT_EVENTS_PER_SECOND = 10
