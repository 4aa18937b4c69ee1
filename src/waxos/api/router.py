"""Every router of the API, included in one place."""

from __future__ import annotations

from fastapi import FastAPI

from waxos.api import auth, console, events, health, operations, pusher_auth, realtime


def include_routers(app: FastAPI) -> None:
    """Mount all routers, and the static files, on `app`."""
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(pusher_auth.router)
    app.include_router(realtime.router)
    app.include_router(events.router)
    app.include_router(operations.router)
    app.include_router(console.router)
    console.mount_static(app)
