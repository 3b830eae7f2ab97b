"""The schema's migration state: Alembic configuration, upgrades, and the startup check.

The server refuses to start unless the database is at the head revision of ``migrations/``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

import migrations
from server.db import Database

# ``__path__`` too: an editable install made before ``migrations/__init__.py`` sees a namespace
MIGRATIONS_DIR = Path(migrations.__file__ or next(iter(migrations.__path__))).resolve()
MIGRATIONS_DIR = MIGRATIONS_DIR.parent if MIGRATIONS_DIR.suffix == ".py" else MIGRATIONS_DIR
FILE_TEMPLATE = "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s"


class SchemaNotReady(RuntimeError):
    """The database is empty, behind, or at a revision this code does not know."""

    def __init__(self, message: str, *, current: tuple[str, ...], head: tuple[str, ...]) -> None:
        super().__init__(message)
        self.current = current
        self.head = head


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render our own column types (``server.db.Money`` ...) importably in revisions."""
    module = type(obj).__module__
    if type_ != "type" or not isinstance(obj, sa.TypeDecorator) or module.startswith("sqlalchemy"):
        return False  # the default rendering
    autogen_context.imports.add(f"import {module}")
    if type(obj).__init__ is sa.TypeDecorator.__init__:
        # generic_repr would spell out the impl's arguments; the type itself knows them
        return f"{module}.{type(obj).__name__}()"
    return f"{module}.{obj!r}"


def migration_options() -> dict[str, Any]:
    """Options for ``context.configure``, shared by env.py and the no-drift test."""
    from server.models import Base

    return {
        "target_metadata": Base.metadata,
        "compare_type": True,
        "render_as_batch": True,  # SQLite cannot ALTER most things; batch recreates the table
        "render_item": render_item,
    }


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic ``Config`` built in code (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("truncate_slug_length", "40")
    config.set_main_option("path_separator", "os")
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


def head_revisions() -> tuple[str, ...]:
    """The head revision(s) of the migrations shipped with this code."""
    return tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


async def current_revisions(db: Database) -> tuple[str, ...]:
    """The revision(s) the database is stamped with; empty when it was never migrated."""

    def read(connection: Connection) -> tuple[str, ...]:
        # configure() logs the dialect at INFO: noise on every server start
        logger = logging.getLogger("alembic.runtime.migration")
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
        finally:
            logger.setLevel(level)

    async with db.engine.connect() as connection:
        return await connection.run_sync(read)


async def ensure_migrated(db: Database) -> None:
    """Raise ``SchemaNotReady`` with a clear message unless the database is at head."""
    current = await current_revisions(db)
    head = head_revisions()
    if current == head:
        return
    scripts = ScriptDirectory.from_config(alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    shown = ", ".join(current) or "none (empty database)"
    if current and not set(current) <= known:
        message = (
            f"database revision {shown} is unknown to this version of Outpost "
            f"(head {', '.join(head)}): was it migrated by a newer or older release?"
        )
    else:
        message = (
            "database is not migrated: run `outpost migrate` "
            f"(current revision: {shown}; head: {', '.join(head)})"
        )
    raise SchemaNotReady(message, current=current, head=head)


async def run_command(db: Database, action: Callable[[Config], None]) -> None:
    """Run an Alembic command on the database's own engine, in one transaction."""
    config = alembic_config()

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        action(config)

    async with db.engine.begin() as connection:
        await connection.run_sync(run)


async def upgrade(db: Database, target: str = "head") -> tuple[str, ...]:
    """Upgrade the database to ``target``; returns the revision(s) it is at afterwards."""
    await run_command(db, lambda config: command.upgrade(config, target))
    return await current_revisions(db)


async def downgrade(db: Database, target: str) -> tuple[str, ...]:
    """Downgrade the database to ``target`` (``base`` empties it)."""
    await run_command(db, lambda config: command.downgrade(config, target))
    return await current_revisions(db)


async def table_names(db: Database) -> set[str]:
    """The tables that exist in the database (for checks and tests)."""
    async with db.engine.connect() as connection:
        return set(await connection.run_sync(lambda c: sa.inspect(c).get_table_names()))
