"""Our channel and event names: builders, validation rules, and reading a channel's owner."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from waxos.channels import names
from waxos.channels.names import waxos_channel
from waxos.pusher_protocol.limits import MAX_CHANNEL_NAME_LENGTH
from waxos.pusher_protocol.names import NAME_CHARSET, ChannelKind, InvalidName


def test_builders_follow_the_conventions() -> None:
    assert names.private_workspace_channel(12, "chats") == "private-workspace-12.chats"
    assert names.user_channel(7) == "private-user-7"
    assert names.presence_workspace_channel(12) == "presence-workspace-12"


@pytest.mark.parametrize("bad", [0, -1, True, "3", 1.5])
def test_builders_refuse_non_positive_or_non_integer_ids(bad: object) -> None:
    with pytest.raises(InvalidName, match="positive integer"):
        names.user_channel(bad)  # type: ignore[arg-type]


def test_builders_refuse_odd_resources() -> None:
    with pytest.raises(InvalidName, match="resource"):
        names.private_workspace_channel(1, "Chats!")


@pytest.mark.parametrize(
    ("channel", "kind", "workspace", "user"),
    [
        ("private-workspace-12.chats", ChannelKind.PRIVATE, 12, None),
        ("private-encrypted-workspace-3.chats", ChannelKind.ENCRYPTED, 3, None),
        ("presence-workspace-9", ChannelKind.PRESENCE, 9, None),
        ("private-user-44", ChannelKind.PRIVATE, None, 44),
        ("workspace-5.status", ChannelKind.PUBLIC, 5, None),
        # Shapes outside the conventions parse with no owner, so the policy denies them.
        ("presence-workspace-9.chats", ChannelKind.PRESENCE, None, None),
        ("private-workspace-12", ChannelKind.PRIVATE, None, None),
        ("presence-user-4", ChannelKind.PRESENCE, None, None),
        ("private-encrypted-user-4", ChannelKind.ENCRYPTED, None, None),
        ("private-workspace-012.chats", ChannelKind.PRIVATE, None, None),
        ("private-workspace-1.chats.extra", ChannelKind.PRIVATE, None, None),
        ("my-channel", ChannelKind.PUBLIC, None, None),
    ],
)
def test_reading_a_channel_tells_kind_and_owner(
    channel: str, kind: ChannelKind, workspace: int | None, user: int | None
) -> None:
    parsed = waxos_channel(channel)
    assert (parsed.name, parsed.kind, parsed.workspace_id, parsed.user_id) == (channel, kind, workspace, user)


def test_an_already_parsed_channel_is_read_as_it_is() -> None:
    parsed = names.validate_channel_name("private-user-3")
    assert waxos_channel(parsed).channel is parsed


@pytest.mark.parametrize(
    ("channel", "rule"),
    [
        ("", "empty"),
        ("a" * 165, "164"),
        ("a b", "only letters"),
        ("é", "only letters"),
        (5, "string"),
        # `#server-to-user-` channels are Pusher's own; an app never names one.
        ("#server-to-user-1", "only letters"),
    ],
)
def test_invalid_channel_names_say_which_rule(channel: object, rule: str) -> None:
    with pytest.raises(InvalidName, match=rule):
        names.validate_channel_name(channel)


def test_164_characters_is_allowed() -> None:
    assert MAX_CHANNEL_NAME_LENGTH == 164
    assert names.validate_channel_name("a" * 164).name == "a" * 164


@pytest.mark.parametrize("event", ["message.new", "ai.suggestion_ready", "chat.unassigned", "user.online"])
def test_our_event_names(event: str) -> None:
    assert names.validate_event_name(event) == event


@pytest.mark.parametrize(
    "event", ["message", "Message.New", "message.new.extra", "pusher:ping", "client-x", "a" * 201, ".x", 3]
)
def test_event_names_outside_the_convention_are_refused(event: object) -> None:
    with pytest.raises(InvalidName):
        names.validate_event_name(event)


@pytest.mark.parametrize("socket_id", ["1.2", "123456.7890123"])
def test_socket_ids(socket_id: str) -> None:
    assert names.validate_socket_id(socket_id) == socket_id


@pytest.mark.parametrize("socket_id", ["1", "1.", ".1", "a.b", "1.2.3", "1.2\n", "\u0661.\u0662", None])
def test_bad_socket_ids(socket_id: object) -> None:
    with pytest.raises(InvalidName, match=r"digits\.digits"):
        names.validate_socket_id(socket_id)


@given(st.text(max_size=200))
def test_parse_never_crashes_and_only_valid_names_parse(text: str) -> None:
    try:
        parsed = waxos_channel(text)
    except InvalidName:
        return
    assert NAME_CHARSET.fullmatch(text) and len(text) <= 164
    if parsed.workspace_id is not None:
        assert f"workspace-{parsed.workspace_id}" in text
    if parsed.user_id is not None:
        assert text == f"private-user-{parsed.user_id}"
