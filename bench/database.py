"""A throwaway benchmark database: created fresh, migrated, dropped at the end."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import asyncpg

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


class BenchDatabase:
    """SQLite: a file in a temp dir. PostgreSQL: ``outpost_bench_<random>`` on 127.0.0.1."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.dir: Path | None = None
        self.pg_name: str | None = None
        self.url = ""
        self.schema_note = ""

    def create(self) -> str:
        """Create the empty database; returns its SQLAlchemy URL."""
        if self.backend == "sqlite":
            self.dir = Path(tempfile.mkdtemp(prefix="outpost-bench-db-"))
            self.url = f"sqlite+aiosqlite:///{self.dir / 'bench.db'}"
        else:
            self.pg_name = f"outpost_bench_{uuid.uuid4().hex[:10]}"
            asyncio.run(_pg_execute(f'CREATE DATABASE "{self.pg_name}"'))
            self.url = PG_URL.format(name=self.pg_name)
        return self.url

    def drop(self) -> None:
        """Remove the database (safe to call twice, and after a failed create)."""
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        if self.pg_name is not None:
            name, self.pg_name = self.pg_name, None
            asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def migrate(self, root: Path) -> None:
        """``outpost migrate``; if the migrations cannot build this schema, fall back to
        ``create_all`` plus ``alembic stamp head`` (and say so in the report)."""
        env = {**os.environ, "OUTPOST_DATABASE_URL": self.url}
        done = subprocess.run([sys.executable, "-m", "server.cli", "migrate"], cwd=root, env=env,
                              capture_output=True, text=True, timeout=300)
        if done.returncode == 0:
            self.schema_note = "`outpost migrate`"
            return
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
        print(f"  outpost migrate failed ({reason[0]}); using create_all + stamp head",
              flush=True)
        self.drop()
        self.create()
        asyncio.run(_create_all_and_stamp(self.url))
        self.schema_note = f"create_all + stamp head (`outpost migrate` failed: {reason[0]})"

    def version(self) -> str:
        """The database engine's version."""
        if self.backend == "sqlite":
            return f"SQLite {sqlite3.sqlite_version}"
        return "PostgreSQL " + str(asyncio.run(_pg_fetchval("SHOW server_version")))


async def _pg_execute(statement: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _pg_fetchval(statement: str) -> object:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


async def _create_all_and_stamp(url: str) -> None:
    from alembic import command

    from server.db import Database, create_engine
    from server.models import Base
    from server.schema import run_command

    db = Database(create_engine(url))
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await run_command(db, lambda config: command.stamp(config, "head"))
    finally:
        await db.dispose()
