"""The console in real Chromium, on the API served by uvicorn: sign-in, refusals, and the Publish form."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.accounts import FAST_HASHER, TEST_PASSWORD, migrated
from tests.support.browser import browser, offline_context
from tests.support.environment import free_port
from tests.support.realtime_stack import api_in_thread
from waxos.auth.seed import seed_demo
from waxos.db.engine import transaction


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"

    async def seed() -> None:
        async with migrated(database_url) as (_, sessions), transaction(sessions) as session:
            await seed_demo(session, TEST_PASSWORD, FAST_HASHER)

    asyncio.run(seed())
    with api_in_thread(database_url, free_port(), waxos_run_relay=False) as url:
        yield url


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    async with browser() as launched:
        yield launched


async def signed_in(chromium: Any, base_url: str, email: str, page_path: str = "/console/live") -> Any:
    """A page of a new browser context, signed in as `email` through the sign-in form."""
    context = await offline_context(chromium, viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    await page.goto(base_url + page_path)
    await page.wait_for_url("**/console/sign-in?next=*")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"**{page_path}")
    return page


async def test_a_page_without_a_session_goes_to_sign_in_and_comes_back(chromium: Any, base_url: str) -> None:
    context = await offline_context(chromium)
    page = await context.new_page()
    await page.goto(base_url + "/console/usage")
    await page.wait_for_url("**/console/sign-in?next=%2Fconsole%2Fusage")
    await page.get_by_label("Email").fill("admin@acme.test")
    await page.get_by_label("Password").fill("wrong password")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("alert").filter(has_text="invalid_credentials").wait_for()
    await page.get_by_label("Password").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/console/usage")
    await page.get_by_role("heading", name="Usage").wait_for()


async def test_operator_pages_refuse_a_workspace_admin(chromium: Any, base_url: str) -> None:
    page = await signed_in(chromium, base_url, "admin@acme.test", "/console/relay")
    await page.get_by_text("This page is for platform operators only.").wait_for()
    assert await page.locator(".problem-status").inner_text() == "403"
    assert await page.get_by_role("link", name="Relay").count() == 0
    answer = await page.evaluate(
        """async () => {
            const token = sessionStorage.getItem("waxos.console.token");
            const r = await fetch("/api/v1/ops/relay", {headers: {Authorization: `Bearer ${token}`}});
            return r.status;
        }"""
    )
    assert answer == 403


async def test_publish_checks_the_catalogue_shows_the_apis_error_and_logs_the_event(
    chromium: Any, base_url: str
) -> None:
    page = await signed_in(chromium, base_url, "admin@acme.test", "/console/publish")
    await page.get_by_label("chat_id").fill("0")
    await page.get_by_label("message_id").fill("7")
    await page.get_by_role("button", name="Send event").click()
    await page.get_by_text("greater than 0").wait_for()  # refused before sending
    # The raw editor lets anything through to the API, which answers with each field's problem.
    await page.get_by_role("button", name="Edit as JSON").click()
    await page.get_by_label("Payload (JSON)").fill('{"chat_id": 1, "message_id": 7, "direction": "up"}')
    await page.get_by_role("button", name="Send event").click()
    note = page.get_by_role("alert").filter(has_text="422")
    await note.wait_for()
    text = await note.inner_text()
    assert "invalid_event" in text and "direction" in text and "sender_type" in text
    await page.get_by_role("button", name="Back to the form").click()
    await page.get_by_label("chat_id").fill("3")
    await page.get_by_role("button", name="Send event").click()
    await page.get_by_text("Logged as seq 1").wait_for()
    assert page.errors == []


async def test_an_agent_is_not_offered_publish_and_is_refused_it(chromium: Any, base_url: str) -> None:
    page = await signed_in(chromium, base_url, "agent@acme.test", "/console/publish")
    await page.get_by_text("This page is for workspace admins only.").wait_for()
    names = await page.get_by_role("navigation").get_by_role("link").all_inner_texts()
    assert names == ["Live", "Inbox", "Presence"]
