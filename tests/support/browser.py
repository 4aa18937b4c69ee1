"""Real Chromium for browser tests: Playwright driving Debian's `chromium`, kept off the network.

Playwright's own browser download needs the internet, so tests launch the system Chromium by path
(`require_chromium`); every request to a host other than the loopback is aborted, so a page that reached
for a CDN would fail here as it would for an offline user.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from tests.support.environment import require_chromium

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@asynccontextmanager
async def browser() -> AsyncIterator[Any]:
    """A headless Chromium (Playwright's `Browser`); closed afterwards."""
    executable = require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


async def offline_context(launched: Any, **options: Any) -> Any:
    """A new isolated context (one user) whose requests may reach only the loopback interface."""
    context = await launched.new_context(**options)

    async def only_loopback(route: Any) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host in LOOPBACK or route.request.url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            await route.abort("blockedbyclient")

    await context.route("**/*", only_loopback)
    return context
