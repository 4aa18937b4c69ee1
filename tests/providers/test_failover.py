"""The failover rules: when to give up the active provider, when to take the primary back, no flapping."""

from __future__ import annotations

from waxos.db.base import utcnow
from waxos.providers.failover import FailoverRules, Observed, Switch, decide
from waxos.providers.state import ActiveProvider, ChangedBy, Provider

RULES = FailoverRules(failover_after=30, failback="auto", failback_after=600)
BOTH = (Provider.PRIMARY, Provider.SECONDARY)
PRIMARY_INITIAL = ActiveProvider(Provider.PRIMARY, 1, utcnow(), ChangedBy.INITIAL, "initial")
SECONDARY_AUTO = ActiveProvider(Provider.SECONDARY, 2, utcnow(), ChangedBy.AUTO, "failover")


def observed(*, primary_open: float | None = None, secondary_healthy: float | None = None) -> Observed:
    seen = Observed()
    if primary_open is not None:
        seen.circuit(Provider.PRIMARY, True, primary_open)
    if secondary_healthy is not None:
        seen.probe(Provider.SECONDARY, True, secondary_healthy)
    return seen


def test_fails_over_once_the_circuit_stayed_open_past_the_threshold_and_the_other_answers() -> None:
    seen = observed(primary_open=100, secondary_healthy=0)
    assert decide(RULES, PRIMARY_INITIAL, BOTH, seen, 129.9) is None
    switch = decide(RULES, PRIMARY_INITIAL, BOTH, seen, 130)
    assert switch == Switch(Provider.SECONDARY, "primary circuit open for 30 s; secondary answers")


def test_a_circuit_that_closed_in_between_starts_the_wait_again() -> None:
    seen = observed(primary_open=100, secondary_healthy=0)
    seen.circuit(Provider.PRIMARY, False, 120)
    seen.circuit(Provider.PRIMARY, True, 125)
    seen.circuit(Provider.PRIMARY, True, 140)
    assert decide(RULES, PRIMARY_INITIAL, BOTH, seen, 150) is None
    assert decide(RULES, PRIMARY_INITIAL, BOTH, seen, 155) is not None


def test_no_switch_to_a_provider_that_is_down_too_nor_without_a_secondary() -> None:
    seen = observed(primary_open=0)
    seen.probe(Provider.SECONDARY, False, 50)
    assert decide(RULES, PRIMARY_INITIAL, BOTH, seen, 1000) is None
    assert (
        decide(
            RULES, PRIMARY_INITIAL, (Provider.PRIMARY,), observed(primary_open=0, secondary_healthy=0), 999
        )
        is None
    )


def test_fails_back_after_the_primary_answered_for_the_whole_failback_time() -> None:
    seen = Observed()
    seen.probe(Provider.PRIMARY, True, 1000)
    assert decide(RULES, SECONDARY_AUTO, BOTH, seen, 1599) is None
    assert decide(RULES, SECONDARY_AUTO, BOTH, seen, 1600) == Switch(
        Provider.PRIMARY, "primary healthy for 600 s"
    )
    seen.probe(Provider.PRIMARY, False, 1601)
    seen.probe(Provider.PRIMARY, True, 1602)
    assert decide(RULES, SECONDARY_AUTO, BOTH, seen, 2000) is None, "one failed probe starts the wait again"


def test_no_automatic_failback_when_manual_or_after_a_switch_made_by_hand() -> None:
    seen = Observed()
    seen.probe(Provider.PRIMARY, True, 0)
    manual_rules = FailoverRules(failover_after=30, failback="manual", failback_after=600)
    assert decide(manual_rules, SECONDARY_AUTO, BOTH, seen, 10_000) is None
    by_hand = ActiveProvider(Provider.SECONDARY, 2, utcnow(), ChangedBy.MANUAL, "by hand")
    assert decide(RULES, by_hand, BOTH, seen, 10_000) is None


def test_a_failing_secondary_fails_over_to_a_healthy_primary_even_after_a_manual_switch() -> None:
    seen = Observed()
    seen.circuit(Provider.SECONDARY, True, 0)
    seen.probe(Provider.PRIMARY, True, 0)
    by_hand = ActiveProvider(Provider.SECONDARY, 2, utcnow(), ChangedBy.MANUAL, "by hand")
    assert decide(RULES, by_hand, BOTH, seen, 30) == Switch(
        Provider.PRIMARY, "secondary circuit open for 30 s; primary answers"
    )


def test_a_secondary_no_longer_configured_is_switched_back_to_the_primary_at_once() -> None:
    """Read as the primary already; the switch records it under a new epoch, whatever was observed."""
    masked = ActiveProvider(
        Provider.PRIMARY, 2, utcnow(), ChangedBy.MANUAL, "gone", unconfigured_secondary=True
    )
    wanted = decide(RULES, masked, (Provider.PRIMARY,), Observed(), 0)
    assert wanted is not None and wanted.to is Provider.PRIMARY
    assert decide(RULES, PRIMARY_INITIAL, (Provider.PRIMARY,), Observed(), 0) is None


def test_forget_clears_what_was_seen() -> None:
    seen = observed(primary_open=0, secondary_healthy=0)
    seen.forget()
    assert decide(RULES, PRIMARY_INITIAL, BOTH, seen, 1000) is None
