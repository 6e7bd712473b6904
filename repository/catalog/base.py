"""Declarative base of the catalog: naming convention, time zones, enums stored as text.

Timestamps are stored in UTC and always come back timezone-aware on both SQLite and PostgreSQL
(SQLite has no time zone type, so a plain ``DateTime(timezone=True)`` would hand back naive
datetimes there and comparisons would silently differ between the two backends).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum as Enum_
from enum import StrEnum
from typing import Annotated, Any

from sqlalchemy import JSON, BigInteger, DateTime, Enum, MetaData, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, UTC out; naive datetimes are refused (they are always a bug here)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored in the catalog")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_value(value: Any) -> Any:
    """A column value as JSON has it: enums by value, times in UTC and days as ISO 8601 text; any
    other value unchanged (the catalog journal's rows, the audit log's parameters)."""
    if isinstance(value, Enum_):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def enum_column(enum: type[StrEnum], length: int = 20) -> Enum:
    """Store a StrEnum as its value in a VARCHAR with a CHECK constraint (portable, readable in SQL)."""
    return Enum(
        enum,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        create_constraint=True,
        name=enum.__name__.lower(),
    )


Timestamp = Annotated[datetime, mapped_column(UtcDateTime())]
BigInt = Annotated[int, mapped_column(BigInteger())]
Sha256 = Annotated[str, mapped_column(String(64))]
Sha512 = Annotated[str, mapped_column(String(128))]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012  (SQLAlchemy reads it from the class)
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }
