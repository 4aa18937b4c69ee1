"""A `pusher` SDK backend that hands each signed request straight to the pure HTTP API core.

The official Python SDK builds, signs and encodes every request exactly as it would for the network;
only the socket is skipped. So the core is tested against the SDK's real wire format.
"""

from __future__ import annotations

import time
from typing import Any

import pusher
from pusher.http import process_response

from tests.pusher_protocol.helpers import APP_ID, KEY, SECRET, Harness
from waxos.pusher_protocol import HttpRequest, handle_http


class CoreBackend:
    """Routes `send_request` into `handle_http` of the harness's app at the harness's time."""

    harness: Harness

    def __init__(self, client: Any, **options: Any) -> None:
        self.client = client

    def send_request(self, request: Any) -> Any:
        http = HttpRequest(request.method, request.path, request.query_string, request.body or b"")
        response = handle_http(self.harness.app, http, self.harness.now)
        self.harness.pump()
        return process_response(response.status, response.body.decode())


def sdk_client(harness: Harness, **overrides: Any) -> pusher.Pusher:
    """An official SDK client wired to `harness` through `CoreBackend`."""
    # The SDK signs with the wall clock, so the app is driven at that time too.
    harness.now = time.time()
    backend = type("BoundCoreBackend", (CoreBackend,), {"harness": harness})
    options: dict[str, Any] = {"app_id": APP_ID, "key": KEY, "secret": SECRET}
    options.update(host="127.0.0.1", port=6001, ssl=False, backend=backend)
    options.update(overrides)
    return pusher.Pusher(**options)
