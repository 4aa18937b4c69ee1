"""The single error translator: every error a route lets escape becomes a JSON response here.

Body shape everywhere: `{"code": "...", "message": "...", **fields}`.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from typing import Any, cast

import asyncpg  # type: ignore[import-untyped]
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from waxos.auth.errors import InvalidCredentials, LoginBusy, LoginThrottled, NotAuthenticated
from waxos.events import ChannelRefused, EventTooLarge
from waxos.events.catchup import ResyncRequired
from waxos.inbox.errors import Conflict, Forbidden, Gone, InboxError, NotFound, TooLarge, Unprocessable
from waxos.publisher.service import PublishInvalid
from waxos.pusher_protocol.names import InvalidName
from waxos.webhooks.verify import Refusal, WebhookRefused

logger = logging.getLogger(__name__)

# The active provider's epoch, on every catch-up answer (D7); browsers may read it (see api/cors.py).
EPOCH_HEADER = "X-Realtime-Epoch"


class ApiError(Exception):
    """An error with its HTTP status, a stable machine `code`, a human `message` and extra fields."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **fields: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.fields = fields


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None, **fields: Any
) -> JSONResponse:
    """The JSON error body every failure uses."""
    return JSONResponse({"code": code, "message": message, **fields}, status_code=status, headers=headers)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    exc = cast(ApiError, exc)
    return error_response(exc.status, exc.code, exc.message, exc.headers, **exc.fields)


async def _not_authenticated(_request: Request, exc: Exception) -> JSONResponse:
    # A missing, malformed, forged or expired access token, or one whose user no longer exists.
    reason = cast(NotAuthenticated, exc).reason
    return error_response(401, "not_authenticated", reason, {"WWW-Authenticate": "Bearer"})


async def _invalid_credentials(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(401, "invalid_credentials", str(exc))


async def _login_busy(_request: Request, exc: Exception) -> JSONResponse:
    retry_after = cast(LoginBusy, exc).retry_after
    return error_response(
        503, "login_busy", str(exc), {"Retry-After": str(retry_after)}, retry_after=retry_after
    )


async def _login_throttled(_request: Request, exc: Exception) -> JSONResponse:
    retry_after = cast(LoginThrottled, exc).retry_after
    return error_response(
        429, "login_throttled", str(exc), {"Retry-After": str(retry_after)}, retry_after=retry_after
    )


async def _resync_required(_request: Request, exc: Exception) -> JSONResponse:
    exc = cast(ResyncRequired, exc)
    epoch = {} if exc.epoch is None else {"epoch": exc.epoch}
    return error_response(
        410,
        "resync_required",
        "the log cannot serve this position; reload state and continue from head",
        {EPOCH_HEADER: str(exc.epoch)} if exc.epoch is not None else None,
        reason=exc.reason,
        head=exc.head,
        **epoch,
    )


# The inbox's error kinds and their statuses; the error's own code and fields make the body.
_INBOX_STATUS: dict[type[InboxError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Unprocessable: 422,
    Gone: 410,
    TooLarge: 413,
}


async def _inbox_error(_request: Request, exc: Exception) -> JSONResponse:
    exc = cast(InboxError, exc)
    return error_response(_INBOX_STATUS[type(exc)], exc.code, exc.message, **exc.fields)


async def _webhook_refused(_request: Request, exc: Exception) -> JSONResponse:
    refusal = cast(WebhookRefused, exc).refusal
    status = 400 if refusal is Refusal.MALFORMED else 401
    return error_response(status, f"webhook_{refusal.value}", str(exc))


async def _invalid_name(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(400, "invalid_name", str(exc))


async def _publish_invalid(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(400, "invalid_event", str(exc))


async def _event_too_large(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(413, "event_too_large", str(exc))


async def _channel_refused(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(422, "channel_refused", str(exc))


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    exc = cast(RequestValidationError, exc)
    problems = [
        {"field": ".".join(str(part) for part in error["loc"][1:]) or "body", "problem": error["msg"]}
        for error in exc.errors()
    ]
    return error_response(422, "invalid_request", "the request is malformed", problems=problems)


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    exc = cast(StarletteHTTPException, exc)
    code = {
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
    }.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), exc.headers)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # A dead or unreachable database: the transaction was rolled back, nothing half-written.
    logger.error("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return error_response(
        503, "database_unavailable", "the database is unavailable; try again", {"Retry-After": "5"}
    )


# Socket errors that mean "cannot reach the database" when the driver raises them while connecting: the
# driver does not wrap them, so SQLAlchemy lets them through as they are.
_CONNECT_ERRORS = (ConnectionError, socket.gaierror, TimeoutError)
_DRIVER_MODULES = ("sqlalchemy.", "asyncpg.", "aiosqlite.")


def _from_database_driver(exc: BaseException) -> bool:
    """True when `exc` is a connection error raised inside the database driver or SQLAlchemy's pool."""
    if not isinstance(exc, _CONNECT_ERRORS):
        return False
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(_DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False


async def _os_error(request: Request, exc: Exception) -> JSONResponse:
    # Only the database's connection errors are 503; any other OSError (a file, another service) is a bug
    # or an outage this translator cannot name, so it is logged with its traceback and answered as 500.
    if _from_database_driver(exc):
        return await _database_unavailable(request, exc)
    logger.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "an internal error occurred")


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    # asyncpg reports a connection lost mid-statement as a plain DBAPIError that invalidated the
    # connection; that is the database being unavailable, not a bug.
    if cast(DBAPIError, exc).connection_invalidated:
        return await _database_unavailable(request, exc)
    logger.error("database error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "an internal error occurred")


def install_error_handlers(app: FastAPI) -> None:
    """Register the translator on `app`."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(NotAuthenticated, _not_authenticated)
    app.add_exception_handler(InvalidCredentials, _invalid_credentials)
    app.add_exception_handler(LoginThrottled, _login_throttled)
    app.add_exception_handler(LoginBusy, _login_busy)
    app.add_exception_handler(ResyncRequired, _resync_required)
    for inbox_error in _INBOX_STATUS:
        app.add_exception_handler(inbox_error, _inbox_error)
    app.add_exception_handler(WebhookRefused, _webhook_refused)
    app.add_exception_handler(InvalidName, _invalid_name)
    app.add_exception_handler(PublishInvalid, _publish_invalid)
    app.add_exception_handler(EventTooLarge, _event_too_large)
    app.add_exception_handler(ChannelRefused, _channel_refused)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(InterfaceError, _database_unavailable)
    app.add_exception_handler(DBAPIError, _database_error)
    # asyncpg's own connection errors, should one escape SQLAlchemy's wrapping while connecting.
    app.add_exception_handler(asyncpg.PostgresConnectionError, _database_unavailable)
    app.add_exception_handler(OSError, _os_error)
