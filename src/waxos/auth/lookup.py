"""`StaffLookup`: reads a user and their role in a workspace for many concurrent requests at once.

Channel authorization must read the user and the membership from the database on every request, so
that a deleted user or a removed membership loses access at once. Under load, hundreds of those reads
are in flight together; each costs far more in driver and SQLAlchemy overhead than in the database.
So requests that arrive while a read is running wait for the next one, which answers all of them with
a single query. There is no delay: an idle lookup sends a lone request's query immediately, and every
answer comes from a read that started after its request arrived, so nothing is ever served stale.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from waxos.auth.models import Membership, Role, User
from waxos.auth.tokens import AccessToken
from waxos.db.engine import read_only

# Bounds one query's IN lists; a bigger backlog is answered by the following queries.
MAX_BATCH = 256

Key = tuple[int, int | None]

# Built once: constructing the statement costs more CPU than running it. Users outer-joined with their
# memberships in the workspaces asked about; a user without a row here does not exist.
_STANDINGS = (
    select(User.id, User.name, User.token_generation, Membership.workspace_id, Membership.role)
    .outerjoin(
        Membership,
        and_(
            Membership.user_id == User.id,
            Membership.workspace_id.in_(bindparam("workspace_ids", expanding=True)),
        ),
    )
    .where(User.id.in_(bindparam("user_ids", expanding=True)))
)


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """A user as read from the database for one request."""

    id: int
    name: str
    token_generation: int


@dataclass(frozen=True, slots=True)
class Standing:
    """A user and their role in the workspace asked about (None: not a member, or none asked)."""

    user: StaffRecord
    role: Role | None


class StaffLookup:
    """Batches concurrent (user id, workspace id) reads into one query each; see the module docstring."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Read-only: on SQLite the read then neither waits for writers nor makes them wait.
        self._reads = read_only(engine)
        self._waiting: dict[Key, asyncio.Future[Standing | None]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def standing(self, user_id: int, workspace_id: int | None) -> Standing | None:
        """The user and their role in `workspace_id`, or None when the user does not exist."""
        key = (user_id, workspace_id)
        future = self._waiting.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            # Marks an exception as retrieved even if every requester has gone away meanwhile.
            future.add_done_callback(lambda done: done.cancelled() or done.exception())
            self._waiting[key] = future
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_while_waiting())
        # Shielded: one requester giving up must not cancel the answer others share.
        return await asyncio.shield(future)

    async def standing_of(self, token: AccessToken, workspace_id: int | None) -> Standing | None:
        """Like `standing`, for the user a token names: None as well when the user under that id is not
        the one the token was issued to (another token generation)."""
        standing = await self.standing(token.user_id, workspace_id)
        if standing is None or standing.user.token_generation != token.generation:
            return None
        return standing

    async def _read_while_waiting(self) -> None:
        try:
            while self._waiting:
                keys = list(self._waiting)[:MAX_BATCH]
                futures = [self._waiting.pop(key) for key in keys]
                try:
                    answers = await self._read(keys)
                except Exception as exc:  # every requester of this batch gets the failure
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for key, future in zip(keys, futures, strict=True):
                    if not future.done():
                        future.set_result(answers.get(key))
        finally:
            self._reader = None

    async def _read(self, keys: Sequence[Key]) -> dict[Key, Standing]:
        parameters = {
            "user_ids": sorted({user_id for user_id, _ in keys}),
            "workspace_ids": sorted({workspace_id for _, workspace_id in keys if workspace_id is not None}),
        }
        # Autocommit: a single read needs no BEGIN/COMMIT round trips around it.
        async with self._reads.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            rows = (await autocommit.execute(_STANDINGS, parameters)).all()
        users: dict[int, StaffRecord] = {}
        roles: dict[Key, Role] = {}
        for user_id, name, generation, workspace_id, role in rows:
            users[user_id] = StaffRecord(user_id, name, generation)
            if role is not None:  # NULL when the outer join found no membership
                roles[(user_id, workspace_id)] = role
        return {key: Standing(users[key[0]], roles.get(key)) for key in keys if key[0] in users}
