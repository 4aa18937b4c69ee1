"""The `waxos` command as an operator runs it: config errors, `check` and `trigger` against real sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import run_waxos
from tests.support.environment import free_port

BASE_ENV = {
    "PUSHER_APP_ID": "100001",
    "PUSHER_KEY": "test-key",
    "PUSHER_SECRET": "test-secret-value",
    "PUSHER_CLUSTER": "local",
    "PUSHER_HOST": "127.0.0.1",
    "PUSHER_USE_TLS": "false",
}


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_missing_settings_exit_2_naming_each_variable(tmp_path: Path) -> None:
    result = run_waxos("check", env={"PUSHER_SECRET": "do-not-print-me"}, cwd=tmp_path)
    assert result.returncode == 2
    for name in ("PUSHER_APP_ID", "PUSHER_KEY", "PUSHER_CLUSTER"):
        assert name in result.stderr
    assert "do-not-print-me" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_check_against_a_closed_port_says_unreachable(tmp_path: Path) -> None:
    env = {**BASE_ENV, "PUSHER_PORT": str(free_port())}
    result = run_waxos("check", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "failed: unreachable" in result.stderr
    assert "test-secret-value" not in result.stderr + result.stdout


def test_check_against_a_silent_server_times_out_within_the_timeout(
    tmp_path: Path, silent_server: int
) -> None:
    def timed(port: int) -> tuple[float, subprocess.CompletedProcess[str]]:
        env = {**BASE_ENV, "PUSHER_PORT": str(port), "PUSHER_TIMEOUT_SECONDS": "1"}
        started = time.monotonic()
        result = run_waxos("check", env=env, cwd=tmp_path)
        return time.monotonic() - started, result

    # A refused connection fails at once: its run is the interpreter's start-up, measured under the same
    # load as the silent server's run, which must add only the 1 s deadline (not the SDK's default 5 s).
    baseline, _ = timed(free_port())
    elapsed, result = timed(silent_server)
    assert result.returncode == 1
    assert "failed: timeout" in result.stderr
    assert elapsed - baseline < 3.0, (elapsed, baseline)


def test_trigger_refuses_bad_json_and_bad_names_without_sending(tmp_path: Path) -> None:
    env = {**BASE_ENV, "PUSHER_PORT": str(free_port())}
    bad_json = run_waxos("trigger", "private-user-1", "message.new", "{not json", env=env, cwd=tmp_path)
    assert bad_json.returncode == 2 and "not JSON" in bad_json.stderr
    bad_name = run_waxos("trigger", "bad channel", "message.new", "{}", env=env, cwd=tmp_path)
    assert bad_name.returncode == 2 and "invalid" in bad_name.stderr and "only letters" in bad_name.stderr


def test_trigger_reports_a_transport_failure_with_exit_1(tmp_path: Path) -> None:
    env = {**BASE_ENV, "PUSHER_PORT": str(free_port())}
    result = run_waxos("trigger", "private-user-1", "message.new", '{"id": 1}', env=env, cwd=tmp_path)
    assert result.returncode == 1 and "failed: unreachable" in result.stderr


def test_serve_answers_health_ready_and_stops_on_sigterm(tmp_path: Path) -> None:
    import signal

    import httpx

    port = free_port()
    env = {
        **BASE_ENV,
        "PUSHER_PORT": str(free_port()),
        "WAXOS_RUN_RELAY": "false",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHER_", "WAXOS_", "DATABASE_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "waxos", "serve", "--port", str(port)],
        env={**clean, "WAXOS_ENV_FILE": str(tmp_path / "none.env"), **env},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "serve did not answer within 20 s"
                time.sleep(0.1)
        assert response.status_code == 200 and response.json()["status"] == "ok"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    # uvicorn re-raises the captured SIGTERM after its graceful shutdown, so -15 is a clean stop here;
    # the lifespan's closing line proves the shutdown ran.
    assert process.returncode in (0, -signal.SIGTERM)
    assert "waxos stopped" in output
    assert "starting: env=development" in output and "secret=***" in output
    assert "test-secret-value" not in output
