"""The protocol core stays sans-I/O: it imports only itself and the standard library, no I/O modules."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import waxos.pusher_protocol

CORE = Path(waxos.pusher_protocol.__file__).parent
PACKAGE = "waxos.pusher_protocol"
# Standard-library modules that would give the core I/O, threads, a clock or dynamic imports.
FORBIDDEN_STDLIB = {
    "asyncio",
    "socket",
    "selectors",
    "ssl",
    "threading",
    "multiprocessing",
    "subprocess",
    "time",
    "importlib",
}


def imported_modules(source: str) -> set[str]:
    """Every module `source` imports; relative imports count as the package itself."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(PACKAGE if node.level else node.module or "")
    return names


def disallowed_imports(source: str) -> list[str]:
    """Imports outside the allowlist: `sys.stdlib_module_names` (minus I/O) and the core itself."""
    refused = []
    for name in sorted(imported_modules(source)):
        top = name.split(".")[0]
        if name == PACKAGE or name.startswith(f"{PACKAGE}."):
            continue
        if top in sys.stdlib_module_names and top not in FORBIDDEN_STDLIB:
            continue
        refused.append(name)
    return refused


@pytest.mark.parametrize(
    ("source", "refused"),
    [
        ("import json, hmac\nfrom collections.abc import Mapping\nfrom __future__ import annotations", []),
        ("from waxos.pusher_protocol.errors import FrameError\nfrom . import messages", []),
        ("import sqlalchemy", ["sqlalchemy"]),
        ("from pydantic import BaseModel", ["pydantic"]),
        ("import aiohttp.web", ["aiohttp.web"]),
        ("from waxos.config import Settings", ["waxos.config"]),
        ("import waxos", ["waxos"]),
        ("from waxos.pusher_protocolx import y", ["waxos.pusher_protocolx"]),
        ("import asyncio\nfrom time import time\nimport socket", ["asyncio", "socket", "time"]),
    ],
)
def test_the_allowlist_refuses_everything_else(source: str, refused: list[str]) -> None:
    assert disallowed_imports(source) == refused


def test_core_imports_only_itself_and_the_standard_library() -> None:
    modules = sorted(CORE.glob("*.py"))
    assert modules
    for path in modules:
        assert disallowed_imports(path.read_text()) == [], path.name


def test_modules_state_their_job_and_stay_small() -> None:
    for path in CORE.glob("*.py"):
        docstring = ast.get_docstring(ast.parse(path.read_text()))
        assert docstring, path.name
        assert len(path.read_text().splitlines()) <= 400, path.name
