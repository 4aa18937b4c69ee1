"""The registry on its own: transitions returned as values, and a secret-free config repr."""

from __future__ import annotations

from tests.pusher_protocol.helpers import SECRET, config
from waxos.pusher_protocol.hub import Hub, JoinResult, LeaveResult
from waxos.pusher_protocol.messages import PresenceMember


def test_join_and_leave_transitions() -> None:
    hub = Hub()
    assert hub.join("presence-a", "1.1", PresenceMember("u", None)) == JoinResult(True, True)
    assert hub.join("presence-a", "2.2", PresenceMember("u", None)) == JoinResult(False, False)
    assert hub.leave("presence-a", "1.1", "u") == LeaveResult(False, False)
    # Leaving as a user the channel never saw changes no membership.
    assert hub.leave("presence-a", "3.3", "stranger") == LeaveResult(False, False)
    assert hub.leave("presence-a", "2.2", "u") == LeaveResult(True, True)
    assert hub.leave("never", "1.1") == LeaveResult(True, False)
    assert hub.presence_snapshot("presence-a") == {"ids": [], "hash": {}, "count": 0}


def test_config_repr_hides_the_secret() -> None:
    text = repr(config())
    assert SECRET not in text and "'***'" in text
