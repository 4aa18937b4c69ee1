"""The declarative base every model derives from, with a naming convention for constraints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# 64-bit ids, except on SQLite, which auto-increments only a column declared exactly INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")

NEVER_REUSE_IDS: dict[str, Any] = {"sqlite_autoincrement": True}
"""Table arguments for every table with a generated integer id (the rule, tested on every table).

Without AUTOINCREMENT, SQLite hands out the largest id in use plus one, so deleting the newest row frees
its id for the next one: a deleted user's still-valid token, or a deleted workspace's channels and event
history, would pass to the next account given that id. PostgreSQL's sequences never go back, so this
only changes SQLite. Use it as the last item of `__table_args__`:

    __table_args__ = (Index(...), NEVER_REUSE_IDS)    # or: __table_args__ = NEVER_REUSE_IDS
    id: Mapped[int] = mapped_column(Id, primary_key=True)
"""


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of all models."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
