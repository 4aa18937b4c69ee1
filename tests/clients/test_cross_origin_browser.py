"""In real Chromium: a page served from another origin than the API loads the client package from
`waxos serve`, signs in, subscribes through pusher-js and follows a channel; a page from an origin not in
WAXOS_CORS_ORIGINS is refused by the browser."""

from __future__ import annotations

import json

import pytest

from tests.support.accounts import build_world, migrated
from tests.support.browser import browser, offline_context
from tests.support.environment import free_port, require_chromium, require_node
from tests.support.events import emit_messages
from tests.support.local_pusher import running_local_pusher
from tests.support.pages import page_server
from tests.support.realtime_stack import SECRET, api_in_thread
from tests.support.settings import PUSHER_KEY
from waxos.app import CLIENT_BUNDLE
from waxos.channels.names import private_workspace_channel

pytestmark = pytest.mark.needs_node

# The page an app on its own origin would serve: the package from the API's /static, nothing else.
FOLLOWING_PAGE = """<!doctype html><meta charset="utf-8"><title>inbox</title>
<script type="module">
  import { connect } from "%(api)s/static/waxos-realtime.js";
  window.applied = []; window.states = []; window.errors = [];
  window.realtime = connect({
    baseUrl: "%(api)s",
    token: %(token)s,
    onEvent: (e, how) => window.applied.push([e.seq, how.source]),
    onState: (state) => window.states.push(state),
    onError: (error) => window.errors.push(String(error)),
    fallbackAfterMs: 10000,
  });
  window.realtime.follow(%(channel)s);
</script>"""

# A page on an origin that is not listed: the browser must not let it read the API.
REFUSED_PAGE = """<!doctype html><meta charset="utf-8"><title>elsewhere</title>
<script>
  fetch("%(api)s/api/v1/realtime/config", { headers: { Authorization: "Bearer " + %(token)s } })
    .then((r) => (window.outcome = "read " + r.status), (e) => (window.outcome = "refused: " + e.name));
</script>"""


async def test_a_listed_origin_follows_a_channel_and_another_origin_is_refused(database_url: str) -> None:
    require_chromium()
    require_node()  # the bundle is built by scripts/setup with npm
    if not CLIENT_BUNDLE.is_file():
        pytest.fail("src/waxos/static/waxos-realtime.js is not built: run scripts/setup")
    app_port = free_port()
    app_origin = f"http://127.0.0.1:{app_port}"
    async with migrated(database_url) as (_engine, sessions):
        world = await build_world(sessions)
        channel = private_workspace_channel(world.acme.id, "chats")
        token = json.dumps(world.token(world.acme_agent, minutes=30))
        with (
            running_local_pusher(key=PUSHER_KEY, secret=SECRET) as server,
            api_in_thread(database_url, server.port, waxos_cors_origins=app_origin) as api,
        ):
            values = {"api": api, "token": token, "channel": json.dumps(channel)}
            with (
                page_server(REFUSED_PAGE % values, free_port()) as other_origin,
                page_server(FOLLOWING_PAGE % values, app_port),
            ):
                async with browser() as chromium:
                    context = await offline_context(chromium)
                    page = await context.new_page()
                    await page.goto(app_origin)
                    await page.wait_for_function(
                        "window.states && window.states.includes('live')", timeout=20000
                    )
                    await emit_messages(sessions, channel, 3)
                    await page.wait_for_function("window.applied.length === 3", timeout=20000)
                    applied = await page.evaluate("window.applied")
                    signed_in = await page.evaluate("window.realtime.pusher.user.user_data?.id")
                    errors = await page.evaluate("window.errors")

                    refused = await context.new_page()
                    await refused.goto(other_origin)
                    await refused.wait_for_function("window.outcome !== undefined", timeout=10000)
                    outcome = await refused.evaluate("window.outcome")
                    await context.close()
    assert applied == [[1, "live"], [2, "live"], [3, "live"]]
    assert signed_in == str(world.acme_agent.id), "pusher:signin went through /api/v1/pusher/user-auth"
    assert errors == []
    assert outcome == "refused: TypeError"
