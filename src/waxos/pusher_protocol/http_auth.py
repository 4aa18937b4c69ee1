"""Verifying an HTTP API request: key, timestamp window, body MD5 and the HMAC signature."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote

from waxos.pusher_protocol.config import AppConfig
from waxos.pusher_protocol.errors import HttpError, excerpt
from waxos.pusher_protocol.signing import (
    body_md5,
    request_string_to_sign,
    same,
    sign_request,
)

# ASCII digits only (`str.isdigit` accepts '²', which `int` refuses), and few enough of them that `int`
# neither refuses the string nor builds a date no calendar holds.
_TIMESTAMP = re.compile(r"\A[0-9]{1,12}\Z")


def parse_query(query: str) -> dict[str, str]:
    """The query's parameters, URL-decoded, keys lower-cased; `HttpError(400)` for a key given twice.

    The signature covers lower-cased keys (`signing.canonical_query`), so two keys that differ only in
    case would be one key to the signer and two to anything reading them: a captured signed URL could
    then carry a fresh `AUTH_TIMESTAMP` beside the signed one. Folding here, once, makes what the checks
    and the handlers read exactly what was signed; a key repeated in any case is refused as ambiguous.
    """
    params: dict[str, str] = {}
    folded: set[str] = set()
    for name, value in parse_qsl(query, keep_blank_values=True):
        key = name.lower()
        # casefold() catches the rarer Unicode pairs lower() keeps apart (e.g. the long s).
        if key in params or name.casefold() in folded:
            raise HttpError(400, f"Duplicate query parameter: {excerpt(key)}")
        params[key] = value
        folded.add(name.casefold())
    return params


def _iso(seconds: float) -> str:
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):  # beyond the year 9999
        return f"{seconds:.0f}"


def verify_request(
    config: AppConfig,
    method: str,
    raw_path: str,
    params: Mapping[str, str],
    body: bytes,
    now: float,
) -> None:
    """Raise `HttpError(401, …)` unless the request is signed by this app within the time window.

    `params` are the query parameters already URL-decoded: clients sign the raw values, and some
    (the SDK's aiohttp backend) URL-encode them on the wire.
    """
    auth_key = params.get("auth_key")
    if auth_key is None:
        raise HttpError(401, "Missing auth_key parameter")
    if auth_key != config.key:
        raise HttpError(401, f"Unknown auth_key: {excerpt(auth_key)}")
    # Pusher's signature check requires the version before anything else it verifies.
    auth_version = params.get("auth_version")
    if auth_version is None:
        raise HttpError(401, "Version required")
    if auth_version != "1.0":
        raise HttpError(401, "Unsupported auth_version, expected 1.0")
    timestamp = params.get("auth_timestamp", "")
    if not _TIMESTAMP.match(timestamp):
        raise HttpError(401, "Missing or invalid auth_timestamp parameter")
    window = config.timestamp_tolerance
    if abs(now - int(timestamp)) >= window:
        raise HttpError(
            401,
            f"Timestamp expired: Given timestamp ({_iso(int(timestamp))}) not within "
            f"{window:.0f}s of server time ({_iso(now)})",
        )
    given_md5 = params.get("body_md5")
    if given_md5 is None and body:
        raise HttpError(401, "Missing body_md5 parameter for a request with a body")
    if given_md5 is not None and given_md5 != body_md5(body):
        raise HttpError(401, "The body_md5 parameter does not match the MD5 of the request body")
    signature = params.get("auth_signature")
    if signature is None:
        raise HttpError(401, "Missing auth_signature parameter")
    # Clients sign the path as they wrote it; HTTP libraries may percent-encode characters on the
    # way, so the decoded form is accepted too.
    for path in dict.fromkeys((raw_path, unquote(raw_path))):
        if same(sign_request(config.secret, method, path, params), signature):
            return
    # The string to sign is what a developer needs to debug a signature: repeated, within reason.
    expected = excerpt(request_string_to_sign(method, raw_path, params).replace("\n", "\\n"), 1_000)
    raise HttpError(
        401,
        f'Invalid signature: you should have sent HmacSHA256Hex("{expected}", your_secret_key), '
        f'but you sent "{excerpt(signature)}"',
    )
