"""Cross-origin access for browser front-ends served from their own origin (WAXOS_CORS_ORIGINS).

Only the exact origins listed may call the API from a browser; none by default. Allowed: every method the
API routes use (the inbox edits with PUT, PATCH and DELETE) and the headers the client package and an
inbox front-end send (a bearer token, JSON and pusher-js's form bodies, the app's socket id);
exposed: `Retry-After` (the client's polling backoff obeys it) and the epoch header. Preflights are
cached by the browser for two hours (Chromium's ceiling), so polling costs no extra round trips.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from waxos.api.errors import EPOCH_HEADER
from waxos.config import Settings

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ALLOWED_HEADERS = ("Authorization", "Content-Type", "X-Socket-ID")
EXPOSED_HEADERS = ("Retry-After", EPOCH_HEADER)
PREFLIGHT_MAX_AGE_SECONDS = 7200


def install_cors(app: FastAPI, settings: Settings) -> None:
    """Answer CORS for the configured origins; without any, add nothing (browsers refuse other origins)."""
    if not settings.cors_origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=list(ALLOWED_METHODS),
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        # Bearer tokens, not cookies: credentials mode stays off, so a listed origin gets no cookie access.
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
