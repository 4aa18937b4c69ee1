"""The browser/Node helper `waxos-realtime.js`, tested under Node's own test runner."""

from __future__ import annotations

import shutil
import subprocess

from tests.conftest import ROOT, skip_or_fail


def test_the_client_helper_passes_its_node_tests() -> None:
    node = shutil.which("node")
    if node is None:
        skip_or_fail("Node.js is not installed")
        return
    result = subprocess.run(
        [node, "--test", str(ROOT / "tests" / "js" / "waxos-realtime.test.mjs")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout and "# pass 0" not in result.stdout
