"""Opaque cursors for newest-first lists: the client passes back what it was given, never builds one."""

from __future__ import annotations

import base64
import binascii
import json

from waxos.inbox.errors import Unprocessable

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(last_id: int) -> str:
    """The cursor for the page after the row `last_id`."""
    raw = json.dumps({"before": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The row id a cursor continues before, None for the first page; `Unprocessable` if it is not ours."""
    if cursor is None:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        before = decoded["before"]
    except (binascii.Error, ValueError, TypeError, KeyError, RecursionError) as exc:
        raise Unprocessable("invalid_cursor", "the cursor is not one this API returned") from exc
    if isinstance(before, bool) or not isinstance(before, int) or before < 1:
        raise Unprocessable("invalid_cursor", "the cursor is not one this API returned")
    return before
