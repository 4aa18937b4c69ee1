"""End-to-end fixtures: the Node executable (skip, or fail under WAXOS_TEST_STRICT, without it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.e2e.node import NodeSubscriber
from tests.support.environment import require_node


@pytest.fixture
def node() -> str:
    """Path to `node` with the project's npm packages installed."""
    return require_node()


@pytest.fixture
async def pusher_js(node: str) -> AsyncIterator[Callable[..., Awaitable[NodeSubscriber]]]:
    """Start pusher-js subscribers with `await pusher_js(options)`; all are stopped afterwards."""
    started: list[NodeSubscriber] = []

    async def start(options: dict[str, Any], **kwargs: Any) -> NodeSubscriber:
        subscriber = await NodeSubscriber.start(node, options, **kwargs)
        started.append(subscriber)
        return subscriber

    yield start
    for subscriber in started:
        await subscriber.close()
