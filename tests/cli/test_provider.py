"""`waxos provider status|use`, run through the real command line entry point, on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner

from tests.support.cli import write_env_file
from waxos.cli.main import main
from waxos.db.migrate import upgrade

SECONDARY = {
    "PUSHER_SECONDARY_APP_ID": "200002",
    "PUSHER_SECONDARY_KEY": "second-key",
    "PUSHER_SECONDARY_SECRET": "second-secret-value",
    "PUSHER_SECONDARY_HOST": "soketi.internal",
    "PUSHER_SECONDARY_PORT": "6002",
}


def test_status_and_use_switch_by_hand_with_a_new_epoch(tmp_path: Path, database_url: str) -> None:
    asyncio.run(upgrade(database_url))
    env_file = write_env_file(tmp_path, database_url, **SECONDARY)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, ["--env-file", env_file, "provider", *args])
        assert result.exit_code == 0, result.output
        return result.output

    status = run("status")
    assert "active: primary, epoch 1" in status and "(initial: initial)" in status
    assert "secondary app 200002 at soketi.internal:6002" in status
    assert "second-secret-value" not in status
    assert "switched from primary to active: secondary, epoch 2" in run(
        "use", "secondary", "--reason", "drill"
    )
    assert "(manual: drill)" in run("status")
    assert "secondary is already active" in run("use", "secondary")
    assert "active: primary, epoch 3" in run("use", "primary")


def test_use_secondary_without_one_configured_fails_and_changes_nothing(
    tmp_path: Path, database_url: str
) -> None:
    asyncio.run(upgrade(database_url))
    env_file = write_env_file(tmp_path, database_url)
    runner = CliRunner()
    refused = runner.invoke(main, ["--env-file", env_file, "provider", "use", "secondary"])
    assert refused.exit_code == 1 and "no secondary provider is configured" in refused.output
    status = runner.invoke(main, ["--env-file", env_file, "provider", "status"])
    assert "active: primary, epoch 1" in status.output and "secondary not configured" in status.output


def test_a_misconfigured_secondary_stops_the_command_naming_the_variable(
    tmp_path: Path, database_url: str
) -> None:
    env_file = write_env_file(tmp_path, database_url, PUSHER_SECONDARY_KEY="second-key")
    result = CliRunner().invoke(main, ["--env-file", env_file, "provider", "status"])
    assert result.exit_code == 2
    assert "PUSHER_SECONDARY_APP_ID" in result.output and "PUSHER_SECONDARY_SECRET" in result.output
