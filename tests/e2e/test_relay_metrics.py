"""A standalone `waxos relay` serves its own /metrics: relay, publisher and usage metrics, on its port."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.accounts import migrated
from tests.support.environment import free_port
from tests.support.realtime_stack import server_env, wait_for_port, waxos_process


async def test_waxos_relay_serves_metrics_on_its_own_port(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}"
    async with migrated(database_url):
        pass
    port = free_port()
    env = server_env(database_url, free_port(), WAXOS_PLAN_MAX_CONNECTIONS="123")
    with waxos_process("relay", "--metrics-port", str(port), env=env) as process:
        wait_for_port(port)
        deadline = time.monotonic() + 20
        while True:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            values = {
                sample.name: sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
            }
            if values.get("waxos_relay_running") == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert process.poll() is None
    assert values["waxos_relay_running"] == 1
    assert values["waxos_plan_max_connections"] == 123
    assert "waxos_relay_backlog_events" in values
    assert "waxos_publish_failure_ratio" in values
