"""The console is served offline: its shell on every page path with a strict CSP, modules as JavaScript,
and vendored libraries identical to the pinned npm packages."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.accounts import Api, running_api
from tests.support.environment import ROOT, require_node

VENDOR = ROOT / "src" / "waxos" / "static" / "vendor"
# Each vendored file and the npm package file it is a copy of (pinned in package.json).
VENDORED = {
    "htm-preact-standalone.module.js": ("htm", "preact/standalone.module.js"),
    "uPlot.iife.min.js": ("uplot", "dist/uPlot.iife.min.js"),
    "uPlot.min.css": ("uplot", "dist/uPlot.min.css"),
    "LICENSE.htm.txt": ("htm", "LICENSE"),
    "LICENSE.uplot.txt": ("uplot", "LICENSE"),
}


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}") as api:
        yield api


@pytest.mark.parametrize("path", ["/console", "/console/live", "/console/relay", "/console/no-such-page"])
async def test_every_console_path_serves_the_shell_with_a_strict_policy(api: Api, path: str) -> None:
    answer = await api.client.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/console/app.js">' in answer.text
    policy = answer.headers["content-security-policy"]
    assert (
        "script-src 'self';" in policy
        and "object-src 'none'" in policy
        and "frame-ancestors 'none'" in policy
    )
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert answer.headers["x-content-type-options"] == "nosniff"


async def test_the_shell_loads_nothing_from_another_origin(api: Api) -> None:
    shell = (await api.client.get("/console")).text
    assert "http://" not in shell and "https://" not in shell and "//" not in shell.replace("<!--", "")


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/static/console/app.js", "text/javascript"),
        ("/static/console/pages/live.js", "text/javascript"),
        ("/static/vendor/htm-preact-standalone.module.js", "text/javascript"),
        ("/static/vendor/uPlot.min.css", "text/css"),
    ],
)
async def test_static_files_are_served_with_their_type(api: Api, path: str, media_type: str) -> None:
    answer = await api.client.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(media_type)
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_vendored_files_are_the_pinned_npm_packages_files() -> None:
    require_node()
    pins = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    for name, (package, inside) in VENDORED.items():
        installed = ROOT / "node_modules" / package
        assert json.loads((installed / "package.json").read_text())["version"] == pins[package]
        assert (VENDOR / name).read_bytes() == (installed / inside).read_bytes(), f"{name} differs from npm"


def test_console_modules_never_write_html() -> None:
    # Payloads and names reach the page as text only: no module assigns innerHTML or builds HTML strings.
    sources = (ROOT / "src" / "waxos" / "static" / "console").rglob("*.js")
    for source in sources:
        text = source.read_text()
        for forbidden in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "dangerouslySetInnerHTML",
            "document.write",
        ):
            assert forbidden not in text, f"{source.name} uses {forbidden}"
