"""The single error translator: every error a route lets escape becomes a JSON response here.

Body shape everywhere: `{"code": "...", "message": "...", **fields}`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from waxos.realtime.names import InvalidName
from waxos.realtime.publisher import PublishInvalid

logger = logging.getLogger(__name__)


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


async def _invalid_name(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(400, "invalid_name", str(exc))


async def _publish_invalid(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(400, "invalid_event", str(exc))


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
    app.add_exception_handler(InvalidName, _invalid_name)
    app.add_exception_handler(PublishInvalid, _publish_invalid)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(InterfaceError, _database_unavailable)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(OSError, _database_unavailable)
