"""`waxos emit` and `waxos prune`: the operator's doorway to the event log."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner, Result

from tests.support.accounts import migrated
from tests.support.events import log_rows
from waxos.cli.main import main
from waxos.db.migrate import upgrade

CHANNEL = "private-workspace-3.chats"
DATA = json.dumps({"chat_id": 4, "message_id": 5, "direction": "outbound", "sender_type": "staff"})


def waxos(database_url: str, tmp_path: Path, *args: str) -> Result:
    env = {
        "WAXOS_ENV_FILE": str(tmp_path / "absent.env"),
        "DATABASE_URL": database_url,
        "PUSHER_APP_ID": "100001",
        "PUSHER_KEY": "test-key",
        "PUSHER_SECRET": "test-secret-value",
        "PUSHER_CLUSTER": "local",
        "WAXOS_LOG_LEVEL": "WARNING",
    }
    return CliRunner().invoke(main, list(args), env=env)


def stored(database_url: str) -> list[tuple[str, int, str]]:
    async def read() -> list[tuple[str, int, str]]:
        async with migrated(database_url) as (_engine, sessions):
            return [(row.channel, row.seq, row.payload) for row in await log_rows(sessions)]

    return asyncio.run(read())


def test_emit_appends_repeated_events_in_one_transaction_and_prints_the_seq_range(
    database_url: str, tmp_path: Path
) -> None:
    asyncio.run(upgrade(database_url))
    first = waxos(database_url, tmp_path, "emit", CHANNEL, "message.new", DATA, "--repeat", "5")
    second = waxos(database_url, tmp_path, "emit", CHANNEL, "message.new", DATA)
    assert first.exit_code == 0, first.output
    assert first.output.startswith(f"seq 1-5 on {CHANNEL} (message.new, 5 event(s), first id ")
    assert second.output.startswith(f"seq 6 on {CHANNEL} ")
    rows = stored(database_url)
    assert [(channel, seq) for channel, seq, _ in rows] == [(CHANNEL, n) for n in range(1, 7)]
    envelope = json.loads(rows[0][2])
    assert envelope["data"]["message_id"] == 5 and envelope["workspace_id"] == 3
    assert len({json.loads(payload)["id"] for *_, payload in rows}) == 6


def test_emit_refuses_what_the_catalogue_or_the_channel_rules_refuse(
    database_url: str, tmp_path: Path
) -> None:
    asyncio.run(upgrade(database_url))
    cases = {
        ("message.nope", DATA): "not a catalogued event",
        ("message.new", '{"chat_id": 1}'): "message_id",
        ("message.new", json.dumps({**json.loads(DATA), "body": "hello"})): "body",
        ("message.new", "[1]"): "JSON object",
        ("message.new", "{"): "invalid event",
    }
    for (event, data), expected in cases.items():
        result = waxos(database_url, tmp_path, "emit", CHANNEL, event, data)
        assert result.exit_code == 2, (event, data, result.output)
        assert expected in result.output
    public = waxos(database_url, tmp_path, "emit", "workspace-3.chats", "message.new", DATA)
    assert public.exit_code == 2 and "private or presence" in public.output
    # No master key (the test settings set none): the relay could never send it, so it is never logged.
    encrypted = waxos(
        database_url, tmp_path, "emit", "private-encrypted-workspace-3.chats", "message.new", DATA
    )
    assert encrypted.exit_code == 2 and "no master key" in encrypted.output
    assert stored(database_url) == []


def test_prune_reports_what_it_removed(database_url: str, tmp_path: Path) -> None:
    asyncio.run(upgrade(database_url))
    waxos(database_url, tmp_path, "emit", CHANNEL, "message.new", DATA)
    result = waxos(database_url, tmp_path, "prune")
    assert result.exit_code == 0, result.output
    # The event is recent and undelivered: nothing may go.
    assert result.output.strip() == "pruned 0 event(s)"
    assert len(stored(database_url)) == 1
