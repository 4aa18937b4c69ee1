"""The shipped alert rules: valid for Prometheus, unit-tested with promtool, naming only exported metrics."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.support.asgi import asgi_client
from tests.support.environment import require_promtool
from tests.support.settings import make_settings
from waxos.app import create_app
from waxos.db.migrate import upgrade

RULES = Path(__file__).resolve().parents[1] / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = RULES.with_name("alerts.test.yml")
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
        "WaxosConnectionsNearPlanLimit",
        "WaxosMessagesNearDailyLimit",
        "WaxosAuthDenialBurst",
        "WaxosWebhookVerificationFailures",
    }
    for rule in rules:
        assert rule["expr"].strip() and rule["annotations"]["summary"]


async def test_every_metric_in_the_rules_is_exported(tmp_path: Path) -> None:
    named = set(METRIC.findall(RULES.read_text()))
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    await upgrade(url)
    # With its relay: the usage gauges and plan limits are exported where the relay and its recorder run.
    settings = make_settings(database_url=url, waxos_run_relay=True)
    async with asgi_client(create_app(settings)) as client:
        exported = (await client.get("/metrics")).text
    families = {line.split()[2] for line in exported.splitlines() if line.startswith("# TYPE")}
    # Counters are exported as `name_total`; the TYPE line names the family without the suffix.
    samples = families | {f"{name}_total" for name in families}
    assert named, "the rules name no metric"
    assert named <= samples, f"rules name metrics the service does not export: {sorted(named - samples)}"


def _alerts(path: Path) -> set[str]:
    return {rule["alert"] for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]}


def test_promtool_accepts_the_rules() -> None:
    promtool = require_promtool()
    checked = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_rule_has_a_promtool_unit_test_and_they_pass() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    fired = {
        case["alertname"] for test in tests for case in test.get("alert_rule_test", []) if case["exp_alerts"]
    }
    assert fired == _alerts(RULES), "each rule needs a test where it fires"
    promtool = require_promtool()
    result = subprocess.run([promtool, "test", "rules", str(RULE_TESTS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
