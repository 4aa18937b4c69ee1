"""When to switch provider: the rules, as a pure decision over what a relay has observed (decision D7).

Failover: the active provider's circuit has stayed open for `failover_after` seconds and the other
provider answers its probes; switching to a provider that is down too would only make every client
reconnect for nothing, so with both down nothing switches and clients keep polling.
Failback (only with WAXOS_FAILBACK=auto, and only from an automatic failover: a switch made by hand is
undone by hand): the primary has answered every probe for `failback_after` seconds.
A secondary recorded active that the settings no longer configure (a redeploy dropped it) is switched back
to the primary at once, under a new epoch.
Both need an unbroken run of the same observation, so a provider that flickers never moves clients back
and forth; failback's default of ten minutes is long on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from waxos.config import Settings
from waxos.providers.state import UNCONFIGURED_REASON, ActiveProvider, ChangedBy, Provider


@dataclass(frozen=True, slots=True)
class FailoverRules:
    """The thresholds, from settings."""

    failover_after: float = 30.0
    failback: Literal["auto", "manual"] = "auto"
    failback_after: float = 600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> FailoverRules:
        """The rules the settings ask for."""
        return cls(
            settings.waxos_failover_after_seconds,
            settings.waxos_failback,
            settings.waxos_failback_after_seconds,
        )


@dataclass
class Observed:
    """What one relay has seen of each provider, in monotonic seconds; None: not at the moment."""

    # The provider's circuit has been open (its requests failing) without a break since then.
    open_since: dict[Provider, float | None] = field(default_factory=lambda: dict.fromkeys(Provider))
    # The provider has answered every probe since then.
    healthy_since: dict[Provider, float | None] = field(default_factory=lambda: dict.fromkeys(Provider))

    def circuit(self, provider: Provider, is_open: bool, now: float) -> None:
        """Record the circuit state of `provider` now."""
        if not is_open:
            self.open_since[provider] = None
        elif self.open_since[provider] is None:
            self.open_since[provider] = now

    def probe(self, provider: Provider, ok: bool, now: float) -> None:
        """Record a probe's outcome."""
        if not ok:
            self.healthy_since[provider] = None
        elif self.healthy_since[provider] is None:
            self.healthy_since[provider] = now

    def forget(self) -> None:
        """After a switch: what was seen of the old roles says nothing about the new ones."""
        for provider in Provider:
            self.open_since[provider] = None
            self.healthy_since[provider] = None


@dataclass(frozen=True, slots=True)
class Switch:
    """Switch to `to`, and why (logged, recorded with the switch, shown by `waxos provider status`)."""

    to: Provider
    reason: str


def decide(
    rules: FailoverRules,
    active: ActiveProvider,
    configured: tuple[Provider, ...],
    observed: Observed,
    now: float,
) -> Switch | None:
    """The switch the rules call for now, if any."""
    if active.unconfigured_secondary:
        # Recorded as the secondary, which these settings lack (reads as the primary): record the primary
        # under a new epoch, so that clients still connected to the secondary reconnect.
        return Switch(Provider.PRIMARY, UNCONFIGURED_REASON)
    if Provider.SECONDARY not in configured:
        return None
    current, other = active.provider, active.provider.other
    open_since = observed.open_since[current]
    other_healthy = observed.healthy_since[other] is not None
    if open_since is not None and now - open_since >= rules.failover_after and other_healthy:
        return Switch(other, f"{current} circuit open for {now - open_since:.0f} s; {other} answers")
    back_since = observed.healthy_since[Provider.PRIMARY]
    if (
        current is Provider.SECONDARY
        and rules.failback == "auto"
        and active.changed_by is ChangedBy.AUTO
        and back_since is not None
        and now - back_since >= rules.failback_after
    ):
        return Switch(Provider.PRIMARY, f"primary healthy for {now - back_since:.0f} s")
    return None
