"""Close every test client a test left open, so no socket outlives its test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.pusher_client import PusherClient


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    while PusherClient.opened:
        await PusherClient.opened.pop().close()
