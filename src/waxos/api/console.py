"""The console: one HTML shell for every page under /console, and the static files it loads.

The console is plain ES modules with vendored libraries (no CDN, no build step): the shell is the same for
every page and the page's module decides what to show, signing in first when there is no session. Its
Content-Security-Policy allows scripts and styles from this origin only, so even a payload that slipped
into the page as markup could not run.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

STATIC = files("waxos") / "static"

# WebSocket sources are listed by scheme: the provider's host comes from the server's configuration and
# changes on a failover (D7), and script-src 'self' already keeps injected code from running at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SHELL_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


class StaticModules(StaticFiles):
    """Static files with JavaScript always served as `text/javascript` (browsers refuse modules served
    as text/plain, which some hosts' MIME tables say) and never sniffed."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        path = str(args[0]) if args else ""
        if path.endswith((".js", ".mjs")):
            response.headers["content-type"] = "text/javascript; charset=utf-8"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@router.get("/console")
@router.get("/console/{page:path}")
async def console_shell() -> HTMLResponse:
    """The console's shell page, whatever the page: the page's module picks what to render."""
    shell = (STATIC / "console" / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(shell, headers=SHELL_HEADERS)


def mount_static(app: FastAPI) -> None:
    """Serve the package's static files (console, vendored libraries, the client package) at /static."""
    app.mount("/static", StaticModules(directory=str(STATIC)), name="static")
