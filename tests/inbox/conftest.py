"""The API on a seeded database for inbox tests, with a service token for the AI worker configured."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.inbox.helpers import SERVICE_TOKEN
from tests.support.accounts import Api, running_api
from tests.support.inbox import EventLog
from waxos.auth.service_tokens import service_token_digest


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(
        database_url, waxos_service_token_sha256=service_token_digest(SERVICE_TOKEN)
    ) as api:
        yield api


@pytest.fixture
def log(api: Api) -> EventLog:
    """The event log of `api`'s database."""
    return EventLog(api.sessions)
