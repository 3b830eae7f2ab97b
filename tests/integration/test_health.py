"""``GET /health/ready`` for load balancers, and the idle-in-transaction limit on Outpost's own
PostgreSQL sessions (operations can see and bound sync lag)."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.db import Database, create_engine
from server.settings import Settings
from tests.integration.sfa.core_builders import create


def _app(settings: Settings, **changes):
    return create_app(msgspec.structs.replace(settings, **changes), check_schema=False)


async def _ready(settings: Settings, **changes) -> tuple[int, dict]:
    async with AsyncTestClient(app=_app(settings, **changes)) as client:
        response = await client.get("/health/ready")  # no token: load balancers have none
    return response.status_code, response.json()


async def test_ready_answers_200_without_a_token_when_the_database_answers(settings, db) -> None:
    await create(db, "account", {"name": "Acme"})
    status, body = await _ready(settings)
    assert status == 200, body
    assert body == {
        "status": "ready",
        "database": "ok",
        "pull_lag_seconds": 0.0,
        "held_back_changes": 0,
        "max_pull_lag_seconds": settings.ready_max_pull_lag_seconds,
    }


async def test_ready_answers_503_when_the_database_does_not_answer(backend, settings, tmp_path):
    url = (
        f"sqlite+aiosqlite:///{tmp_path}/missing/dir/outpost.db"
        if backend == "sqlite"
        else "postgresql+asyncpg://postgres@127.0.0.1:1/outpost"
    )
    status, body = await _ready(settings, database_url=url)
    assert status == 503
    assert (body["status"], body["database"], body["pull_lag_seconds"]) == (
        "unavailable",
        "unavailable",
        None,
    )
    assert "127.0.0.1" not in str(body) and "missing" not in str(body)  # no connection detail


async def test_ready_answers_503_with_the_lag_when_an_open_log_writer_holds_pulls_back(
    backend, settings, db
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite pulls read every committed row: nothing is ever held back")
    from tests.synctools import writer

    w = writer()
    session = db.sessions()
    transaction = await session.begin()
    try:
        await w.create(session, "account", {"name": "still writing"}, principal=None)
        await create(db, "account", {"name": "committed"})  # acknowledged, but held back
        await asyncio.sleep(0.3)
        status, body = await _ready(settings, ready_max_pull_lag_seconds=0.2)
        assert status == 503, body
        assert (body["status"], body["database"]) == ("lagging", "ok")
        assert body["held_back_changes"] == 1
        assert 0.3 <= body["pull_lag_seconds"] < 30
        assert body["max_pull_lag_seconds"] == 0.2
        under_limit, _ = await _ready(settings, ready_max_pull_lag_seconds=60)
        assert under_limit == 200
    finally:
        await transaction.rollback()
        await session.close()
    status, body = await _ready(settings, ready_max_pull_lag_seconds=0.2)
    assert status == 200 and body["pull_lag_seconds"] == 0.0


def test_the_idle_in_transaction_timeout_is_a_setting() -> None:
    env = {"OUTPOST_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS": "2.5"}
    assert Settings.from_env(env).idle_in_transaction_timeout_seconds == 2.5
    assert Settings.from_env({}).idle_in_transaction_timeout_seconds == 60.0
    env = {"OUTPOST_READY_MAX_PULL_LAG_SECONDS": "5"}
    assert Settings.from_env(env).ready_max_pull_lag_seconds == 5.0


async def test_outpost_sessions_idle_in_a_transaction_are_ended(backend, settings) -> None:
    if backend != "postgresql":
        pytest.skip("a PostgreSQL session setting")
    app = _app(settings, idle_in_transaction_timeout_seconds=0.5)
    database: Database = app.state.db
    try:
        async with database.engine.connect() as conn:
            shown = await conn.execute(sa.text("SHOW idle_in_transaction_session_timeout"))
            assert shown.scalar_one() == "500ms"
        session = database.sessions()
        await session.begin()
        await session.execute(sa.text("SELECT pg_current_xact_id()"))
        await asyncio.sleep(1.2)  # idle inside the transaction past the limit
        with pytest.raises(sa.exc.DBAPIError):
            await session.execute(sa.text("SELECT 1"))
        await session.close()
    finally:
        await database.dispose()
    plain = Database(create_engine(settings.database_url))
    try:
        async with plain.engine.connect() as conn:  # without the setting: PostgreSQL's default
            shown = await conn.execute(sa.text("SHOW idle_in_transaction_session_timeout"))
            assert shown.scalar_one() == "0"
    finally:
        await plain.dispose()
