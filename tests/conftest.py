"""Shared fixtures: settings, a fresh database per test on SQLite and PostgreSQL, the app."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.db import Database, create_engine
from server.models import Base
from server.settings import Settings

PG_ADMIN_URL = os.environ.get(
    "OUTPOST_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        action="append",
        choices=BACKENDS,
        help="run database tests on this backend only (repeatable); default: both",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--backend") or BACKENDS
        metafunc.parametrize("backend", chosen, scope="session")


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A PostgreSQL database for this test session, created empty and dropped at the end."""
    import asyncio

    name = f"outpost_test_{uuid.uuid4().hex[:10]}"
    admin = PG_ADMIN_URL

    async def run(statement: str) -> None:
        engine = create_engine(admin)
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text(statement))
        await engine.dispose()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    yield admin.rsplit("/", 1)[0] + "/" + name
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of an empty database for one test."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'outpost.db'}"
    return str(request.getfixturevalue("pg_database_url"))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        password_memory_kib=8,  # argon2's minimum: tests stay fast
        password_time_cost=1,
        tombstone_retention_seconds=3600,
        cache_epoch_interval_seconds=0,  # caches checked on every request (the bound is 0.25 s)
    )


async def _reset_schema(db: Database) -> None:
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            await conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            await conn.execute(sa.text("CREATE SCHEMA public"))
        await conn.run_sync(Base.metadata.create_all)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """A fresh, fully created schema (the models' metadata) on the chosen backend."""
    database = Database(create_engine(settings.database_url))
    await _reset_schema(database)
    yield database
    await database.dispose()


@pytest.fixture
async def client(settings: Settings, db: Database) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """An HTTP client talking to an app on the test database (no network).

    The test client runs the app on its own event loop in another thread, and asyncpg
    connections belong to the loop that opened them, so the app gets its own engine on the
    same database (opened and disposed on the app's loop) instead of sharing ``db``'s pool.
    """
    app = create_app(settings, check_schema=False)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client
