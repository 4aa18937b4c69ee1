"""What a call to the Pusher HTTP API came to: a typed result, never an exception for transport faults."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from waxos.publisher.transport import RawResponse, TransportError, TransportFailure


class FailureKind(enum.StrEnum):
    """Why a call failed, in the terms a caller acts on (retry, fix credentials, fix input)."""

    INVALID = "invalid"  # 400, 404, 413: Pusher refused the request (the relay retries all but 400)
    UNAUTHORIZED = "unauthorized"  # 401, 403: credentials or app id are wrong
    RATE_LIMITED = "rate_limited"  # 429: retry after the delay the server gave
    SERVER_ERROR = "server_error"  # 5xx or an unreadable answer: retry later
    TIMEOUT = "timeout"  # no answer within the configured timeout
    UNREACHABLE = "unreachable"  # refused, DNS failure, reset


@dataclass(frozen=True, slots=True)
class PusherResult:
    """The outcome of one HTTP API call (a publish or a read)."""

    ok: bool
    failure: FailureKind | None = None
    status: int | None = None
    reason: str | None = None
    duration_ms: float = 0.0
    retry_after_seconds: float | None = None
    body: dict[str, Any] = field(default_factory=dict)
    events: int = 0


def combined(results: Sequence[PusherResult]) -> PusherResult:
    """One result for the requests of one split call: the first failure (saying how many failed), else ok."""
    failed = [result for result in results if not result.ok]
    first = failed[0] if failed else results[0]
    if len(results) == 1:
        return first
    reason = first.reason
    if failed:
        reason = f"{len(failed)} of {len(results)} requests failed; the first: {first.reason}"
    return replace(
        first,
        reason=reason,
        duration_ms=max(result.duration_ms for result in results),
        events=sum(result.events for result in results),
    )


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The outcome of `trigger_batch`: one `PusherResult` per request of at most 10 events, in order."""

    chunks: tuple[PusherResult, ...]

    @property
    def ok(self) -> bool:
        """True when every request succeeded."""
        return all(chunk.ok for chunk in self.chunks)


_STATUS_KINDS = {
    400: FailureKind.INVALID,
    404: FailureKind.INVALID,
    413: FailureKind.INVALID,
    401: FailureKind.UNAUTHORIZED,
    403: FailureKind.UNAUTHORIZED,
    429: FailureKind.RATE_LIMITED,
}


def from_response(response: RawResponse, duration_ms: float, events: int = 0) -> PusherResult:
    """Classify an HTTP answer."""
    if response.status in (200, 202):
        try:
            body = json.loads(response.text) if response.text.strip() else {}
        except ValueError:
            return PusherResult(
                False,
                FailureKind.SERVER_ERROR,
                response.status,
                "the server answered 200 with a body that is not JSON",
                duration_ms=duration_ms,
                events=events,
            )
        if not isinstance(body, dict):
            return PusherResult(
                False,
                FailureKind.SERVER_ERROR,
                response.status,
                "the server answered 200 with JSON that is not an object",
                duration_ms=duration_ms,
                events=events,
            )
        return PusherResult(True, status=response.status, duration_ms=duration_ms, body=body, events=events)
    kind = _STATUS_KINDS.get(response.status, FailureKind.SERVER_ERROR)
    reason = f"HTTP {response.status}: {response.text.strip()[:300] or '(empty body)'}"
    retry_after = _retry_after(response.retry_after) if kind is FailureKind.RATE_LIMITED else None
    return PusherResult(
        False,
        kind,
        response.status,
        reason,
        duration_ms=duration_ms,
        retry_after_seconds=retry_after,
        events=events,
    )


def from_transport_error(error: TransportError, duration_ms: float, events: int = 0) -> PusherResult:
    """Classify a call that got no HTTP answer."""
    kind = FailureKind.TIMEOUT if error.failure is TransportFailure.TIMEOUT else FailureKind.UNREACHABLE
    return PusherResult(False, kind, None, error.detail, duration_ms=duration_ms, events=events)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header given in seconds; an HTTP date or garbage is ignored."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 3600 else None
