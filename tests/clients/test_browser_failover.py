"""Done-when of issue 12, in real Chromium: with the primary provider killed, a browser following a channel
keeps receiving every event in order — polling, then live on the secondary."""

from __future__ import annotations

import asyncio
import json
import signal

import pytest

from tests.support.accounts import build_world, migrated
from tests.support.browser import browser, offline_context
from tests.support.environment import free_port, require_chromium, require_node
from tests.support.events import emit_messages
from tests.support.failover_drill import (
    SECONDARY_APP_ID,
    SECONDARY_KEY,
    SECONDARY_SECRET,
    DrillTiming,
    secondary_settings,
)
from tests.support.pages import page_server
from tests.support.realtime_stack import APP_ID, SECRET, api_in_thread, pusher_server_process
from tests.support.settings import PUSHER_KEY
from waxos.app import CLIENT_BUNDLE
from waxos.channels.names import private_workspace_channel

pytestmark = pytest.mark.needs_node

PAGE = """<!doctype html><meta charset="utf-8"><title>inbox</title>
<script type="module">
  import { connect } from "%(api)s/static/waxos-realtime.js";
  window.applied = []; window.states = [];
  connect({
    baseUrl: "%(api)s",
    token: %(token)s,
    onEvent: (e) => window.applied.push(e.seq),
    onState: (state, { provider }) => window.states.push([state, provider]),
    fallbackAfterMs: 1000, pollMs: 300, maxPollMs: 1200, switchDelayMs: 200,
  }).follow(%(channel)s);
</script>"""


async def test_a_browser_keeps_every_event_in_order_through_a_failover(database_url: str) -> None:
    require_chromium()
    require_node()
    if not CLIENT_BUNDLE.is_file():
        pytest.fail("src/waxos/static/waxos-realtime.js is not built: run scripts/setup")
    primary_port, secondary_port, page_port = free_port(), free_port(), free_port()
    origin = f"http://127.0.0.1:{page_port}"
    settings = {
        **secondary_settings(secondary_port, DrillTiming(failover_after=1.0, probe_every=0.3)),
        "waxos_cors_origins": origin,
    }
    async with migrated(database_url) as (_engine, sessions):
        world = await build_world(sessions)
        channel = private_workspace_channel(world.acme.id, "chats")
        with (
            pusher_server_process(secondary_port, SECONDARY_APP_ID, SECONDARY_KEY, SECONDARY_SECRET),
            pusher_server_process(primary_port, APP_ID, PUSHER_KEY, SECRET) as primary,
            api_in_thread(database_url, primary_port, **settings) as api,
        ):
            values = {
                "api": api,
                "token": json.dumps(world.token(world.acme_agent, minutes=30)),
                "channel": json.dumps(channel),
            }
            with page_server(PAGE % values, page_port):
                async with browser() as chromium:
                    context = await offline_context(chromium)
                    page = await context.new_page()
                    await page.goto(origin)
                    await page.wait_for_function("window.states?.some(([s]) => s === 'live')", timeout=20000)
                    await emit_messages(sessions, channel, 3)
                    await page.wait_for_function("window.applied.length === 3", timeout=20000)
                    primary.send_signal(signal.SIGKILL)
                    primary.wait()
                    for _ in range(10):
                        await emit_messages(sessions, channel, 1)
                        await asyncio.sleep(0.25)
                    await page.wait_for_function(
                        "window.states.some(([s, p]) => s === 'live' && p === 'secondary')", timeout=30000
                    )
                    await emit_messages(sessions, channel, 2)
                    await page.wait_for_function("window.applied.length >= 15", timeout=20000)
                    applied = await page.evaluate("window.applied")
                    states = await page.evaluate("window.states")
                    await context.close()
    assert applied == list(range(1, 16)), "every event once, in order"
    after_live = [state for state, _provider in states[[s for s, _ in states].index("live") + 1 :]]
    assert "polling" in after_live, states
    assert states[-1] == ["live", "secondary"], states
