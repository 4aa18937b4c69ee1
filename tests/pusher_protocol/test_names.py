"""Channel names: charset, length, kinds by prefix, cache flag, server-to-user channels."""

from __future__ import annotations

import pytest

from waxos.pusher_protocol.limits import MAX_CHANNEL_NAME_LENGTH, MAX_USER_ID_LENGTH
from waxos.pusher_protocol.names import (
    ChannelKind,
    InvalidName,
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
    assert (channel.name, channel.kind, channel.cached) == (name, kind, cached)


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "must not be empty"),
        ("a b", "only letters"),
        ("#x", "only letters"),
        ("#server-to-user-", "needs a user id"),
        ("#server-to-user-a b", "only letters"),
        ("x" * 165, "at most 164 characters"),
        ("é", "only letters"),
        (None, "must be a string"),
        (3, "must be a string"),
    ],
)
def test_invalid_names_say_which_rule(name: object, rule: str) -> None:
    with pytest.raises(InvalidName, match=rule):
        parse_channel(name)


def test_limits_and_properties() -> None:
    # Pusher documents 164 characters, prefix included; the SDKs' laxer 200 is not Pusher's rule.
    assert MAX_CHANNEL_NAME_LENGTH == 164
    assert parse_channel("x" * 164).name == "x" * 164
    user = parse_channel("#server-to-user-42")
    assert user.user_id == "42" and not user.needs_auth
    private = parse_channel("private-a")
    assert private.allows_client_events and private.user_id == ""
    public = parse_channel("a")
    assert not public.allows_client_events


def test_event_socket_and_user_ids() -> None:
    assert is_valid_event_name("x" * 200)
    assert not is_valid_event_name("x" * 201)
    assert not is_valid_event_name("")
    assert not is_valid_event_name(None)
    assert is_valid_socket_id("123.456")
    assert not is_valid_socket_id("123.456\n")
    assert not is_valid_socket_id("a.1")
    assert not is_valid_socket_id(1.5)
    assert not is_valid_socket_id("\u0661.\u0662")  # Arabic-Indic digits match `\d`, not the grammar
    assert is_valid_user_id("u-1")
    assert is_valid_user_id("u" * MAX_USER_ID_LENGTH)
    assert not is_valid_user_id("u" * (MAX_USER_ID_LENGTH + 1))
    assert not is_valid_user_id("")
    assert not is_valid_user_id(7)
