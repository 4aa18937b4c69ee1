"""Access tokens: what is accepted, and every way a token is refused."""

from __future__ import annotations

import warnings
from datetime import timedelta
from types import SimpleNamespace

import jwt
import pytest

from waxos.auth import tokens
from waxos.auth.errors import NotAuthenticated
from waxos.auth.tokens import AccessToken, access_token_key, issue_access_token, read_access_token
from waxos.db.base import utcnow

SECRET = "test-signing-key-not-secret"
KEY = access_token_key(SECRET)


def test_a_fresh_token_names_its_user() -> None:
    token = issue_access_token(42, 9, SECRET, timedelta(minutes=5), utcnow())
    assert read_access_token(token, SECRET) == AccessToken(42, 9)


def test_a_short_secret_still_signs_without_warnings() -> None:
    # pytest turns warnings into errors: a short WAXOS_SECRET_KEY must not warn on every request.
    token = issue_access_token(7, 9, "short", timedelta(minutes=5), utcnow())
    assert read_access_token(token, "short") == AccessToken(7, 9)


def test_an_expired_token_is_refused_as_expired() -> None:
    token = issue_access_token(42, 9, SECRET, timedelta(minutes=5), utcnow() - timedelta(minutes=6))
    with pytest.raises(NotAuthenticated, match="expired"):
        read_access_token(token, SECRET)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = issue_access_token(42, 9, "another-test-secret", timedelta(minutes=5), utcnow())
    with pytest.raises(NotAuthenticated, match="invalid"):
        read_access_token(token, SECRET)


def test_a_token_signed_with_the_raw_secret_is_refused() -> None:
    now = int(utcnow().timestamp())
    claims = {"sub": "42", "gen": 9, "typ": "access", "iat": now, "exp": now + 300}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = jwt.encode(claims, SECRET, algorithm="HS256")
    with pytest.raises(NotAuthenticated):
        read_access_token(token, SECRET)


def test_a_tampered_payload_is_refused() -> None:
    header, _payload, signature = issue_access_token(42, 9, SECRET, timedelta(minutes=5), utcnow()).split(".")
    forged_payload = jwt.encode({"sub": "1"}, KEY).split(".")[1]
    with pytest.raises(NotAuthenticated):
        read_access_token(f"{header}.{forged_payload}.{signature}", SECRET)


def _token(algorithm: str = "HS256", **changes: object) -> str:
    now = int(utcnow().timestamp())
    claims: dict[str, object] = {"sub": "42", "gen": 9, "typ": "access", "iat": now, "exp": now + 300}
    claims.update(changes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # HS512 wants a longer key; the point is the algorithm
        return jwt.encode(
            {k: v for k, v in claims.items() if v is not None},
            "" if algorithm == "none" else KEY,
            algorithm=algorithm,
        )


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_token(), id="control"),
        pytest.param(_token("none"), id="alg-none"),
        pytest.param(_token("HS512"), id="other-hmac-alg"),
        pytest.param(_token(exp=None), id="no-exp"),
        pytest.param(_token(sub=None), id="no-sub"),
        pytest.param(_token(typ="refresh"), id="wrong-type"),
        pytest.param(_token(iat=int(utcnow().timestamp()) + 3600), id="issued-in-future"),
        pytest.param(_token(sub="0"), id="zero-user"),
        pytest.param(_token(sub="12a"), id="non-numeric-user"),
        pytest.param(_token(sub="١٢"), id="non-ascii-digits"),
        pytest.param(_token(sub="42\n"), id="trailing-newline"),
        pytest.param(_token(gen=None), id="no-generation"),
        pytest.param(_token(gen="9"), id="generation-as-text"),
        pytest.param(_token(gen=True), id="generation-as-bool"),
        pytest.param("not.a.token", id="garbage"),
        pytest.param("", id="empty"),
    ],
)
def test_malformed_or_forged_tokens_are_refused(token: str, request: pytest.FixtureRequest) -> None:
    if request.node.callspec.id == "control":
        assert read_access_token(token, SECRET) == AccessToken(42, 9)
        return
    with pytest.raises(NotAuthenticated):
        read_access_token(token, SECRET)


def test_a_remembered_verification_does_not_outlive_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    now = utcnow()
    token = issue_access_token(42, 9, SECRET, timedelta(minutes=5), now)
    assert read_access_token(token, SECRET) == AccessToken(42, 9)
    later = now + timedelta(minutes=5, seconds=1)
    monkeypatch.setattr(tokens, "time", SimpleNamespace(time=later.timestamp))
    with pytest.raises(NotAuthenticated, match="expired"):
        read_access_token(token, SECRET)
