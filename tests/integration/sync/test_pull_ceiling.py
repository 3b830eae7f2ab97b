"""PostgreSQL: only transactions that can still write the change log hold pulls back, and a
pull held back by one says it is behind (SYNC.md guarantees 1 and 9)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db import create_engine
from tests.conftest import PG_ADMIN_URL
from tests.integration.sync.toy import make_folder


@pytest.fixture(autouse=True)
def _postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no visibility ceiling: a pull reads one committed snapshot")


@asynccontextmanager
async def _open_transaction(url: str) -> AsyncIterator[AsyncConnection]:
    """A transaction holding a transaction id, left open for the block (as a report, a
    realignment or a psql session would)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.begin()
            await conn.execute(sa.text("SELECT pg_current_xact_id()"))
            yield conn
            await conn.rollback()
    finally:
        await engine.dispose()


async def _pull_now(device) -> dict:
    started = time.monotonic()
    page = await device.pull(wait=False)
    page["seconds"] = time.monotonic() - started
    return page


async def test_a_long_transaction_in_another_database_delays_no_pull(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    await rep.pull_all()
    async with _open_transaction(PG_ADMIN_URL):
        folder = await make_folder(toy_db, writer, "t:north")
        page = await _pull_now(rep)
        assert [c["id"] for c in page["changes"]] == [str(folder)]
        assert page["has_more"] is False
        fresh = await make_device(user=rep.user)  # a first full pull sees it too
        assert str(folder) in {c["id"] for c in (await _pull_now(fresh))["changes"]}


async def test_a_long_transaction_in_outposts_database_that_writes_no_change_log_delays_no_pull(
    toy_db, writer, make_device, database_url
):
    rep = await make_device(keys={"t:north"})
    await rep.pull_all()
    async with _open_transaction(database_url) as report:
        # it writes, just not the change log
        await report.execute(sa.text("CREATE TEMPORARY TABLE report_rows (n int)"))
        folder = await make_folder(toy_db, writer, "t:north")
        page = await _pull_now(rep)
        assert [c["id"] for c in page["changes"]] == [str(folder)]
        assert page["has_more"] is False


async def test_an_open_log_writer_makes_the_pull_say_it_is_behind(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    await rep.pull_all()
    slow_session = toy_db.sessions()
    slow = await slow_session.begin()
    try:
        await writer.create(
            slow_session, "folder", {"name": "slow", "scope_key": "t:north"}, principal=None
        )
        fast = await make_folder(toy_db, writer, "t:north", name="fast")  # committed
        page = await _pull_now(rep)
        # the committed change cannot be served before the open writer ends: the device is
        # told it is behind instead of being told it is current
        assert page["changes"] == []
        assert page["has_more"] is True
        assert page["seconds"] >= 0.15  # the server waited a moment before answering
    finally:
        await slow.commit()
        await slow_session.close()
    after = await rep.pull_all()
    assert [c["record"]["name"] for c in after] == ["slow", "fast"]
    assert str(fast) in {c["id"] for c in after}
