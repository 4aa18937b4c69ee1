"""Health endpoints: liveness (the process answers) and readiness (the database answers)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from waxos.api.deps import SessionsDep

router = APIRouter(prefix="/health", tags=["health"])

READY_TIMEOUT_SECONDS = 2.0


@router.get("/live", summary="The process is up")
async def live() -> dict[str, str]:
    """Always 200 while the process serves requests."""
    return {"status": "ok"}


@router.get("/ready", summary="The service can serve requests", responses={503: {"description": "not ready"}})
async def ready(sessions: SessionsDep) -> JSONResponse:
    """200 when the database answers within two seconds, else 503.

    Pusher's reachability is deliberately not part of readiness: events wait in the log while it is
    down (decision D2), so taking the API out of rotation would only add an outage.
    """
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to answer means not ready
        return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
