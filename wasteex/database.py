"""The declarative base, its constraint naming convention and shared column types.

Kept apart from ``extensions`` so that models import only what they need and
Alembic autogenerate sees stable constraint names on SQLite and PostgreSQL.
"""
import enum
from datetime import datetime, timezone
from typing import Annotated

from sqlalchemy import BigInteger, DateTime, Enum, Integer, MetaData, String, TypeDecorator, func
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Aware UTC now; evaluated per row, never once at import."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC that always comes back timezone-aware.

    SQLite drops the offset; this puts it back so comparisons with
    ``utcnow()`` work on both engines. Migrations render it as
    ``sa.DateTime(timezone=True)`` (see migrations/env.py).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001 - SQLAlchemy hook
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):  # noqa: ANN001 - SQLAlchemy hook
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
bigint = Annotated[int, mapped_column(BigInteger)]
str40 = Annotated[str, mapped_column(String(40))]
str120 = Annotated[str, mapped_column(String(120))]
str255 = Annotated[str, mapped_column(String(255))]
created_at = Annotated[
    datetime,
    mapped_column(UTCDateTime(), default=utcnow, server_default=func.current_timestamp()),
]


def str_enum(enum_cls: type[enum.Enum], length: int = 24) -> Enum:
    """A Python Enum stored as its value in a VARCHAR (portable, readable in SQL)."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def use_sqlite_transactions(engine) -> None:
    """Let SQLAlchemy, not pysqlite, begin transactions on SQLite.

    pysqlite begins transactions lazily and its first ``RELEASE SAVEPOINT``
    commits everything when none was open; SQLAlchemy's documented recipe
    (disable the driver's handling, emit BEGIN ourselves) makes savepoints,
    which the per-line import relies on, behave as on PostgreSQL.
    """
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")
