"""Whether Pusher accepts our credentials: one signed read call, described in one line.

Used by `waxos check` and at start-up, where credentials Pusher refuses stop the process (they would
otherwise fail every publish while the API looked healthy) and an unreachable Pusher only warns (D2).
"""

from __future__ import annotations

from dataclasses import dataclass

from waxos.config import Settings
from waxos.publisher.results import FailureKind, PusherResult
from waxos.publisher.service import PusherService

_REASONS = {
    FailureKind.UNREACHABLE: "unreachable",
    FailureKind.TIMEOUT: "timeout",
    FailureKind.UNAUTHORIZED: "bad credentials",
    FailureKind.RATE_LIMITED: "rate limited",
    FailureKind.SERVER_ERROR: "server error",
}


class CredentialsRefused(Exception):
    """Pusher answered that our app id, key or secret is wrong."""


@dataclass(frozen=True, slots=True)
class CredentialCheck:
    """The outcome of the call and its one-line description."""

    result: PusherResult
    line: str

    @property
    def refused(self) -> bool:
        """Pusher answered, and refused our credentials or app id (no retry can help)."""
        return self.result.failure is FailureKind.UNAUTHORIZED or self.result.status == 404


async def check_credentials(service: PusherService, settings: Settings) -> CredentialCheck:
    """Make one signed read call (`GET /apps/{id}/channels`) and describe its outcome."""
    result = await service.channels_info()
    where = f"{settings.pusher_api_host}:{settings.pusher_api_port} app {settings.pusher_app_id}"
    if result.ok:
        channels = result.body.get("channels")
        occupied = len(channels) if isinstance(channels, dict) else 0
        line = (
            f"ok: {where} accepted our signed request in {result.duration_ms:.0f} ms "
            f"({occupied} occupied channel(s))"
        )
    else:
        failure = result.failure or FailureKind.SERVER_ERROR
        reason = "unknown app" if result.status == 404 else _REASONS.get(failure, "failed")
        line = f"failed: {reason}: {where}: {result.reason}"
    return CredentialCheck(result, line)
