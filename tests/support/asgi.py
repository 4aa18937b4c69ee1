"""Drive an ASGI app in-process with its real lifespan: `async with asgi_client(app) as client`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI


@asynccontextmanager
async def asgi_client(
    app: FastAPI, base_url: str = "http://waxos.test", address: tuple[str, int] = ("127.0.0.1", 123)
) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan, then yield an httpx client that calls it without a socket,
    from `address` (the client address the app sees)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=address)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
