"""The browser client package (clients/js): its Node tests and its TypeScript types."""

from __future__ import annotations

import subprocess

from tests.support.environment import ROOT, require_node

PACKAGE = ROOT / "clients" / "js"


def test_the_client_package_passes_its_node_tests() -> None:
    node = require_node()
    result = subprocess.run(
        [node, "--test", str(PACKAGE / "test")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout and "# pass 0" not in result.stdout


def test_the_type_declarations_check_against_an_example_app() -> None:
    node = require_node()
    result = subprocess.run(
        [
            node,
            str(ROOT / "node_modules" / "typescript" / "bin" / "tsc"),
            "-p",
            str(PACKAGE / "tsconfig.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
