"""`waxos migrate` and `waxos seed-demo`, run through the real command line entry point."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from tests.support.cli import write_env_file
from waxos.auth.models import Membership, Role, User, Workspace
from waxos.auth.passwords import verify_password
from waxos.cli.main import main
from waxos.db.engine import make_engine, make_sessionmaker, transaction


async def _accounts(database_url: str) -> tuple[list[tuple[str, str, Role]], dict[str, str]]:
    engine = make_engine(database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            rows = await session.execute(
                select(Workspace.name, User.email, Membership.role)
                .join(Membership, Membership.workspace_id == Workspace.id)
                .join(User, User.id == Membership.user_id)
                .order_by(Workspace.id, User.id)
            )
            hashes = {user.email: user.password_hash for user in await session.scalars(select(User))}
            return [(w, e, r) for w, e, r in rows], hashes
    finally:
        await engine.dispose()


def test_seed_demo_creates_the_demo_accounts_once_and_prints_logins(
    tmp_path: Path, database_url: str
) -> None:
    env_file = write_env_file(tmp_path, database_url)
    runner = CliRunner()
    first = runner.invoke(main, ["--env-file", env_file, "seed-demo", "--password", "demo-test-pass"])
    assert first.exit_code == 0, first.output
    assert "admin@acme.test" in first.output
    assert "demo-test-pass" in first.output
    seeded, hashes = asyncio.run(_accounts(database_url))

    again = runner.invoke(main, ["--env-file", env_file, "seed-demo", "--password", "demo-test-pass"])
    assert again.exit_code == 0, again.output
    reseeded, rehashed = asyncio.run(_accounts(database_url))

    assert seeded == [
        ("Acme", "admin@acme.test", Role.ADMIN),
        ("Acme", "agent@acme.test", Role.AGENT),
        ("Acme", "agent2@acme.test", Role.AGENT),
        ("Globex", "admin@globex.test", Role.ADMIN),
    ]
    assert reseeded == seeded
    assert rehashed == hashes, "an unchanged password is not re-hashed"
    assert verify_password(hashes["agent@acme.test"], "demo-test-pass")


def test_migrate_applies_the_migrations(tmp_path: Path, database_url: str) -> None:
    result = CliRunner().invoke(main, ["--env-file", write_env_file(tmp_path, database_url), "migrate"])
    assert result.exit_code == 0, result.output
    assert asyncio.run(_accounts(database_url)) == ([], {})


def test_seed_demo_refuses_to_run_in_production(tmp_path: Path) -> None:
    database = tmp_path / "never-created.db"
    env_file = write_env_file(
        tmp_path,
        f"sqlite+aiosqlite:///{database}",
        WAXOS_ENV="production",
        PUSHER_APP_ID="2073332",
        PUSHER_SECRET="a-production-like-test-secret",
        WAXOS_SECRET_KEY=secrets.token_urlsafe(32),
    )
    result = CliRunner().invoke(main, ["--env-file", env_file, "seed-demo"])
    assert result.exit_code != 0
    assert "refuses to run in production" in result.output
    assert not database.exists()
