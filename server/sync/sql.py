"""Small portable SQL helpers the engine needs on both SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from server.sync.position import is_postgres


async def insert_ignore(
    session: AsyncSession, table: sa.Table, rows: list[dict[str, Any]] | dict[str, Any]
) -> None:
    """INSERT ... ON CONFLICT DO NOTHING (on the primary key)."""
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    statement = insert(table).on_conflict_do_nothing()
    if isinstance(rows, dict):
        await session.execute(statement.values(**rows))
    elif rows:
        await session.execute(statement, rows)


async def upsert(
    session: AsyncSession,
    table: sa.Table,
    values: dict[str, Any],
    keys: list[str],
    update: list[str],
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET the ``update`` columns."""
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    statement = insert(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in update}
    )
    await session.execute(statement)
