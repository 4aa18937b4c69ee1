"""Channel names: charset, length, kinds by prefix, cache flag, server-to-user channels."""

from __future__ import annotations

import pytest

from waxos.pusher_protocol.names import (
    ChannelKind,
    is_valid_event_name,
    is_valid_socket_id,
    is_valid_user_id,
    parse_channel,
)


@pytest.mark.parametrize(
    ("name", "kind", "cached"),
    [
        ("my-channel", ChannelKind.PUBLIC, False),
        ("cache-x", ChannelKind.PUBLIC, True),
        ("private-x", ChannelKind.PRIVATE, False),
        ("private-cache-x", ChannelKind.PRIVATE, True),
        ("private-encrypted-x", ChannelKind.ENCRYPTED, False),
        ("private-encrypted-cache-x", ChannelKind.ENCRYPTED, True),
        ("presence-x", ChannelKind.PRESENCE, False),
        ("presence-cache-x", ChannelKind.PRESENCE, True),
        ("#server-to-user-42", ChannelKind.SERVER_TO_USER, False),
        ("-a_b=c@d,e.f;g", ChannelKind.PUBLIC, False),
    ],
)
def test_kinds_by_prefix(name: str, kind: ChannelKind, cached: bool) -> None:
    channel = parse_channel(name)
    assert channel is not None
    assert (channel.kind, channel.cached) == (kind, cached)


@pytest.mark.parametrize(
    "name", ["", "a b", "#x", "#server-to-user-", "#server-to-user-a b", "x" * 201, "é", None, 3]
)
def test_invalid_names(name: object) -> None:
    assert parse_channel(name) is None


def test_limits_and_properties() -> None:
    assert parse_channel("x" * 200) is not None
    user = parse_channel("#server-to-user-42")
    assert user is not None and user.user_id == "42" and not user.needs_auth
    private = parse_channel("private-a")
    assert private is not None and private.allows_client_events and private.user_id == ""
    public = parse_channel("a")
    assert public is not None and not public.allows_client_events


def test_event_socket_and_user_ids() -> None:
    assert is_valid_event_name("x" * 200)
    assert not is_valid_event_name("x" * 201)
    assert not is_valid_event_name("")
    assert not is_valid_event_name(None)
    assert is_valid_socket_id("123.456")
    assert not is_valid_socket_id("123.456\n")
    assert not is_valid_socket_id("a.1")
    assert not is_valid_socket_id(1.5)
    assert is_valid_user_id("u-1")
    assert not is_valid_user_id("")
    assert not is_valid_user_id(7)
