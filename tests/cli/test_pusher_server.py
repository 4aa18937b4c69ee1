"""`waxos pusher-server` as a process: settings from env or env file, one start-up line, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pusher
import pytest
from click.testing import CliRunner
from pydantic_settings import BaseSettings, SettingsConfigDict

from tests.support.environment import ROOT, free_port
from waxos.cli.main import main
from waxos.cli.pusher_server import env_file_values
from waxos.pusher_server.config import ServerConfig


def start(env: dict[str, str], *args: str, cwd: Path = ROOT) -> subprocess.Popen[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHER_", "WAXOS_ENV_FILE"))}
    return subprocess.Popen(
        [sys.executable, "-m", "waxos", "pusher-server", *args],
        env=base | env,
        cwd=cwd,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_for_port(port: int, process: subprocess.Popen[str]) -> None:
    client = pusher.Pusher(app_id="100001", key="k", secret="s", host="127.0.0.1", port=port, ssl=False)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            client.channels_info()
        except pusher.errors.PusherError:
            return  # it answered (401: wrong credentials on purpose)
        except OSError:
            time.sleep(0.05)
    pytest.fail("server did not start")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_env_settings_start_up_line_and_clean_stop(signum: int) -> None:
    port = free_port()
    env = {"PUSHER_APP_ID": "100001", "PUSHER_KEY": "waxos-dev-key", "PUSHER_SECRET": "test-secret"}
    process = start(env, "--port", str(port))
    wait_for_port(port, process)
    process.send_signal(signum)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    started = [line for line in err.splitlines() if "Local Pusher server on" in line]
    assert len(started) == 1 and f"ws://127.0.0.1:{port}/app/waxos-dev-key" in started[0]
    assert "test-secret" not in out + err


def test_env_file_is_read_without_the_rest_of_the_settings(tmp_path: Path) -> None:
    port = free_port()
    env_file = tmp_path / "local.env"
    env_file.write_text(
        f"# only what the local server needs\nPUSHER_APP_ID=100001\nPUSHER_KEY=file-key\n"
        f"PUSHER_SECRET='test-secret'\nPUSHER_PORT={port}\nPUSHER_ENABLE_CLIENT_EVENTS=true\n"
    )
    process = start({"WAXOS_ENV_FILE": str(env_file)})
    wait_for_port(port, process)
    client = pusher.Pusher(
        app_id="100001", key="file-key", secret="test-secret", host="127.0.0.1", port=port, ssl=False
    )
    assert client.channels_info() == {"channels": {}}
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=15)
    assert process.returncode == 0 and "client events on" in err


def test_missing_credentials_are_named() -> None:
    process = start({}, "--app-id", "100001", cwd=Path("/"))
    _, err = process.communicate(timeout=15)
    assert process.returncode == 2
    assert "PUSHER_KEY, PUSHER_SECRET" in err


def test_non_numeric_app_id_is_refused() -> None:
    process = start({"PUSHER_KEY": "k", "PUSHER_SECRET": "s"}, "--app-id", "abc", cwd=Path("/"))
    _, err = process.communicate(timeout=15)
    assert process.returncode == 2 and "numeric" in err


@pytest.mark.parametrize(
    ("env", "args", "named"),
    [
        ({}, ["--app-id", "²"], "PUSHER_APP_ID must be numeric"),
        ({"PUSHER_PORT": "²"}, [], "PUSHER_PORT must be a port number"),
        ({"PUSHER_PORT": "9" * 5_000}, [], "PUSHER_PORT must be a port number"),
        ({"PUSHER_PORT": "70000"}, [], "PUSHER_PORT must be a port number"),
    ],
)
def test_odd_numbers_are_usage_errors(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], args: list[str], named: str
) -> None:
    monkeypatch.chdir("/")
    for name in ("PUSHER_PORT", "WAXOS_ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"PUSHER_APP_ID": "100001", "PUSHER_KEY": "k", "PUSHER_SECRET": "s", **env}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["pusher-server", *args])
    assert result.exit_code == 2 and named in result.output, result.output


ENV_FILE_TEXT = """\
# quoting and comments as pydantic-settings (python-dotenv) reads them
PUSHER_APP_ID=100001 # inline comment
PUSHER_KEY='file-key'
PUSHER_SECRET="sec#ret # not a comment"  # a comment
export pusher_webhook_url=http://127.0.0.1:9/hook
PUSHER_PORT
OTHER_SETTING=ignored
"""


class _PusherSettings(BaseSettings):
    """The service's way of reading these variables (waxos.config.Settings' model config)."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)
    pusher_app_id: str
    pusher_key: str
    pusher_secret: str
    pusher_webhook_url: str


def test_env_file_is_parsed_as_the_service_parses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PUSHER_APP_ID", "PUSHER_KEY", "PUSHER_SECRET", "PUSHER_WEBHOOK_URL", "PUSHER_PORT"):
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / "quoted.env"
    env_file.write_text(ENV_FILE_TEXT)
    values = env_file_values(str(env_file))
    assert values == {
        "PUSHER_APP_ID": "100001",
        "PUSHER_KEY": "file-key",
        "PUSHER_SECRET": "sec#ret # not a comment",
        "PUSHER_WEBHOOK_URL": "http://127.0.0.1:9/hook",
    }
    service = _PusherSettings(_env_file=env_file)  # type: ignore[call-arg]
    assert values["PUSHER_SECRET"] == service.pusher_secret
    assert values["PUSHER_APP_ID"] == service.pusher_app_id


def test_env_file_selection_follows_load_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    named, from_variable, default = (tmp_path / name for name in ("named.env", "variable.env", ".env"))
    for path, key in ((named, "named"), (from_variable, "variable"), (default, "default")):
        path.write_text(f"PUSHER_KEY={key}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WAXOS_ENV_FILE", raising=False)
    assert env_file_values() == {"PUSHER_KEY": "default"}
    monkeypatch.setenv("WAXOS_ENV_FILE", str(from_variable))
    assert env_file_values() == {"PUSHER_KEY": "variable"}
    assert env_file_values(str(named)) == {"PUSHER_KEY": "named"}
    with pytest.raises(click.UsageError, match="does not exist"):
        env_file_values(str(tmp_path / "missing.env"))
    monkeypatch.setenv("WAXOS_ENV_FILE", str(tmp_path / "missing.env"))
    assert env_file_values() == {}


def test_limits_come_from_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[ServerConfig] = []
    monkeypatch.setattr("waxos.cli.pusher_server.run", started.append)
    monkeypatch.chdir("/")
    args = ["--app-id", "1", "--key", "k", "--secret", "s", "--port", "6001"]
    assert CliRunner().invoke(main, ["pusher-server", *args]).exit_code == 0
    extra = ["--max-connections-per-address", "0", "--max-subscriptions-per-connection", "5"]
    assert (
        CliRunner().invoke(main, ["pusher-server", *args, *extra, "--no-subscription-count"]).exit_code == 0
    )
    monkeypatch.setenv("PUSHER_ENABLE_SUBSCRIPTION_COUNT", "false")
    assert CliRunner().invoke(main, ["pusher-server", *args]).exit_code == 0
    default, lifted, _from_env = started
    # Subscription counting is on unless switched off, by flag or variable.
    assert [c.app.enable_subscription_count for c in started] == [True, False, False]
    assert (default.max_connections_per_address, default.app.max_subscriptions_per_connection) == (
        1_000,
        1_000,
    )
    assert (lifted.max_connections_per_address, lifted.app.max_subscriptions_per_connection) == (0, 5)
