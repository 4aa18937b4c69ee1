"""Signatures match Pusher's published test vectors and the official Python SDK."""

from __future__ import annotations

import json

import pusher

from waxos.pusher_protocol import signing

DOC_KEY = "278d425bdf160c739803"
DOC_SECRET = "7ad3773142a6692b25b8"


def test_private_channel_vector() -> None:
    text = signing.channel_string_to_sign("1234.1234", "private-foobar")
    assert signing.sign_auth(DOC_KEY, DOC_SECRET, text) == (
        f"{DOC_KEY}:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
    )


def test_presence_channel_vector_signs_the_exact_channel_data() -> None:
    data = '{"user_id":10,"user_info":{"name":"Mr. Channels"}}'
    text = signing.channel_string_to_sign("1234.1234", "presence-foobar", data)
    assert text == f"1234.1234:presence-foobar:{data}"
    assert signing.hmac_hex(DOC_SECRET, text) == (
        "31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"
    )


def test_user_signin_vector() -> None:
    text = signing.user_string_to_sign("1234.1234", '{"id":"12345"}')
    assert signing.hmac_hex(DOC_SECRET, text) == (
        "4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba"
    )


def test_http_request_vector_from_the_docs() -> None:
    body = b'{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}'
    md5 = signing.body_md5(body)
    assert md5 == "ec365a775a4cd0599faeb73354201b6f"
    params = {
        "auth_key": DOC_KEY,
        "auth_timestamp": "1353088179",
        "auth_version": "1.0",
        "body_md5": md5,
        "auth_signature": "ignored",
    }
    assert signing.request_string_to_sign("post", "/apps/3/events", params) == (
        "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179"
        "&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f"
    )
    assert signing.sign_request(DOC_SECRET, "POST", "/apps/3/events", params) == (
        "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
    )


def test_canonical_query_lowercases_sorts_and_does_not_escape() -> None:
    assert signing.canonical_query({"b": "x y", "A": "1,2"}) == "a=1,2&b=x y"


def test_channel_auth_agrees_with_the_official_sdk() -> None:
    client = pusher.Pusher(app_id="3", key=DOC_KEY, secret=DOC_SECRET)
    private = client.authenticate(channel="private-a", socket_id="1.2")
    assert private["auth"] == signing.sign_auth(DOC_KEY, DOC_SECRET, "1.2:private-a")
    presence = client.authenticate(channel="presence-a", socket_id="1.2", custom_data={"user_id": "u"})
    text = signing.channel_string_to_sign("1.2", "presence-a", presence["channel_data"])
    assert presence["auth"] == signing.sign_auth(DOC_KEY, DOC_SECRET, text)


def test_user_auth_and_webhook_signature_agree_with_the_official_sdk() -> None:
    client = pusher.Pusher(app_id="3", key=DOC_KEY, secret=DOC_SECRET)
    user = client.authenticate_user("1.2", {"id": "7"})
    text = signing.user_string_to_sign("1.2", user["user_data"])
    assert user["auth"] == signing.sign_auth(DOC_KEY, DOC_SECRET, text)
    body = json.dumps({"time_ms": 1, "events": []}).encode()
    assert signing.sign_webhook(DOC_SECRET, body) == signing.hmac_hex(DOC_SECRET, body)


def test_same_is_a_plain_equality() -> None:
    assert signing.same("abc", "abc")
    assert not signing.same("abc", "abd")
    assert signing.body_md5(b"") == "d41d8cd98f00b204e9800998ecf8427e"
