"""Read-only sessions: they see committed data and never wait for a writer's lock."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa

from server.auth.middleware import _token_row
from server.db import POSTGRES_SESSION_SETTINGS
from server.sync.models import sync_state


async def test_a_read_does_not_wait_for_an_open_write_transaction(db) -> None:
    async with db.transaction() as writer:
        # the writer holds its lock (BEGIN IMMEDIATE on SQLite) with an uncommitted row
        await writer.execute(sa.insert(sync_state).values(name="probe", value="uncommitted"))

        async def read() -> list[str]:
            async with db.reading() as session:
                return list((await session.execute(sa.select(sync_state.c.name))).scalars())

        # SQLite's busy timeout is 30 s: a read that queued behind the writer would time out here
        seen = await asyncio.wait_for(read(), timeout=10)
        assert "probe" not in seen  # nor does it see what is not committed
        assert await asyncio.wait_for(_token_row(db, uuid.uuid4()), timeout=10) is None
    async with db.reading() as session:
        names = (await session.execute(sa.select(sync_state.c.name))).scalars().all()
    assert "probe" in names


async def test_postgresql_sessions_get_the_planner_settings_of_an_ssd_server(db) -> None:
    if db.dialect != "postgresql":
        pytest.skip("a PostgreSQL session setting")
    async with db.reading() as session:
        value = (await session.execute(sa.text("SHOW random_page_cost"))).scalar_one()
    assert float(value) == float(POSTGRES_SESSION_SETTINGS["random_page_cost"]) < 4
