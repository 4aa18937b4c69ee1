"""What can go wrong in the inbox: the package's error tree (`waxos.api.errors` turns it into HTTP)."""

from __future__ import annotations

from typing import Any


class InboxError(Exception):
    """Base of the inbox's errors: a stable machine `code`, a human message, and extra fields."""

    def __init__(self, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields


class NotFound(InboxError):
    """No such thing for this caller: missing, or in a workspace they are not in (never said which)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what}_not_found", f"no such {what.replace('_', ' ')}")


class Forbidden(InboxError):
    """The caller may see the thing but not do this to it (e.g. an agent doing an admin's job)."""


class Conflict(InboxError):
    """The request contradicts the current state: an invalid transition, a duplicate, a last admin."""


class Unprocessable(InboxError):
    """The request names something that cannot be used here, e.g. an assignee who is not a member."""


class Gone(InboxError):
    """The thing was the caller's but can no longer be used (an expired invitation)."""


class TooLarge(InboxError):
    """A text longer than the inbox stores."""
