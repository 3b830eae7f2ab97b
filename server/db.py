"""Database wiring: the declarative base, portable column types, the engine and transactions."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base shared by every model; one metadata for Alembic."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on every backend."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; Outpost stores timezone-aware UTC only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        stamp: dt.datetime = value
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC)


_MONEY_QUANTUM = decimal.Decimal("0.0001")


class Money(sa.TypeDecorator[decimal.Decimal]):
    """An exact decimal: NUMERIC on PostgreSQL, text on SQLite (which has no exact decimal)."""

    impl = sa.Numeric(18, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(40))
        return dialect.type_descriptor(sa.Numeric(18, 4))

    def process_bind_param(self, value: decimal.Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        # The same scale on both backends, so a value reads back identically everywhere.
        value = decimal.Decimal(value).quantize(_MONEY_QUANTUM, rounding=decimal.ROUND_HALF_UP)
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> decimal.Decimal | None:
        if value is None:
            return None
        return decimal.Decimal(str(value))


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def new_id() -> uuid.UUID:
    """A fresh time-ordered UUIDv7 (sortable; devices create ids the same way)."""
    from protocol.ids import uuid7

    return uuid7()


_READ_ONLY = "outpost_read_only"
_NO_WRITES = "outpost_no_writes"  # session.info flag of a SQLite read-only session

# Set on every PostgreSQL session Outpost opens. The default random_page_cost (4) models a
# spinning disk: with it the planner joined a push's 400 keyed rows (unnest) to an 80,000-row
# table by a sequential scan and a hash (24 ms) rather than 400 index probes (4.6 ms). 1.1 is
# PostgreSQL's suggestion for SSDs and cached data, which is what an Outpost server runs on.
POSTGRES_SESSION_SETTINGS = {"random_page_cost": "1.1"}


def create_engine(
    database_url: str,
    *,
    echo: bool = False,
    idle_in_transaction_timeout_seconds: float = 0,
    pool_size: int = 10,
    max_overflow: int = 10,
) -> AsyncEngine:
    """Create the async engine; SQLite gets WAL, foreign keys and serialized writers.

    ``idle_in_transaction_timeout_seconds`` (PostgreSQL; 0: none): the server ends a session
    left idle inside a transaction for longer (``idle_in_transaction_session_timeout``).
    ``pool_size`` PostgreSQL sessions stay open in the pool; ``max_overflow`` more are opened
    under a burst and closed when returned (settings ``db_pool_size``, ``db_max_overflow``)."""
    if database_url.startswith("sqlite"):
        engine = create_async_engine(
            database_url, echo=echo, connect_args={"timeout": 30}, pool_size=5
        )

        @sa.event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control from the driver so BEGIN IMMEDIATE below is ours.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @sa.event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            # One writer at a time, taken at BEGIN: no lock upgrades, no SQLITE_BUSY deadlocks,
            # and change-log numbers are handed out in commit order. A read-only transaction
            # takes no lock: in WAL mode it reads one snapshot while a writer works.
            read_only = conn.get_execution_options().get(_READ_ONLY, False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_async_engine(
        database_url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        connect_args={
            "server_settings": postgres_session_settings(idle_in_transaction_timeout_seconds)
        },
    )


def postgres_session_settings(idle_in_transaction_timeout_seconds: float = 0) -> dict[str, str]:
    """The settings every PostgreSQL session of Outpost starts with."""
    settings = dict(POSTGRES_SESSION_SETTINGS)
    if idle_in_transaction_timeout_seconds > 0:
        milliseconds = max(1, round(idle_in_transaction_timeout_seconds * 1000))
        settings["idle_in_transaction_session_timeout"] = str(milliseconds)
    return settings


class Database:
    """The engine and a session factory; services open transactions through it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def read_options(self) -> dict[str, Any]:
        """Connection options for reads that write nothing: autocommit on PostgreSQL (no BEGIN
        and COMMIT round trips; each statement reads its own snapshot), a deferred transaction
        on SQLite (one snapshot, and no wait for the writer's lock)."""
        if self.dialect == "postgresql":
            return {"isolation_level": "AUTOCOMMIT"}
        return {_READ_ONLY: True}

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads (see ``read_options``). On PostgreSQL a write in it commits at
        once (autocommit); on SQLite it must not write at all (``writable`` says which)."""
        async with self.sessions() as session:
            await session.connection(execution_options=self.read_options)
            if self.dialect != "postgresql":
                session.info[_NO_WRITES] = True
            yield session

    @staticmethod
    def writable(session: AsyncSession) -> bool:
        """False for a SQLite read-only session: a deferred transaction that writes after
        another writer committed fails, so code that may write must use ``transaction()``."""
        return not session.info.get(_NO_WRITES, False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def str_enum(enum_type: type[Any]) -> sa.Enum:
    """A portable enum column stored as its string values (no native PostgreSQL type)."""
    return sa.Enum(
        enum_type,
        native_enum=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


async def row_by_id(
    session: AsyncSession, table: sa.Table, row_id: uuid.UUID, *, lock: bool = False
) -> Any:
    """The row of ``table`` whose ``id`` is ``row_id``, or None; with ``lock``, locked FOR
    UPDATE until the transaction ends (SQLite ignores it: its one writer holds the file)."""
    statement = sa.select(table).where(table.c.id == row_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).first()
