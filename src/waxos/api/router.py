"""Every router of the API, included in one place."""

from __future__ import annotations

from fastapi import FastAPI

from waxos.api import auth, console, events, health, operations, presence, pusher_auth, realtime
from waxos.api.openapi import event_producers
from waxos.inbox.routes import router as inbox_router
from waxos.webhooks.routes import router as webhooks_router


def include_routers(app: FastAPI) -> None:
    """Mount all routers, and the static files, on `app`."""
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(pusher_auth.router)
    app.include_router(realtime.router)
    app.include_router(events.router)
    app.include_router(operations.router)
    app.include_router(presence.router)
    app.include_router(console.router)
    console.mount_static(app)
    app.include_router(inbox_router)
    app.include_router(webhooks_router)


def all_event_producers() -> dict[str, list[str]]:
    """Each event type and the routes of the API that declare emitting it (for docs/events.md)."""
    app = FastAPI()
    include_routers(app)
    return event_producers(app)
