"""Operations: the relay's state for platform operators, and usage against the plan for operators and
workspace admins (the console's Relay and Usage pages)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.api.current_user import CurrentUserDep
from waxos.api.deps import ReadSessionDep, SettingsDep
from waxos.api.errors import ApiError
from waxos.auth.models import Role, User, Workspace
from waxos.auth.service import workspaces_of
from waxos.db.base import utcnow
from waxos.events.tables import LoggedEvent
from waxos.relay import outbox, status
from waxos.usage import report
from waxos.usage.live import live_snapshot
from waxos.usage.rollup import LiveCounts
from waxos.usage.tables import NO_WORKSPACE

router = APIRouter(prefix="/api/v1/ops", tags=["operations"])

RECENT_EVENTS = 50
# A relay reports every few seconds; one silent for this long has stopped or lost the database.
SILENT_AFTER = timedelta(seconds=30)
_FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"description": "the caller may not see this"},
    401: {"description": "no valid access token"},
}


def is_operator(user: User) -> bool:
    """Whether the user is a platform operator (sees every workspace's operations)."""
    return user.is_operator


def _require_operator(user: User) -> None:
    if not is_operator(user):
        raise ApiError(403, "forbidden", "only platform operators may see this")


class RelayProcess(BaseModel):
    """One relay process as it last reported itself."""

    owner: str
    provider: str
    endpoint: str
    breaker: str = Field(description="closed (publishing), open (waiting after failures) or half_open")
    consecutive_failures: int
    retry_at: datetime | None
    delivered: int
    rejected: int
    failures: dict[str, int] = Field(description="Failed requests since the relay started, by kind")
    started_at: datetime
    heartbeat_at: datetime
    silent: bool = Field(description="No report for 30 s: the process stopped or lost the database")


class RecentEvent(BaseModel):
    """One of the latest logged events and whether (and how fast) it was delivered."""

    id: str
    channel: str
    seq: int
    type: str
    occurred_at: datetime
    delivered_at: datetime | None
    latency_seconds: float | None


class RelayReport(BaseModel):
    """The relay's state across processes."""

    backlog: int = Field(description="Logged events not yet delivered")
    oldest_undelivered_seconds: float | None
    relays: list[RelayProcess]
    failures_by_kind: dict[str, int]
    recent: list[RecentEvent]


@router.get(
    "/relay",
    summary="The relay: backlog, each relay process's breaker and failures, recent events",
    responses=_FORBIDDEN,
)
async def relay_report(session: ReadSessionDep, user: CurrentUserDep) -> RelayReport:
    """For platform operators."""
    _require_operator(user)
    now = utcnow()
    backlog, oldest = await outbox.backlog(session)
    relays = []
    failures: dict[str, int] = {}
    for row in await status.statuses(session):
        kinds: dict[str, int] = json.loads(row.failures)
        for kind, count in kinds.items():
            failures[kind] = failures.get(kind, 0) + count
        relays.append(
            RelayProcess(
                owner=row.owner,
                provider=row.provider,
                endpoint=row.endpoint,
                breaker=row.breaker,
                consecutive_failures=row.consecutive_failures,
                retry_at=row.retry_at,
                delivered=row.delivered,
                rejected=row.rejected,
                failures=kinds,
                started_at=row.started_at,
                heartbeat_at=row.heartbeat_at,
                silent=now - row.heartbeat_at > SILENT_AFTER,
            )
        )
    # The newest events by id (time-ordered UUIDv7): a walk down the id index, no scan of the log.
    rows = await session.execute(
        select(
            LoggedEvent.id,
            LoggedEvent.channel,
            LoggedEvent.seq,
            LoggedEvent.type,
            LoggedEvent.occurred_at,
            LoggedEvent.delivered_at,
        )
        .order_by(LoggedEvent.id.desc())
        .limit(RECENT_EVENTS)
    )
    recent = [
        RecentEvent(
            id=r.id,
            channel=r.channel,
            seq=r.seq,
            type=r.type,
            occurred_at=r.occurred_at,
            delivered_at=r.delivered_at,
            latency_seconds=(r.delivered_at - r.occurred_at).total_seconds() if r.delivered_at else None,
        )
        for r in rows
    ]
    return RelayReport(
        backlog=backlog,
        oldest_undelivered_seconds=(now - oldest).total_seconds() if oldest else None,
        relays=relays,
        failures_by_kind=dict(sorted(failures.items())),
        recent=recent,
    )


class Limits(BaseModel):
    """The configured plan limits (account-wide, as Pusher counts them)."""

    max_connections: int
    max_messages_per_day: int
    warn_ratio: float


class UsageNumbers(BaseModel):
    """Usage over a period (or now, for the live counts)."""

    events: int = 0
    chat_messages: int = Field(0, description="`message.new` events: chat messages posted")
    pusher_messages: int = Field(0, description="Estimated Pusher messages: events x (1 + subscribers)")
    connections: int = Field(0, description="Peak over the period; current value for `now`")
    subscriptions: int = 0
    presence_members: int = 0


class UsagePoint(BaseModel):
    """One hour or day of a series."""

    start: datetime
    usage: UsageNumbers


class WorkspaceUsage(BaseModel):
    """One workspace: what it uses now, today and over the last 24 hours."""

    workspace_id: int
    name: str
    now: UsageNumbers
    today: UsageNumbers
    last_24h: UsageNumbers


class UsageReport(BaseModel):
    """Usage of the workspaces the caller may see, with the plan's limits."""

    scope: str = Field(description="`all` (an operator's view) or `workspaces` (a workspace admin's)")
    limits: Limits
    now: UsageNumbers
    today: UsageNumbers
    hourly: list[UsagePoint] = Field(description="The last 24 UTC hours, oldest first")
    daily: list[UsagePoint] = Field(description="The last 30 UTC days, oldest first")
    workspaces: list[WorkspaceUsage]


def _numbers(totals: report.Totals) -> UsageNumbers:
    return UsageNumbers(
        events=totals.events,
        chat_messages=totals.chat_messages,
        pusher_messages=totals.pusher_messages,
        connections=totals.connections_peak,
        subscriptions=totals.subscriptions_peak,
        presence_members=totals.presence_peak,
    )


def _live(counts: LiveCounts) -> UsageNumbers:
    return UsageNumbers(
        connections=counts.connections,
        subscriptions=counts.subscriptions,
        presence_members=counts.presence_members,
    )


async def _visible_workspaces(
    session: AsyncSession, user: User, asked: int | None
) -> tuple[str, dict[int, str]]:
    """The workspaces the caller may see (operators: all; admins: theirs), narrowed to `asked`."""
    if is_operator(user):
        statement = select(Workspace.id, Workspace.name).order_by(Workspace.id)
        if asked is not None:
            statement = statement.where(Workspace.id == asked)
        names = {row.id: row.name for row in await session.execute(statement)}
        if asked is not None and not names:
            raise ApiError(404, "not_found", "no such workspace")
        return ("all" if asked is None else "workspaces"), names
    names = {w.id: w.name for w, role in await workspaces_of(session, user.id) if role is Role.ADMIN}
    if not names:
        raise ApiError(403, "forbidden", "usage is for platform operators and workspace admins")
    if asked is not None:
        if asked not in names:
            raise ApiError(404, "not_found", "no such workspace among those you administer")
        names = {asked: names[asked]}
    return "workspaces", names


@router.get(
    "/usage",
    summary="Usage against the plan: now, per hour (24 h) and per day (30 days)",
    responses={**_FORBIDDEN, 404: {"description": "no such workspace among the caller's"}},
)
async def usage_report(
    session: ReadSessionDep,
    user: CurrentUserDep,
    settings: SettingsDep,
    workspace_id: Annotated[int | None, Query(ge=1, description="Only this workspace")] = None,
) -> UsageReport:
    """Operators see every workspace (and events on users' own channels); a workspace admin sees theirs."""
    scope, names = await _visible_workspaces(session, user, workspace_id)
    # An operator's account-wide view counts user channels too: Pusher's limits do.
    ids: set[int] | None = None if scope == "all" else set(names)
    now = utcnow()
    today_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    live = (await live_snapshot(session)).workspaces
    today = await report.by_workspace(session, ids, today_start)
    day = await report.by_workspace(session, ids, now - timedelta(hours=24))
    total_today = report.Totals()
    for totals in today.values():  # already only the visible workspaces'
        total_today.add(totals)
    seen = [counts for workspace, counts in live.items() if ids is None or workspace in ids]
    total_live = LiveCounts(
        sum(c.connections for c in seen),
        sum(c.subscriptions for c in seen),
        sum(c.presence_members for c in seen),
    )
    return UsageReport(
        scope=scope,
        limits=Limits(
            max_connections=settings.waxos_plan_max_connections,
            max_messages_per_day=settings.waxos_plan_max_messages_per_day,
            warn_ratio=settings.waxos_plan_warn_ratio,
        ),
        now=_live(total_live),
        today=_numbers(total_today),
        hourly=[
            UsagePoint(start=p.start, usage=_numbers(p.totals))
            for p in await report.hourly(session, ids, now)
        ],
        daily=[
            UsagePoint(start=p.start, usage=_numbers(p.totals)) for p in await report.daily(session, ids, now)
        ],
        workspaces=[
            WorkspaceUsage(
                workspace_id=workspace,
                name=name,
                now=_live(live.get(workspace, LiveCounts())),
                today=_numbers(today.get(workspace, report.Totals())),
                last_24h=_numbers(day.get(workspace, report.Totals())),
            )
            for workspace, name in names.items()
            if workspace != NO_WORKSPACE
        ],
    )
