"""Decision D6: events leave only through the event log and the relay; nothing else publishes to Pusher.

A static scan of `src/waxos`, by package: only `relay/` and `cli/` (and `publisher/` itself) call the
publisher's `trigger`/`trigger_batch`/`send_batch` (or reach the SDK or the raw HTTP backends through a
PusherService's private parts), and only `publisher/` imports the `pusher` SDK, our HTTP backends or an
HTTP client library. Routes use the PusherService for `authenticate_*` signatures only, which needs none
of that.
"""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "waxos"
# Publishing calls, and the ways around them: the SDK object, the raw request call, a backend's send.
PUBLISHING_METHODS = frozenset(
    {"trigger", "trigger_batch", "send_batch", "_sdk", "_call", "send_request", "request"}
)
# Package rules: only `relay/` and `cli/` (and the publisher itself) call the publisher's send methods;
# only `publisher/` imports the SDK or an HTTP client.
MAY_IMPORT_SDK = ("publisher/",)
MAY_PUBLISH = ("relay/", "cli/", *MAY_IMPORT_SDK)
# Modules through which an HTTP request to Pusher could be sent without the relay.
SENDING_MODULES = (
    "pusher",
    "httpx",
    "aiohttp",
    "requests",
    "waxos.publisher.transport",
)
# The local Pusher server implements the other side of the API; it publishes nothing of ours.
SERVER_SIDE = ("pusher_protocol/", "pusher_server/")


def violations(relative: str, tree: ast.AST) -> list[str]:
    """What in one module's syntax tree breaks the rule, as `path:line: what` strings."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in PUBLISHING_METHODS
            and not relative.startswith(MAY_PUBLISH)
        ):
            found.append(f"{relative}:{node.lineno}: uses .{node.attr} outside the relay")
        if isinstance(node, ast.Import | ast.ImportFrom) and not relative.startswith(MAY_IMPORT_SDK):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module]
            if any(m is not None and m.startswith(SENDING_MODULES) for m in modules):
                found.append(f"{relative}:{node.lineno}: imports an HTTP sender, bypassing the relay")
    return found


def test_only_the_relay_publishes() -> None:
    modules = sorted(SOURCE.rglob("*.py"))
    assert len(modules) > 20
    found = []
    for path in modules:
        relative = path.relative_to(SOURCE).as_posix()
        if relative.startswith(SERVER_SIDE):
            continue
        found += violations(relative, ast.parse(path.read_text(encoding="utf-8")))
    assert found == []


def test_the_scan_catches_a_route_that_publishes_directly() -> None:
    route = ast.parse(
        "import pusher\n"
        "async def create(pusher_service):\n"
        "    await pusher_service.trigger('private-workspace-1.chats', 'message.new', {})\n"
        "    await pusher_service.trigger_batch([])\n"
    )
    assert violations("inbox/routes.py", route) == [
        "inbox/routes.py:1: imports an HTTP sender, bypassing the relay",
        "inbox/routes.py:3: uses .trigger outside the relay",
        "inbox/routes.py:4: uses .trigger_batch outside the relay",
    ]
    assert violations("relay/lanes.py", ast.parse("x.trigger_batch([])")) == []


def test_the_scan_catches_the_ways_around_trigger() -> None:
    sneaky = ast.parse(
        "import httpx\n"
        "from waxos.publisher.transport import AiohttpTransport\n"
        "async def create(service):\n"
        "    send = service._sdk.trigger\n"
        "    await service._call('x', lambda: None)\n"
    )
    assert sorted(violations("inbox/routes.py", sneaky)) == [
        "inbox/routes.py:1: imports an HTTP sender, bypassing the relay",
        "inbox/routes.py:2: imports an HTTP sender, bypassing the relay",
        "inbox/routes.py:4: uses ._sdk outside the relay",
        "inbox/routes.py:4: uses .trigger outside the relay",
        "inbox/routes.py:5: uses ._call outside the relay",
    ]
