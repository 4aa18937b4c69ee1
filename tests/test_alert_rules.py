"""The shipped alert rules name only metrics the service really exports."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.publisher.test_publisher import make_settings
from tests.support.asgi import asgi_client
from waxos.app import create_app
from waxos.db.migrate import upgrade

RULES = Path(__file__).resolve().parents[1] / "deploy" / "prometheus" / "alerts.yml"
# Metric names in PromQL: our prefix; `up` comes from Prometheus itself.
METRIC = re.compile(r"\b(waxos_[a-z_]+)\b")


def test_rules_parse_and_every_rule_has_an_expression_and_summary() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} >= {
        "WaxosDown",
        "WaxosPublishFailureRateHigh",
        "WaxosRelayBehind",
        "WaxosRelayNotRunning",
    }
    for rule in rules:
        assert rule["expr"].strip() and rule["annotations"]["summary"]


async def test_every_metric_in_the_rules_is_exported(tmp_path: Path) -> None:
    named = set(METRIC.findall(RULES.read_text()))
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    await upgrade(url)
    settings = make_settings(database_url=url)
    async with asgi_client(create_app(settings)) as client:
        exported = (await client.get("/metrics")).text
    families = {line.split()[2] for line in exported.splitlines() if line.startswith("# TYPE")}
    # Counters are exported as `name_total`; the TYPE line names the family without the suffix.
    samples = families | {f"{name}_total" for name in families}
    assert named, "the rules name no metric"
    assert named <= samples, f"rules name metrics the service does not export: {sorted(named - samples)}"
