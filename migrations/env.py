"""Alembic environment: async engines (aiosqlite, asyncpg), batch mode on SQLite.

The database URL is, in order: a connection handed over by ``server.schema`` (in-process
upgrades), ``config.attributes["database_url"]``, ``sqlalchemy.url`` of the ini file, and
finally ``OUTPOST_DATABASE_URL`` through ``Settings.from_env()``.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from server.db import create_engine
from server.schema import migration_options
from server.settings import Settings

config = context.config
if config.config_file_name is not None:
    # alembic CLI use: log the revisions it runs (in-process use passes no ini file)
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    """Where to migrate: explicit URL first, then the environment's settings."""
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    return str(url) if url else Settings.from_env().database_url


def run_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``) without a database."""
    url = database_url()
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **migration_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_on(connection: Connection) -> None:
    """Run the migrations on one synchronous connection (inside ``run_sync``)."""
    context.configure(connection=connection, **migration_options())
    with context.begin_transaction():
        context.run_migrations()


async def run_async() -> None:
    """Open our own engine (alembic CLI use) and migrate through it."""
    engine = create_engine(database_url())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_offline()
elif (shared := config.attributes.get("connection")) is not None:
    run_on(shared)
else:
    asyncio.run(run_async())
