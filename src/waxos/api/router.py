"""Every router of the API, included in one place."""

from __future__ import annotations

from fastapi import FastAPI

from waxos.api import health


def include_routers(app: FastAPI) -> None:
    """Mount all routers on `app`."""
    app.include_router(health.router)
