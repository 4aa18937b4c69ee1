"""The console end to end, as a newcomer sees it: two staff of Acme and one of Globex, each in their own
browser (real Chromium) on the stack `scripts/run` starts. A message posted from one Acme console arrives
live in the other's; presence and usage show both; Globex may not follow Acme's channel; /metrics counts it
all.

With WAXOS_CONSOLE_SCREENSHOTS=DIR set, it also saves a screenshot of every page there (docs/console/ holds
the ones the README shows)."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.accounts import FAST_HASHER, TEST_PASSWORD, migrated
from tests.support.browser import browser, offline_context
from tests.support.run_stack import inbox_stack
from waxos.auth.seed import seed_demo
from waxos.db.engine import transaction

MARKUP = '<img src=x onerror="window.__xss = 1">Hi, my order <b>#42</b> is late'
SHOTS = os.environ.get("WAXOS_CONSOLE_SCREENSHOTS")


async def console(launched: Any, base: str, email: str, path: str) -> Any:
    """A new browser context (a person), signed in as `email`, on `path`."""
    context = await offline_context(launched, viewport={"width": 1360, "height": 860})
    page = await context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    await page.goto(base + path)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(re.escape(path.split("?")[0])))
    await page.locator(".badge.state-live").wait_for(timeout=30_000)
    return page


async def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def metric_samples(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_message_posted_in_one_console_arrives_live_in_another(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"
    async with migrated(database_url) as (_, sessions), transaction(sessions) as session:
        await seed_demo(session, TEST_PASSWORD, FAST_HASHER)
    settings = {"WAXOS_USAGE_SAMPLE_SECONDS": "0.5", "WAXOS_USAGE_ROLLUP_SECONDS": "0.5"}
    with inbox_stack(database_url, tmp_path, **settings) as stack:
        base = stack.api
        async with browser() as launched:
            acme = 1
            chats = f"private-workspace-{acme}.chats"
            alan = await console(launched, base, "agent@acme.test", f"/console/live?channel={chats}")
            gil = await console(
                launched, base, "admin@globex.test", "/console/live?channel=private-workspace-2.chats"
            )
            ada = await console(launched, base, "admin@acme.test", "/console/inbox")

            # Ada starts a chat and posts the customer's message, markup and all, through the Inbox page.
            await ada.get_by_label("Customer").fill("Dana Customer")
            await ada.get_by_label("Handle").fill("+1 555 0100")
            await ada.get_by_role("button", name="New chat").click()
            await ada.get_by_role("textbox", name="Message").fill(MARKUP)
            await ada.get_by_role("button", name="Send").click()
            posted = ada.locator(".message.inbound").filter(has_text=MARKUP)
            await posted.wait_for()
            # Rendered as text, not markup: no element came of it (the CSP would block the script anyway).
            assert await posted.locator("img, b").count() == 0

            # It arrives live on Alan's console.
            arrived = alan.locator(".log .rows .row").filter(has_text="message.new")
            await arrived.first.wait_for(timeout=15_000)
            assert await arrived.first.locator(".via").inner_text() == "live"
            # The counters (refreshed every 0.5 s) count what the rows show: chat.new and message.new.
            await alan.wait_for_function(
                "() => document.querySelector('[data-testid=received]').textContent === '2'", timeout=5_000
            )
            await shot(alan, "live")
            await shot(ada, "inbox")

            # Globex may not follow Acme's channel.
            await gil.get_by_role("combobox").first.select_option("__other__")
            await gil.get_by_label("Name").fill(chats)
            await gil.get_by_role("button", name="Follow").click()
            await gil.get_by_role("alert").filter(has_text="refused").wait_for(timeout=15_000)

            # Presence: both Acme consoles are online in Acme; Globex's admin is not listed there.
            await ada.get_by_role("link", name="Presence").click()
            acme_people = ada.get_by_label("Acme members")
            for name in ("Ada Admin", "Alan Agent"):
                await acme_people.locator("li.online").filter(has_text=name).wait_for(timeout=20_000)
            assert await acme_people.filter(has_text="Gil Globex").count() == 0
            await shot(ada, "presence")

            # Usage: the chat message and the connections are counted.
            await ada.get_by_role("link", name="Usage").click()
            for _ in range(60):
                await ada.get_by_role("button", name="Refresh").click()
                await asyncio.sleep(0.3)
                text = await ada.locator("[data-testid=chat-messages-today]").inner_text()
                if text == "1" and int(await ada.locator("[data-testid=connections-now]").inner_text()) >= 2:
                    break
                await asyncio.sleep(0.5)
            assert await ada.locator("[data-testid=chat-messages-today]").inner_text() == "1"
            assert int(await ada.locator("[data-testid=connections-now]").inner_text()) >= 2
            await shot(ada, "usage")

            # The operator sees the relay that delivered it, and every workspace's usage.
            olga = await console(launched, base, "operator@waxos.test", "/console/relay")
            await olga.get_by_text("Closed — publishing").wait_for(timeout=20_000)
            await olga.locator("td.mono").filter(has_text=chats).first.wait_for()
            await shot(olga, "relay")
            await olga.get_by_role("link", name="Usage").click()
            await olga.locator("tr[data-workspace]").filter(has_text="Globex").wait_for()
            await ada.get_by_role("link", name="Publish").click()
            await ada.get_by_label("chat_id").fill("1")
            await ada.get_by_label("message_id").fill("1")
            await ada.get_by_role("button", name="Send event").click()
            await ada.get_by_text("Logged as seq").wait_for()
            await shot(ada, "publish")

            for page in (alan, gil, ada, olga):
                assert await page.evaluate("() => window.__xss") is None
                assert page.errors == []
            counted = metric_samples(base)  # while everyone is still connected
    auth = "waxos_channel_auth_decisions_total"
    assert counted[(auth, (("endpoint", "auth"), ("outcome", "allowed"), ("reason", "member")))] >= 3
    assert counted[(auth, (("endpoint", "auth"), ("outcome", "denied"), ("reason", "not_a_member")))] >= 1
    assert counted[("waxos_relay_delivered_events_total", ())] >= 1
    assert counted[("waxos_workspace_connections", (("workspace", str(acme)),))] >= 2
