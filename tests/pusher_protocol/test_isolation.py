"""The protocol core stays sans-I/O: it imports nothing of waxos beyond itself, no I/O frameworks."""

from __future__ import annotations

import ast
from pathlib import Path

import waxos.pusher_protocol

CORE = Path(waxos.pusher_protocol.__file__).parent
FORBIDDEN = {
    "asyncio",
    "socket",
    "selectors",
    "threading",
    "time",
    "httpx",
    "starlette",
    "uvicorn",
    "websockets",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_imports_only_itself_and_the_standard_library() -> None:
    for path in CORE.glob("*.py"):
        for name in imported_modules(path):
            top = name.split(".")[0]
            assert top not in FORBIDDEN, f"{path.name} imports {name}"
            if top == "waxos":
                assert name.startswith("waxos.pusher_protocol"), f"{path.name} imports {name}"


def test_modules_state_their_job_and_stay_small() -> None:
    for path in CORE.glob("*.py"):
        docstring = ast.get_docstring(ast.parse(path.read_text()))
        assert docstring, path.name
        assert len(path.read_text().splitlines()) <= 400, path.name
